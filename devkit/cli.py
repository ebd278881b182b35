"""``commerce``: the platform's command line — open-data import and demo seed, through the API."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from devkit.client import ApiClient, ApiError
from devkit.importing import FileReport, Importer, Outcome, RowError

app = typer.Typer(help="Milan commerce platform command line.", no_args_is_help=True, add_completion=False)
console = Console(stderr=True)

GatewayOption = Annotated[str, typer.Option(envvar="GATEWAY_URL", help="Gateway base URL.")]
UserOption = Annotated[str, typer.Option(envvar="COMMERCE_USERNAME", help="Office account.")]
PasswordOption = Annotated[
    str, typer.Option(envvar=["COMMERCE_PASSWORD", "DEMO_PASSWORD"], help="Its password.", show_default=False)
]


def _plugins(group: str) -> list[tuple[str, Any]]:
    found = []
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        try:
            found.append((ep.name, ep.load()))
        except (ImportError, AttributeError) as exc:
            console.print(f"[yellow]skipping plugin {ep.name}: {exc}[/]")
    return found


def available_importers() -> list[Importer]:
    importers: list[Importer] = []
    for _name, exported in _plugins("commerce.importers"):
        importers.extend(exported)
    return sorted(importers, key=lambda i: (i.priority, i.name))


async def _import_file(
    api: ApiClient, importer: Importer, path: Path, progress: Progress, concurrency: int
) -> FileReport:
    report = FileReport(path, importer.name)
    try:
        rows = list(importer.rows(path))
    except (OSError, ValueError, RowError) as exc:
        report.rejected.append((0, f"file unreadable: {exc}"))
        return report
    report.rows = len(rows)
    task = progress.add_task(f"{path.name} ({importer.name})", total=len(rows))
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for row in rows:
        queue.put_nowait(row)

    async def worker() -> None:
        while not queue.empty():
            row = queue.get_nowait()
            try:
                outcome = await importer.load(api, row)
                report.outcomes[outcome.value] += 1
            except RowError as exc:
                report.rejected.append((row.line, str(exc)))
            except ApiError as exc:
                report.rejected.append((row.line, f"refused by the platform: {exc.detail}"))
            progress.advance(task)

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    report.rejected.sort()
    return report


async def run_import(directory: Path, gateway: str, username: str, password: str, concurrency: int) -> list[FileReport]:
    importers = available_importers()
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    plan: list[tuple[Importer, Path]] = []
    for importer in importers:
        plan.extend((importer, path) for path in files if importer.matches(path))
    matched = {p for _, p in plan}
    for path in files:
        if path not in matched:
            console.print(f"[dim]no importer for {path.name}; skipped[/]")
    reports: list[FileReport] = []
    async with ApiClient(gateway) as api:
        await api.login(username, password)
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as progress:
            for importer, path in plan:
                reports.append(await _import_file(api, importer, path, progress, concurrency))
    return reports


def print_reports(reports: list[FileReport]) -> None:
    table = Table(title="Import summary")
    for column in ("file", "importer", "rows", "created", "updated", "unchanged", "rejected"):
        table.add_column(column, justify="left" if column in {"file", "importer"} else "right")
    for r in reports:
        table.add_row(
            r.path.name,
            r.importer,
            str(r.rows),
            str(r.outcomes[Outcome.CREATED]),
            str(r.outcomes[Outcome.UPDATED]),
            str(r.outcomes[Outcome.UNCHANGED]),
            str(len(r.rejected)),
        )
    console.print(table)
    for r in reports:
        for line, reason in r.rejected[:50]:
            console.print(f"[red]{r.path.name}:{line}[/] {reason}")
        if len(r.rejected) > 50:
            console.print(f"[red]{r.path.name}[/]: {len(r.rejected) - 50} more rejected rows")


def _password(password: str | None) -> str:
    if password:
        return password
    if os.environ.get("PROFILE", "local") == "local":
        return "office-demo"
    console.print("[red]set COMMERCE_PASSWORD (or --password) for the office account[/]")
    raise typer.Exit(2)


@app.command("import")
def import_command(
    directory: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Folder with open-data files.")],
    gateway: GatewayOption = "http://127.0.0.1:8000",
    username: UserOption = "office",
    password: PasswordOption = "",
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Rows in flight.")] = 8,
    report: Annotated[Path | None, typer.Option(help="Write the summary as JSON here.")] = None,
) -> None:
    """Import every official open-data file found in DIRECTORY through the API (idempotent)."""
    try:
        reports = asyncio.run(run_import(directory, gateway, username, _password(password), concurrency))
    except ApiError as exc:
        console.print(f"[red]the platform refused the import: {exc}[/]")
        raise typer.Exit(1) from exc
    print_reports(reports)
    if report:
        report.write_text(
            json.dumps(
                [
                    {
                        "file": str(r.path),
                        "importer": r.importer,
                        "rows": r.rows,
                        **r.outcomes,
                        "rejected": [{"line": line, "reason": reason} for line, reason in r.rejected],
                    }
                    for r in reports
                ],
                indent=2,
            )
        )
    if not reports:
        console.print(f"[yellow]no importable file in {directory}[/]")
        raise typer.Exit(2)


async def run_seed(gateway: str, username: str, password: str) -> None:
    seeds: list[tuple[str, Callable[[ApiClient], Awaitable[None]]]] = _plugins("commerce.seeds")
    async with ApiClient(gateway) as api:
        await api.login(username, password)
        for name, seed in seeds:
            console.print(f"seeding {name}…")
            await seed(api)


@app.command("seed")
def seed_command(
    gateway: GatewayOption = "http://127.0.0.1:8000",
    username: UserOption = "office",
    password: PasswordOption = "",
) -> None:
    """Load the demo data (idempotent: running it twice changes nothing)."""
    try:
        asyncio.run(run_seed(gateway, username, _password(password)))
    except ApiError as exc:
        console.print(f"[red]seeding failed: {exc}[/]")
        raise typer.Exit(1) from exc


def main() -> None:
    sys.exit(app())


if __name__ == "__main__":
    main()

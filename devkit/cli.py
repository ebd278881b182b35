"""``commerce``: the platform's command line — open-data import and demo seed, through the API.

``commerce import DIR`` uploads each file of DIR that one of the gateway's importers reads to
``POST /api/v1/imports`` (the geography first) and follows its job to the end, with a progress bar;
the jobs say why a row was refused in Italian, or in English with ``--lang en``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any

import typer
from gateway.imports.domain import Source, recognise
from gateway.imports.importers import IMPORTERS
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from devkit.client import ApiClient, ApiError


class Language(StrEnum):
    IT = "it"
    EN = "en"


app = typer.Typer(help="Milan commerce platform command line.", no_args_is_help=True, add_completion=False)
console = Console(stderr=True)

GatewayOption = Annotated[str, typer.Option(envvar="GATEWAY_URL", help="Gateway base URL.")]
UserOption = Annotated[str, typer.Option(envvar="COMMERCE_USERNAME", help="Office account.")]
PasswordOption = Annotated[
    str, typer.Option(envvar=["COMMERCE_PASSWORD", "DEMO_PASSWORD"], help="Its password.", show_default=False)
]
LanguageOption = Annotated[
    Language, typer.Option("--lang", help="Language of the import reports (sent as Accept-Language).")
]


def _plugins(group: str) -> list[tuple[str, Any]]:
    found = []
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        try:
            found.append((ep.name, ep.load()))
        except (ImportError, AttributeError) as exc:
            console.print(f"[yellow]skipping plugin {ep.name}: {exc}[/]")
    return found


FINISHED = ("done", "failed", "interrupted")
OUTCOMES = ("created", "updated", "unchanged")


@dataclass
class FileReport:
    """What the gateway's import job made of one file."""

    path: Path
    importer: str
    state: str = "queued"
    rows: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    rejected_count: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    error: str | None = None

    def follow(self, job: dict[str, Any]) -> None:
        self.state = str(job["state"])
        self.rows = int(job["rows_total"] or 0)
        self.outcomes = {name: int(job["outcomes"][name]) for name in OUTCOMES}
        self.rejected_count = int(job["rejected_count"])
        self.rejected = [(int(r["line"]), str(r["reason"])) for r in job["rejected"]]
        self.error = job.get("error")


def plan_of(directory: Path) -> list[tuple[Path, str]]:
    """The files of ``directory`` an importer of the gateway reads, in the order they are imported
    (the geography before what it locates); the others are named and skipped."""
    plan: list[tuple[int, Path, str]] = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        importer = recognise(IMPORTERS, Source(path.name, path.read_bytes()))
        if importer is None:
            console.print(f"[dim]no importer for {path.name}; skipped[/]")
            continue
        plan.append((importer.priority, path, importer.name))
    return [(path, name) for _, path, name in sorted(plan, key=lambda p: (p[0], str(p[1])))]


async def _import_file(api: ApiClient, path: Path, importer: str, progress: Progress, poll_s: float) -> FileReport:
    """Upload one file to ``POST /imports`` and follow its job to the end."""
    report = FileReport(path, importer)
    job = await api.post("/imports", files={"file": (path.name, path.read_bytes())}, ok=(413, 422))
    if job["_status"] in (413, 422):
        report.state, report.error = "refused", str(job.get("detail") or job.get("title"))
        console.print(f"[yellow]{path.name}: the gateway refused the file: {report.error}[/]")
        return report
    task = progress.add_task(f"{path.name} ({job['importer']})", total=None)
    while True:
        report.follow(job)
        progress.update(task, total=job["rows_total"], completed=job["rows_done"])
        if report.state in FINISHED:
            return report
        await asyncio.sleep(poll_s)
        job = await api.get(f"/imports/{job['id']}")


async def run_import(
    directory: Path, gateway: str, username: str, password: str, poll_s: float = 0.5, language: str = "it"
) -> list[FileReport]:
    """Each importable file of ``directory`` uploaded and followed; the jobs speak ``language``."""
    plan = plan_of(directory)
    reports: list[FileReport] = []
    if not plan:
        return reports
    async with ApiClient(gateway) as api:
        api.http.headers["Accept-Language"] = language
        await api.login(username, password)
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as progress:
            for path, importer in plan:
                reports.append(await _import_file(api, path, importer, progress, poll_s))
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
            str(r.outcomes["created"]),
            str(r.outcomes["updated"]),
            str(r.outcomes["unchanged"]),
            str(r.rejected_count),
        )
    console.print(table)
    for r in reports:
        if r.state not in ("done", "refused"):
            console.print(f"[red]{r.path.name}: the import {r.state}: {r.error}[/]")
        for line, reason in r.rejected[:50]:
            console.print(f"[red]{r.path.name}:{line}[/] {reason}")
        if r.rejected_count > 50:
            console.print(f"[red]{r.path.name}[/]: {r.rejected_count - 50} more rejected rows")


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
    report: Annotated[Path | None, typer.Option(help="Write the summary as JSON here.")] = None,
    lang: LanguageOption = Language.IT,
) -> None:
    """Upload every official open-data file found in DIRECTORY to the gateway and follow each import (idempotent)."""
    try:
        reports = asyncio.run(run_import(directory, gateway, username, _password(password), language=lang.value))
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
                        "state": r.state,
                        "rows": r.rows,
                        **r.outcomes,
                        "rejected_count": r.rejected_count,
                        "rejected": [{"line": line, "reason": reason} for line, reason in r.rejected],
                        "error": r.error,
                    }
                    for r in reports
                ],
                indent=2,
            )
        )
    if not reports:
        console.print(f"[yellow]no importable file in {directory}[/]")
        raise typer.Exit(2)
    if any(r.state not in ("done", "refused") for r in reports):
        raise typer.Exit(1)


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

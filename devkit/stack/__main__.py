"""``python -m devkit.stack up|down|run|status`` — the local platform on 127.0.0.1."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from devkit.stack.components import BATCHES_WARN, HOST, ROOT, SERVICES, Stack, partition_batches
from devkit.stack.processes import Managed, StackError, port_is_free

STOP_ORDER = ("gateway", "districts", "shops", "markets", "mail", "mongo", "kafka", "s3")


def _say(message: str) -> None:
    print(message, flush=True)


def up(stack: Stack) -> None:
    started = time.monotonic()
    if stack.external_kafka:
        _say(f"using external Kafka at {stack.external_kafka}")
    if stack.external_mongo:
        _say("using external MongoDB from MONGO_URL")
    components = stack.components()
    busy = [c for c in components if not c.process.running() and not port_is_free(c.port)]
    if busy:
        raise StackError(
            "ports already in use by other processes: "
            + ", ".join(f"{c.port} ({c.name}; set {c.name.upper()}_PORT to move it)" for c in busy)
        )
    for component in components:
        if component.ensure_started():
            _say(f"  started {component.name:<10} 127.0.0.1:{component.port}")
        else:
            _say(f"  running {component.name:<10} 127.0.0.1:{component.port}")
    _say(f"all services ready in {time.monotonic() - started:.1f}s")


def seed(stack: Stack) -> None:
    env = {**os.environ, **stack.service_env(), "GATEWAY_URL": f"http://{HOST}:{stack.port_of('gateway', 8000)}"}
    result = subprocess.run([sys.executable, "-m", "devkit.cli", "seed"], env=env, cwd=ROOT, check=False)
    if result.returncode != 0:
        raise StackError("loading the demo data failed (see above)")


def down(stack: Stack) -> None:
    for name in STOP_ORDER:
        managed = Managed(name, [], stack.run / f"{name}.pid", stack.data / "logs" / f"{name}.log")
        if managed.stop():
            _say(f"  stopped {name}")


def status(stack: Stack) -> int:
    missing = 0
    for name in STOP_ORDER[::-1]:
        if name == "mail" and not stack.smtp_url:
            continue  # the SMTP sink runs in the local profile only
        managed = Managed(name, [], stack.run / f"{name}.pid", stack.data / "logs" / f"{name}.log")
        pid = managed.recorded_pid()
        _say(f"  {name:<10} {'running pid ' + str(pid) if pid else 'stopped'}")
        missing += pid is None
    batches = partition_batches(stack.data)
    if batches:
        longest = sorted(batches.items(), key=lambda item: -item[1])
        _say(f"  broker store: {sum(batches.values())} batches in {len(batches)} partitions; the longest:")
        for partition, count in longest[:5]:
            _say(f"    {partition:<40} {count:>7}" + ("  <- long: fetches slow down" if count >= BATCHES_WARN else ""))
        if longest[0][1] >= BATCHES_WARN:
            _say(
                f"  warning: a partition holds {BATCHES_WARN} batches or more; the broker lists them all on every fetch."
                " The store merges old batches every few seconds while it runs, so it is not keeping up or failing"
                " (.data/logs/s3.log says what it merged or why it could not); the next start after `make down`"
                " merges them too (.data/logs/compaction.log; docs/decisions/0003)."
            )
    return 1 if missing else 0


def banner(stack: Stack) -> None:
    gateway = f"http://{HOST}:{stack.port_of('gateway', 8000)}"
    demo_password = os.environ.get("DEMO_PASSWORD", "office-demo")
    lines = [
        "",
        "Milan commerce platform is running",
        f"  Dashboard (commerce office)  {gateway}/",
        f"  Operator page (phone)        {gateway}/operator",
        f"  Services near you (citizens) {gateway}/near",
        f"  Markets' public agenda       {gateway}/agenda",
        f"  Shop portal (shopkeepers)    {gateway}/shop",
        f"  Traders' page (phone)        {gateway}/trader",
        f"  Ask for an account           {gateway}/register",
        f"  API docs (OpenAPI)           {gateway}/docs",
        f"  Live event stream (SSE)      {gateway}/api/v1/stream",
        "  Metrics (Prometheus)         "
        + ", ".join(f"http://{HOST}:{stack.port_of(n, p)}/metrics" for n, p in SERVICES),
        f"  Demo login                   office / {demo_password}",
        "  Demo market operator         operator-wagner / operator-demo (market 'wagner')",
        "  Demo shopkeepers             shop-ed-demo-isola, shop-bs-demo-drogheria-borsieri / shopkeeper-demo",
        "  Demo trader                  trader-spunta / trader-demo",
        f"  Logs                         {stack.data / 'logs'}",
        *(
            [
                f"  Mail (local SMTP sink)       {stack.mail_dir}/*.eml (sent to {stack.smtp_url}; nothing leaves the machine)"
            ]
            if stack.smtp_url
            else []
        ),
        "",
    ]
    _say("\n".join(lines))


def run(stack: Stack) -> None:
    """Foreground: start everything, seed, print where to look, stop all on Ctrl-C."""
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        up(stack)
        seed(stack)
        banner(stack)
        _say("Press Ctrl-C to stop.")
        while not stopping:
            time.sleep(0.5)
    finally:
        _say("stopping…")
        down(stack)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devkit.stack", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "run", "status", "seed"])
    parser.add_argument("--no-seed", action="store_true", help="up: do not load the demo data")
    args = parser.parse_args(argv)
    stack = Stack(data=Path(os.environ.get("DATA_DIR", ROOT / ".data")).resolve())
    try:
        if args.command == "up":
            up(stack)
            if not args.no_seed:
                seed(stack)
            banner(stack)
        elif args.command == "down":
            down(stack)
        elif args.command == "run":
            run(stack)
        elif args.command == "seed":
            seed(stack)
        else:
            return status(stack)
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

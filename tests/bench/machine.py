"""What the figures were measured on: processor, memory, Python, broker and database versions."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib.metadata import version
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from devkit.stack.components import tansu_binary


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return float("nan")


def _broker_version() -> str:
    try:
        answer = subprocess.run(
            [str(tansu_binary()), "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
        return f"unknown ({exc})"
    return answer.stdout.strip() or "unknown"


async def _database_version(mongo_url: str) -> str:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, serverSelectionTimeoutMS=5000)
    try:
        info = await client.admin.command("buildInfo")
    finally:
        await client.close()
    engine = f"SecantusDB {info['secantusVersion']}, " if "secantusVersion" in info else ""
    return f"{engine}MongoDB wire protocol {info.get('version', '?')}"


def load_average() -> str:
    """The 1-minute load average: other work on the machine shares the cores with the run."""
    return f"{os.getloadavg()[0]:.1f}"


async def describe(mongo_url: str) -> dict[str, Any]:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "broker": _broker_version(),
        "database": await _database_version(mongo_url),
        "clients": f"aiokafka {version('aiokafka')}, pymongo {version('pymongo')}, httpx {version('httpx')}",
    }

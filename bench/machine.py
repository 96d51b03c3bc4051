"""What machine the figures come from."""

from __future__ import annotations

import os
import platform

import asyncpg
import psutil


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _os() -> str:
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.system()


def describe(postgres_version: str) -> dict[str, str]:
    """nproc, CPU, RAM, kernel, OS, Python, PostgreSQL."""
    return {
        "nproc": str(os.cpu_count()),
        "cpu": _cpu_model(),
        "ram": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "kernel": platform.release(),
        "os": _os(),
        "python": platform.python_version(),
        "postgresql": postgres_version,
    }


async def server_version(url: str) -> str:
    """`PostgreSQL <version>` of the server at `url`."""
    conn = await asyncpg.connect(url)
    try:
        version: str = await conn.fetchval("SHOW server_version")
        return f"PostgreSQL {version}"
    finally:
        await conn.close()

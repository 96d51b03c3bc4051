"""Closed-loop load with wrk (one thread), the noise figure taken around it."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.noise import NoiseMeter

LUA = Path(__file__).with_name("post.lua")


@dataclass(frozen=True, slots=True)
class Target:
    """What to send where: a body (maybe templated), its id file, a token."""

    url: str
    body_file: Path
    id_file: Path | None
    token: str | None


@dataclass(frozen=True, slots=True)
class LoadResult:
    """One wrk run."""

    connections: int
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    failures: int  # socket errors, non-2xx and GraphQL errors together
    noise_cores: float

    def as_dict(self) -> dict[str, float | int]:
        """For the raw results file."""
        return asdict(self)


def run_wrk(target: Target, connections: int, seconds: float, noise: NoiseMeter) -> LoadResult:
    """wrk -t1 -c CONNECTIONS for SECONDS against the target."""
    env = {
        **os.environ,
        "BODY_FILE": str(target.body_file),
        "ID_FILE": str(target.id_file or ""),
        "TOKEN": target.token or "",
        # names made unique per request: unique across runs too
        "RUN_ID": uuid.uuid4().hex[:12],
    }
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(round(seconds), 1)}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        str(LUA),
        target.url,
    ]
    noise.start()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    noise_cores = noise.stop()
    lines = [line for line in done.stdout.splitlines() if line.startswith("WRK_JSON ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    data = json.loads(lines[-1][len("WRK_JSON ") :])
    failures = sum(
        data[key]
        for key in (
            "errors_connect",
            "errors_read",
            "errors_write",
            "errors_timeout",
            "non2xx",
            "graphql_errors",
        )
    )
    return LoadResult(
        connections=connections,
        seconds=data["duration_s"],
        requests=data["requests"],
        rps=data["rps"],
        p50_ms=data["p50_ms"],
        p90_ms=data["p90_ms"],
        p99_ms=data["p99_ms"],
        max_ms=data["max_ms"],
        failures=failures,
        noise_cores=noise_cores,
    )

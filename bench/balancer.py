"""Debian's HAProxy in front of `serve` instances, for a test or the bench
(bench/topology.py): round robin, health checks on `/readyz`."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


def free_port() -> int:
    """A loopback TCP port nobody listens on (at the time of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def haproxy(backends: list[int], *, ready_s: float = 60.0) -> Iterator[int]:
    """A load balancer on a loopback port of its own (yielded), round robin over
    the backends' loopback ports, once its health checks have found every backend
    up (RuntimeError after `ready_s`).

    Waiting for that, not for a first answer through it: a backend that started
    later than the other was marked down by the first checks, and took none of
    the traffic until two checks had passed (a test saw 42 and 159 of 201)."""
    front = free_port()
    folder = Path(tempfile.mkdtemp(prefix="envgraph-haproxy-"))
    config = folder / "haproxy.cfg"
    stats = folder / "stats.sock"
    servers = "\n".join(
        f"    server s{i} 127.0.0.1:{port} check inter 200ms" for i, port in enumerate(backends)
    )
    config.write_text(
        f"""global
    maxconn 2048
    stats socket {stats}
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    retries 2
    option redispatch
    option http-keep-alive
frontend envgraph
    bind 127.0.0.1:{front}
    default_backend instances
backend instances
    balance roundrobin
    option httpchk GET /readyz
    # a check may take as long as /readyz itself may (2 s, gateway/app.py): left
    # unset, its timeout is `inter`, and a backend only busy answering is marked down
    timeout check 2s
{servers}
"""
    )
    process = subprocess.Popen(
        [HAPROXY, "-f", str(config), "-db"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_all_up(process, stats, len(backends), ready_s)
        yield front
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_all_up(process: subprocess.Popen[bytes], stats: Path, count: int, ready_s: float) -> None:
    deadline = time.monotonic() + ready_s
    states: dict[str, str] = {}
    while time.monotonic() < deadline and process.poll() is None:
        try:
            states = server_states(stats)
        except OSError:  # the socket is not there yet
            states = {}
        if len(states) == count and set(states.values()) == {"UP"}:
            return
        time.sleep(0.05)
    raise RuntimeError(f"HAProxy did not find every backend up: {states or 'no answer'}")


def server_states(stats: Path) -> dict[str, str]:
    """Each backend server's status as HAProxy's stats socket tells it (UP, DOWN,
    "UP 1/2" while rising, ...)."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(5)
        sock.connect(str(stats))
        sock.sendall(b"show stat\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    header, *rows = data.decode().splitlines()
    names = header.lstrip("# ").split(",")
    states = {}
    for row in rows:
        record = dict(zip(names, row.split(","), strict=False))
        if record.get("pxname") == "instances" and record.get("svname") not in (
            "BACKEND",
            "FRONTEND",
        ):
            states[record["svname"]] = record["status"]
    return states

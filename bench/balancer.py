"""Debian's HAProxy in front of `serve` instances, for a test or the bench
(bench/topology.py): round robin, health checks on `/readyz`."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
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
def haproxy(backends: list[int]) -> Iterator[int]:
    """A load balancer on a loopback port of its own (yielded), round robin over
    the backends' loopback ports."""
    front = free_port()
    folder = Path(tempfile.mkdtemp(prefix="envgraph-haproxy-"))
    config = folder / "haproxy.cfg"
    servers = "\n".join(
        f"    server s{i} 127.0.0.1:{port} check inter 200ms" for i, port in enumerate(backends)
    )
    config.write_text(
        f"""global
    maxconn 2048
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
{servers}
"""
    )
    process = subprocess.Popen(
        [HAPROXY, "-f", str(config), "-db"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield front
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)

"""The peers and the load tool, installed into the state folder (never the repo).

PostGraphile v4 and v5 each get their own npm prefix (pinned versions, with
the connection-filter plugin that gives them `ILIKE` and `>` filters, which
the list scenario needs; v5 with @graphile/pg-aggregates too, for the groups
scenario). v5 needs Node 22, which the npm package `node`
ships; v4 runs on the machine's node. wrk comes from the OS packages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

POSTGRAPHILE_V4 = ("postgraphile@4.14.1", "postgraphile-plugin-connection-filter@2.3.0")
POSTGRAPHILE_V5 = (
    "postgraphile@5.1.5",
    "postgraphile-plugin-connection-filter@4.0.1",
    "@graphile/pg-aggregates@0.2.0-rc.2",
)
NODE_22 = "node@22.23.3"


@dataclass(frozen=True, slots=True)
class Peers:
    """Where the installed peers live."""

    root: Path

    @property
    def v4_dir(self) -> Path:
        """npm prefix of PostGraphile v4."""
        return self.root / "pg4"

    @property
    def v5_dir(self) -> Path:
        """npm prefix of PostGraphile v5."""
        return self.root / "pg5"

    @property
    def node22(self) -> Path:
        """The Node 22 binary (from the npm package `node`)."""
        return self.root / "node22" / "node_modules" / "node" / "bin" / "node"

    @property
    def node20(self) -> str:
        """The machine's node, for v4."""
        return shutil.which("node") or "node"


def _npm_install(prefix: Path, packages: tuple[str, ...]) -> None:
    marker = prefix / ".installed"
    if marker.exists() and marker.read_text() == " ".join(packages):
        return
    prefix.mkdir(parents=True, exist_ok=True)
    if not (prefix / "package.json").exists():
        (prefix / "package.json").write_text('{"private": true}\n')
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", *packages],
        cwd=prefix,
        check=True,
    )
    marker.write_text(" ".join(packages))


def ensure_wrk() -> None:
    """wrk from apt when it is missing (root only: otherwise say how)."""
    if shutil.which("wrk"):
        return
    if os.geteuid() != 0:
        raise RuntimeError("wrk is missing: apt-get install wrk")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)


def install(root: Path) -> Peers:
    """Install what is missing; returns where it is."""
    peers = Peers(root)
    ensure_wrk()
    if shutil.which("npm") is None:
        raise RuntimeError("npm is missing: install Node.js 20 or newer with npm")
    _npm_install(peers.v4_dir, POSTGRAPHILE_V4)
    _npm_install(peers.v5_dir, POSTGRAPHILE_V5)
    _npm_install(root / "node22", (NODE_22,))
    return peers


def versions(peers: Peers) -> dict[str, str]:
    """Versions of the tools, for the report."""

    def out(*command: str) -> str:
        try:
            return subprocess.run(
                command, capture_output=True, text=True, check=False
            ).stdout.strip()
        except OSError:
            return "missing"

    wrk = out("wrk", "--version").splitlines()
    return {
        "node (PostGraphile v4)": out(peers.node20, "--version"),
        "node (PostGraphile v5)": out(str(peers.node22), "--version"),
        "PostGraphile v4": POSTGRAPHILE_V4[0].split("@")[1],
        "PostGraphile v5": POSTGRAPHILE_V5[0].split("@")[1],
        "connection-filter plugin": f"{POSTGRAPHILE_V4[1].split('@')[1]} (v4), "
        f"{POSTGRAPHILE_V5[1].split('@')[1]} (v5)",
        "pg-aggregates plugin (v5)": POSTGRAPHILE_V5[2].rsplit("@", 1)[1],
        "wrk": wrk[0].split(" [")[0] if wrk else "missing",
    }

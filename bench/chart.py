"""results.png: throughput (16 connections) and latency (1 connection, p50
bars with p99 marks) per scenario and system, log scales (the figures span
four orders of magnitude)."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

from bench.scenarios import SCENARIOS
from bench.systems import SYSTEMS

_COLOURS = ("#1f77b4", "#6baed6", "#d62728", "#ff9896", "#2ca02c")


def _median(cell: dict[str, Any] | None, runs: str, key: str) -> float:
    values = [r[key] for r in (cell or {}).get(runs) or []]
    return statistics.median(values) if values else 0.0


def draw_chart(results: dict[str, Any], path: Path, labels: dict[str, str]) -> None:
    """Draw the two panels into `path`."""
    cells = {(c["system"], c["scenario"]): c for c in results["cells"]}
    scenarios = [s for s in SCENARIOS if any(k[1] == s.name for k in cells)]
    systems = [s for s in SYSTEMS if any(k[0] == s.name for k in cells)]
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(13, 9.5), dpi=110)
    width = 0.8 / max(len(systems), 1)
    for i, system in enumerate(systems):
        xs = [j + (i - (len(systems) - 1) / 2) * width for j in range(len(scenarios))]
        rps = [_median(cells.get((system.name, s.name)), "throughput", "rps") for s in scenarios]
        p50 = [_median(cells.get((system.name, s.name)), "latency", "p50_ms") for s in scenarios]
        p99 = [_median(cells.get((system.name, s.name)), "latency", "p99_ms") for s in scenarios]
        colour = _COLOURS[i % len(_COLOURS)]
        bars = top.bar(xs, rps, width, label=labels.get(system.name, system.name), color=colour)
        top.bar_label(
            bars, labels=[f"{v:,.0f}" if v else "" for v in rps], fontsize=6, rotation=90, padding=2
        )
        bottom.bar(xs, p50, width, color=colour, label=labels.get(system.name, system.name))
        bottom.scatter(
            xs, p99, marker="_", s=120, color="black", zorder=3, label="p99" if i == 0 else None
        )
    for axis in (top, bottom):
        axis.set_xticks(range(len(scenarios)))
        axis.set_xticklabels([s.short for s in scenarios], fontsize=9)
        axis.set_yscale("log")
        axis.grid(axis="y", which="both", alpha=0.3)
        low, high = axis.get_ylim()
        axis.set_ylim(low, high * 4)  # room for the labels and the legend
    top.set_ylabel("requests/s, 16 connections\n(higher is better)")
    bottom.set_ylabel("latency ms, 1 connection\np50 bar, p99 mark (lower is better)")
    top.legend(fontsize=8, ncols=len(systems), loc="upper left")
    bottom.legend(fontsize=8, ncols=len(systems) + 1, loc="upper left")
    m = results["machine"]
    figure.suptitle(
        f"envgraph vs PostGraphile vs raw SQL, {results['started'][:10]}: {m['nproc']} cores "
        f"{m['cpu']}, {m['ram']}, {m['postgresql']}" + (" (quick run)" if results["quick"] else ""),
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)

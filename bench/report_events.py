"""RESULTS-events.md: the events run (issue 13) from its results JSON: the
goals with their ratios, the figures, bulk ingestion, and the plans."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.report import (
    _cells,
    _fmt,
    _labels,
    _noise,
    _system_plans,
    _table,
    machine_section,
    median,
)
from bench.scenarios import EVENTS_DEEP_PAGE, SCENARIOS

_MIB = 2**20
FILE = "RESULTS-events.md"
# what a person read in the figures (where the time goes, what would fix it):
# kept beside the report and put into it whenever it is written again
NOTES = Path(__file__).with_name("RESULTS-events-notes.md")


def is_events_run(results: dict[str, Any]) -> bool:
    """Whether the results are an events run (every cell an events scenario)."""
    events = {s.name for s in SCENARIOS if s.database == "events"}
    cells = results.get("cells") or []
    return bool(cells or results.get("ingest")) and all(c["scenario"] in events for c in cells)


def _verdict(met: bool | None) -> str:
    return "not measured" if met is None else "**met**" if met else "**not met**"


def _goals(results: dict[str, Any]) -> list[str]:
    cells = _cells(results)

    def fig(system: str, scenario: str, runs: str, key: str) -> float | None:
        cell = cells.get((system, scenario))
        return median(cell, runs, key) if cell and not cell.get("error") else None

    eg_p50 = fig("envgraph-1w", "events_window", "latency", "p50_ms")
    raw_p50 = fig("raw", "events_window", "latency", "p50_ms")
    eg_rps = fig("envgraph-1w", "events_window", "throughput", "rps")
    raw_rps = fig("raw", "events_window", "throughput", "rps")
    v5_rps = fig("postgraphile-v5", "events_window", "throughput", "rps")
    v5_cell = cells.get(("postgraphile-v5", "events_window"))
    first = fig("envgraph-1w", "events_first", "latency", "p50_ms")
    deep = fig("envgraph-1w", "events_deep", "latency", "p50_ms")
    ingest = results.get("ingest") or {}
    lines = [
        "## Goals (ratios from this run)",
        "",
        "| goal | figures | ratio | verdict |",
        "|---|---|---:|---|",
    ]
    ratio = eg_p50 / raw_p50 if eg_p50 and raw_p50 else None
    lines.append(
        f"| window page: envgraph p50 <= 1.25x the raw bound's (1 conn.) "
        f"| envgraph {_fmt(eg_p50, 2)} ms, raw {_fmt(raw_p50, 2)} ms "
        f"| {_fmt(ratio, 2)} | {_verdict(None if ratio is None else ratio <= 1.25)} |"
    )
    if v5_rps is not None:
        v5_ratio = eg_rps / v5_rps if eg_rps else None
        v5_figures = f"envgraph {_fmt(eg_rps)}, PostGraphile v5 {_fmt(v5_rps)} req/s"
        v5_verdict = _verdict(None if v5_ratio is None else v5_ratio >= 1)
    else:
        v5_ratio = None
        why = (v5_cell or {}).get("error") or "not run"
        v5_figures = f"envgraph {_fmt(eg_rps)} req/s; PostGraphile v5: {why[:200]}"
        v5_verdict = "not measured"
    lines.append(
        f"| window page: envgraph throughput >= PostGraphile v5's (16 conn.) | {v5_figures} "
        f"(raw bound {_fmt(raw_rps)}) | {_fmt(v5_ratio, 2)} | {v5_verdict} |"
    )
    deep_ratio = deep / first if deep and first else None
    lines.append(
        f"| page {EVENTS_DEEP_PAGE:,} by cursor within 2x the first page (p50, 1 conn., "
        f"envgraph) | page {EVENTS_DEEP_PAGE:,} {_fmt(deep, 2)} ms, first page "
        f"{_fmt(first, 2)} ms | {_fmt(deep_ratio, 2)} "
        f"| {_verdict(None if deep_ratio is None else deep_ratio <= 2)} |"
    )
    if "upload_rows_per_s" in ingest:
        rate = ingest["upload_rows_per_s"] / ingest["copy_rows_per_s"]
        rise = (ingest["rss_peak_bytes"] - ingest["rss_before_bytes"]) / _MIB
        lines += [
            f"| bulk ingestion >= 0.5x a raw COPY of the same rows (rows/s) "
            f"| upload {_fmt(ingest['upload_rows_per_s'])}, raw COPY "
            f"{_fmt(ingest['copy_rows_per_s'])} rows/s | {rate:.2f} | {_verdict(rate >= 0.5)} |",
            f"| server RSS flat (+-50 MiB) over a {ingest['upload_bytes'] / 2**30:.2f} GiB upload "
            f"| {ingest['rss_before_bytes'] / _MIB:.0f} MiB before, "
            f"{ingest['rss_peak_bytes'] / _MIB:.0f} MiB at peak | {rise:+.0f} MiB "
            f"| {_verdict(abs(rise) <= 50)} |",
        ]
    else:
        why = ingest.get("error", "not run")
        lines.append(f"| bulk ingestion and RSS | {why[:200]} | - | not measured |")
    return [*lines, ""]


def _ingest(results: dict[str, Any]) -> list[str]:
    ingest = results.get("ingest") or {}
    if "upload_rows_per_s" not in ingest:
        return []
    again = (
        f" Measured again in the run of {ingest['from_run']} (`--scenarios events_ingest`): "
        "this run's upload failed (see the notes)."
        if ingest.get("from_run")
        else ""
    )
    return [
        "## Bulk ingestion",
        "",
        "The same rows (environment 1, uuids of their own, spread over the generated span: "
        "the same partitions) into a fresh copy of the events database each: once by ONE "
        "`COPY` of a CSV file (timed to the end of the COPY, then rolled back), once as a "
        "`text/csv` upload to `POST /v1/environments/{id}/events` streamed from a file in "
        "1 MiB chunks (timed to the answer: staging, the move into `events` and `event_ids`, "
        "`event_count`, the commit). RSS: envgraph's process, sampled every 0.2 s, after a "
        "one-row warm-up upload." + again,
        "",
        "| rows | upload | raw COPY | envgraph upload | ratio | RSS before / peak | "
        "noise cores (COPY / upload) | answer |",
        "|---:|---:|---:|---:|---:|---:|---|---|",
        f"| {ingest['rows']:,} | {ingest['upload_bytes'] / _MIB:,.0f} MiB "
        f"| {ingest['copy_rows_per_s']:,.0f} rows/s ({ingest['copy_seconds']:.1f} s) "
        f"| {ingest['upload_rows_per_s']:,.0f} rows/s ({ingest['upload_seconds']:.1f} s) "
        f"| {ingest['upload_rows_per_s'] / ingest['copy_rows_per_s']:.2f} "
        f"| {ingest['rss_before_bytes'] / _MIB:.0f} / {ingest['rss_peak_bytes'] / _MIB:.0f} MiB "
        f"| {ingest['copy_noise_cores']:.2f} / {ingest['upload_noise_cores']:.2f} "
        f"| `{ingest['answer']}` |",
        "",
    ]


def _plans(results: dict[str, Any]) -> list[str]:
    cells, labels = _cells(results), _labels(results)
    lines = [
        "## Plans (EXPLAIN ANALYZE, BUFFERS, via auto_explain: the statement each system sent, "
        "with its parameters, one request)",
        "",
    ]
    for scenario, systems in (
        ("events_window", ("envgraph-1w", "raw", "postgraphile-v5")),
        ("events_first", ("envgraph-1w",)),
        ("events_deep", ("envgraph-1w",)),
    ):
        for name in systems:
            plans = _system_plans(cells.get((name, scenario)))
            if not plans:
                continue
            plan = plans[0]
            lines += [
                f"### {labels[name]}, {scenario}: {plan['duration_ms']:.2f} ms",
                "",
                "```",
                plan["text"].rstrip(),
                "```",
                "",
            ]
    return lines


def _statements(results: dict[str, Any]) -> list[str]:
    cells, labels = _cells(results), _labels(results)
    lines = ["## Statements per request (pg_stat_statements)", ""]
    for (system, scenario), cell in sorted(cells.items()):
        if not cell.get("top_statements"):
            continue
        lines.append(f"- {labels[system]}, {scenario}: {cell['statements']:.1f} per request")
        for calls, text in cell["top_statements"][:4]:
            lines.append(f"  - {calls:g} x `{text[:140].replace('`', '')}`")
    return [*lines, ""]


def _header(results: dict[str, Any]) -> list[str]:
    plan, m = results["plan"], results["machine"]
    noises = [n for c in results["cells"] if (n := _noise(c))]
    busiest = max((n[1] for n in noises), default=0.0)
    data = "; ".join(
        f"`{name}`: {', '.join(f'{n:,} {t}' for t, n in d['counts'].items())}"
        + (
            f" (generated in {d['generate_seconds']:.0f} s)"
            if d.get("generate_seconds")
            else " (reused)"
        )
        for name, d in results["databases"].items()
    )
    return [
        "# envgraph: events benchmark (issue 13)",
        "",
        f"Run {results['started']} to {results.get('finished', '(interrupted)')} (UTC), "
        f"{results.get('minutes', '?')} minutes, by `bench/run.sh --events`"
        + (" --quick" if results["quick"] else "")
        + ". The raw results are the JSON beside this file; `python -m bench report FILE` "
        "writes this report again.",
        "",
        *machine_section(results),
        f"Busy-ness: other work used up to {busiest:.2f} cores (of {m['nproc']}) during the "
        "timed runs (the `noise cores` columns: CPU of processes outside the benchmark).",
        "",
        "## How it was measured",
        "",
        f"- Data: {data}. Every value derives from (environment, place) "
        "(`bench/generate_events.sql`, `bench/events.py`); the scenarios read environment 1 "
        "(the first by id): 100,000 events over 90 days, about 46 an hour.",
        "- One PostgreSQL cluster of the benchmark's own (`shared_buffers` 1 GB, JIT off), the "
        "systems started side by side, each repeat timing them one after another, each with "
        f"a pool of {plan['pool']} connections. "
        f"Throughput `wrk -t1 -c{plan['connections']}`, latency `wrk -t1 -c1`, "
        f"{plan['repeats']} repeat(s) of at least {plan['throughput_s']:g} s after a "
        f"{plan['warmup_s']:g} s warm-up; medians. Answers compared with envgraph's before "
        "timing (timestamps normalised, ids and cursors left out).",
        "- The window page: `Environment.events(since, until, filter: {properties: [{key: "
        '"is_test", operator: EQ, value: false}]}, first: 50)` over one hour in the middle of '
        "the span (`bench/events.py` `window()`): the least selective property of the "
        "generator (9 in 10 events), as close to a full page as an hour holds. The raw bound is "
        "one hand-written statement building the same JSON (`bench/queries/raw/"
        "events_window.sql`, `properties @> '{\"is_test\": false}'`); PostGraphile v5 with "
        "postgraphile-plugin-connection-filter expresses EQ as `properties: {contains: "
        "{is_test: false}}` on `environmentByRowId { eventsByEnvironmentId }` (the events "
        "table is in `public`: no configuration needed).",
        f"- The deep page: the first page of environment 1's events (newest first), and page "
        f"{EVENTS_DEEP_PAGE:,} of 50 after the cursor of row {(EVENTS_DEEP_PAGE - 1) * 50:,}, "
        "which each system gives for `events(offset: 49949, first: 1) { pageInfo { endCursor "
        "} }` (not timed).",
        "",
    ]


def write_events_report(results: dict[str, Any], output: Path) -> str:
    """Write RESULTS-events.md into `output`; returns what was written."""
    output.mkdir(parents=True, exist_ok=True)
    lines = _header(results) + _goals(results)
    lines += ["## Figures", ""]
    for scenario in SCENARIOS:
        if any(c["scenario"] == scenario.name for c in results["cells"]):
            lines += [f"### {scenario.title}", "", *_table(results, scenario.name), ""]
    lines += _ingest(results)
    if NOTES.exists():
        lines += [NOTES.read_text().rstrip(), ""]
    lines += _plans(results)
    lines += _statements(results)
    failed = [c for c in results["cells"] if c.get("error")]
    lines += ["## Failed or skipped", ""]
    lines += [f"- {c['system']} / {c['scenario']}: {c['error']}" for c in failed] or ["- nothing"]
    lines.append("")
    markdown = output / FILE
    markdown.write_text("\n".join(lines))
    return f"wrote {markdown}"

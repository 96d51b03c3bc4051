"""RESULTS.md and results.png from a run's results (the JSON the runner saves).

Figures are medians over the repeats; each comes with the noise figure
(cores used outside the benchmark while it was taken), so that a figure
taken on a busy machine reads as such.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.chart import draw_chart
from bench.scenarios import SCENARIOS
from bench.systems import SYSTEMS

_MIB = 2**20


def median(cell: dict[str, Any], runs: str, key: str) -> float | None:
    """The median of `key` over a cell's runs (None: not timed)."""
    values = [r[key] for r in cell.get(runs) or []]
    return statistics.median(values) if values else None


def _noise(cell: dict[str, Any]) -> tuple[float, float] | None:
    values = [
        r["noise_cores"] for r in (cell.get("throughput") or []) + (cell.get("latency") or [])
    ]
    return (statistics.median(values), max(values)) if values else None


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def merged(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The first run, plus the cells (and systems) only later runs have: a
    system added to a finished matrix without timing the rest again."""
    results = runs[0]
    have = set(_cells(results))
    for run in runs[1:]:
        for cell in run["cells"]:
            if (cell["system"], cell["scenario"]) not in have:
                results["cells"].append(cell)
                have.add((cell["system"], cell["scenario"]))
        if "upload_rows_per_s" not in results.get("ingest", {}) and run.get("ingest"):
            # the events run's ingestion, measured again in a later run
            results["ingest"] = run["ingest"] | {"from_run": run["started"]}
        added = sorted(set(run["systems"]) - set(results["systems"]))
        results["systems"] = run["systems"] | results["systems"]
        results.setdefault("added", []).append({"started": run["started"], "systems": added})
    return results


def _cells(results: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(c["system"], c["scenario"]): c for c in results["cells"]}


def _labels(results: dict[str, Any]) -> dict[str, str]:
    return {s.name: s.label for s in SYSTEMS} | {
        name: info["label"] for name, info in results["systems"].items()
    }


def machine_section(results: dict[str, Any]) -> list[str]:
    """The report's "Machine" section: the host, and the versions of what ran."""
    m, v = results["machine"], results["versions"]
    return [
        "## Machine",
        "",
        "| nproc | CPU | RAM | kernel | OS | PostgreSQL | Python |",
        "|---|---|---|---|---|---|---|",
        f"| {m['nproc']} | {m['cpu']} | {m['ram']} | {m['kernel']} | {m['os']} "
        f"| {m['postgresql']} | {m['python']} |",
        "",
        "| " + " | ".join(v) + " |",
        "|" + "---|" * len(v),
        "| " + " | ".join(v.values()) + " |",
        "",
    ]


def _header(results: dict[str, Any]) -> list[str]:
    plan = results["plan"]
    cap = plan.get("max_run_s", 60)
    dbs = results["databases"]
    return [
        "# envgraph benchmarks",
        "",
        f"Run {results['started']} to {results.get('finished', '(interrupted)')} (UTC), "
        f"{results.get('minutes', '?')} minutes, by `bench/run.sh`"
        + (" --quick" if results["quick"] else "")
        + ". Regenerate the report from the saved JSON with `python -m bench report FILE`."
        + "".join(
            f" Cells of {', '.join(run['systems'])} added from the run of {run['started']}."
            for run in results.get("added", [])
        ),
        "",
        *machine_section(results),
        "## How it was measured",
        "",
        "- One PostgreSQL cluster of the benchmark's own (127.0.0.1, `shared_buffers` 1 GB, "
        "JIT off, `pg_stat_statements` and `auto_explain` preloaded), one database per scale, "
        "the systems started side by side on it (each idle while another is timed), each "
        f"with a pool of {plan['pool']} connections in all (envgraph with N workers: "
        f"{plan['pool']}/N each).",
        f"- Throughput: `wrk -t1 -c{plan['connections']}` for {plan['throughput_s']:g} s; latency "
        f"p50/p99: `wrk -t1 -c1` for {plan['latency_s']:g} s; after a {plan['warmup_s']:g} s "
        f"warm-up; {plan['repeats']} repeat(s), medians. Each repeat times the systems one "
        "after another, so that a drift of the machine's speed over minutes moves them alike. "
        "Slow requests get longer runs (16 "
        "requests started together finish together, so a run lasts 3 rounds of 16, and a "
        f"latency run 20 requests), capped at {cap:g} s and "
        f"{cap / 2:g} s: the column `run s` gives what each cell used. The "
        "server is idle before each run (wrk leaves requests in flight). A request answered "
        "with `errors` counts as failed.",
        f"- Statements per request: `pg_stat_statements` over {plan['count_requests']} sequential "
        "requests after a warm-up: everything the system sends, its driver's statements too.",
        "- Peak RSS: the server process and all its children (workers), sampled every 0.2 s "
        "during the timed runs.",
        "- Noise: CPU cores used by processes outside the benchmark (not the harness and its "
        "children, not the cluster's processes) during the timed runs: median / max.",
        "- Answers are compared before timing (envgraph, 1 worker, is the reference): ids and "
        "cursors are left out (each system encodes its own), bigint strings and timestamp "
        "spellings normalised. PostGraphile's queries are its own names aliased to envgraph's.",
        "- Data (deterministic, `bench/generate.sql`): "
        + "; ".join(
            f"`{name}` {', '.join(f'{n:,} {t}' for t, n in d['counts'].items())}"
            + (
                f" (generated in {d['generate_seconds']:.0f} s)"
                if d.get("generate_seconds")
                else " (reused)"
            )
            for name, d in dbs.items()
        )
        + ".",
        "- Settings that differ from the defaults: envgraph `GATEWAY_MAX_QUERY_DEPTH=16` (the "
        "nested Relay query with `edges { node }` is 13 levels deep; the default limit is 12), "
        "statement and pool timeouts 120 s (the peers have none), `GATEWAY_LOG_LEVEL=warning` (no "
        "line per request, as PostGraphile's `--disable-query-log`); PostGraphile v4 and v5 with "
        "`postgraphile-plugin-connection-filter` (for the list's ILIKE and `>`), v5 without "
        "`PgIndexBehaviorsPlugin` (as v4's default: envgraph's composite foreign keys have no "
        "index of their own, and v5 would hide `Model.environments`). Only envgraph checks a "
        "token; the peers run without auth.",
        "",
        "![throughput and latency](results.png)",
        "",
    ]


def _table(results: dict[str, Any], scenario: str) -> list[str]:
    cells, labels = _cells(results), _labels(results)
    lines = [
        "| system | answer | req/s at 16 conn. | p50 ms at 1 | p99 ms at 1 | statements/req "
        "| peak RSS MiB | noise cores (median / max) | run s |",
        "|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for system in SYSTEMS:
        info = results["systems"].get(system.name)
        if info is None:
            continue
        if info.get("unavailable"):
            lines.append(
                f"| {labels[system.name]} | not available: {info['unavailable']} |" + " |" * 7
            )
            continue
        cell = cells.get((system.name, scenario))
        if cell is None:
            continue
        answer = cell["answer"] or "-"
        if cell.get("error"):
            answer += f"; failed: {cell['error'][:160]}"
        failures = sum(r["failures"] for r in cell["throughput"] + cell["latency"])
        if failures:
            answer += f"; {failures} failed requests"
        noise = _noise(cell)
        rss = cell.get("rss_peak_bytes")
        lines.append(
            f"| {labels[system.name]} | {answer.replace('|', '/')} "
            f"| {_fmt(median(cell, 'throughput', 'rps'))} "
            f"| {_fmt(median(cell, 'latency', 'p50_ms'), 2)} "
            f"| {_fmt(median(cell, 'latency', 'p99_ms'), 2)} "
            f"| {_fmt(cell.get('statements'))} "
            f"| {_fmt(rss / _MIB if rss else None, 0)} "
            f"| {f'{noise[0]:.2f} / {noise[1]:.2f}' if noise else '-'} "
            f"| {_fmt(median(cell, 'throughput', 'seconds'), 0)} / "
            f"{_fmt(median(cell, 'latency', 'seconds'), 0)} |"
        )
    return lines


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a is not None and b else "-"


def _goals(results: dict[str, Any]) -> list[str]:
    cells = _cells(results)

    def fig(system: str, scenario: str, runs: str, key: str) -> float | None:
        cell = cells.get((system, scenario))
        return median(cell, runs, key) if cell else None

    nested = {s.name: fig(s.name, "nested", "throughput", "rps") for s in SYSTEMS}
    eg2 = fig("envgraph-2w", "by_id", "throughput", "rps")
    eg1 = fig("envgraph-1w", "by_id", "throughput", "rps")
    v4 = fig("postgraphile-v4", "by_id", "throughput", "rps")
    first = fig("envgraph-1w", "deep_first", "latency", "p50_ms")
    raw_first = fig("raw", "deep_first", "latency", "p50_ms")
    cursor = fig("envgraph-1w", "deep_cursor", "latency", "p50_ms")
    offset = fig("envgraph-1w", "deep_offset", "latency", "p50_ms")
    by_id_goal = (
        f"envgraph (2 workers) {_fmt(eg2)} req/s vs PostGraphile v4 {_fmt(v4)}: ratio "
        f"{_ratio(eg2, v4)} ({'met' if eg2 and v4 and eg2 >= v4 else 'not met'})"
        if eg2 is not None
        else f"not measurable: envgraph with 2 workers is not available on this branch; "
        f"envgraph (1 worker) {_fmt(eg1)} req/s vs PostGraphile v4 {_fmt(v4)}: ratio "
        f"{_ratio(eg1, v4)}"
    )
    met = cursor is not None and first is not None and cursor <= 2 * first
    verdict = "met" if met else "not met"
    if met and first and raw_first and first > 20 * raw_first:
        # a deep page as fast as a first page that is itself slow is no success
        verdict = (
            f"met, but only because the first page is as slow: {first / raw_first:,.0f}x "
            "the raw bound's first page (see the plans below)"
        )
    return [
        "## Goals (ratios from this run)",
        "",
        "| goal | figures | ratio | verdict |",
        "|---|---|---:|---|",
        "| nested: recorded as the baseline | "
        + ", ".join(f"{s.label} {_fmt(nested[s.name])}" for s in SYSTEMS if nested[s.name])
        + " req/s | envgraph (1 w.) / PostGraphile v5 "
        f"{_ratio(nested['envgraph-1w'], nested['postgraphile-v5'])}, / raw "
        f"{_ratio(nested['envgraph-1w'], nested['raw'])} | recorded |",
        f"| by id: envgraph (2 workers) >= PostGraphile v4 | {by_id_goal} "
        f"| {_ratio(eg2 if eg2 is not None else eg1, v4)} "
        f"| {'met' if eg2 and v4 and eg2 >= v4 else 'not met' if eg2 else 'not measurable'} |",
        f"| deep page by cursor within 2x of the first page (p50 at 1 conn., envgraph 1 w.) "
        f"| cursor {_fmt(cursor, 2)} ms, offset {_fmt(offset, 2)} ms, first page "
        f"{_fmt(first, 2)} ms (raw bound's first page {_fmt(raw_first, 2)} ms) "
        f"| {_ratio(cursor, first)} | {verdict} |",
        *_compiled_goals(nested, fig),
        "",
    ]


def _at_least(value: float | None, bound: float | None, factor: float) -> str:
    if value is None or bound is None:
        return "not measured"
    return "met" if value >= factor * bound else "not met"


def _compiled_goals(
    nested: dict[str, float | None], fig: Callable[[str, str, str, str], float | None]
) -> list[str]:
    """The compiled-reads issue's goals: the nested query against the peers, and
    the two executors side by side."""
    eg, v5, raw = nested["envgraph-1w"], nested["postgraphile-v5"], nested["raw"]
    resolvers = nested.get("envgraph-resolvers")
    eg_p50 = fig("envgraph-1w", "nested", "latency", "p50_ms")
    v5_p50 = fig("postgraphile-v5", "nested", "latency", "p50_ms")
    p50_met = "not measured"
    if eg_p50 is not None and v5_p50 is not None:
        p50_met = "met" if eg_p50 <= 0.4 * v5_p50 else "not met"
    return [
        f"| nested, compiled: >= 4x PostGraphile v5 | envgraph (1 w.) {_fmt(eg)}, "
        f"PostGraphile v5 {_fmt(v5)} req/s | {_ratio(eg, v5)} | {_at_least(eg, v5, 4)} |",
        f"| nested, compiled: >= 0.65 of the raw bound | envgraph (1 w.) {_fmt(eg)}, raw "
        f"{_fmt(raw)} req/s | {_ratio(eg, raw)} | {_at_least(eg, raw, 0.65)} |",
        f"| nested p50 at 1 conn.: <= 0.4x PostGraphile v5's | envgraph (1 w.) "
        f"{_fmt(eg_p50, 2)} ms, PostGraphile v5 {_fmt(v5_p50, 2)} ms "
        f"| {_ratio(eg_p50, v5_p50)} | {p50_met} |",
        f"| nested: the two executors side by side (1 worker) | compiled {_fmt(eg)}, "
        f"resolvers only {_fmt(resolvers)} req/s | {_ratio(eg, resolvers)} | recorded |",
        *(_near_bound(nested, fig, bound) for bound in ("raw", "raw-exact")),
    ]


def _near_bound(
    nested: dict[str, float | None], fig: Callable[[str, str, str, str], float | None], bound: str
) -> str:
    """The lean issue's nested goal against one raw bound: >= 0.9 of its throughput and
    p50 (at 1 connection) within 3 ms of its own."""
    eg, raw = nested["envgraph-1w"], nested.get(bound)
    eg_p50 = fig("envgraph-1w", "nested", "latency", "p50_ms")
    raw_p50 = fig(bound, "nested", "latency", "p50_ms")
    p50_met = "not measured"
    if eg_p50 is not None and raw_p50 is not None:
        p50_met = "met" if eg_p50 <= raw_p50 + 3 else "not met"
    return (
        f"| nested >= 0.9 of `{bound}` and p50 within 3 ms of it | envgraph (1 w.) "
        f"{_fmt(eg)} req/s, p50 {_fmt(eg_p50, 2)} ms; {bound} {_fmt(raw)} req/s, p50 "
        f"{_fmt(raw_p50, 2)} ms | {_ratio(eg, raw)} | {_at_least(eg, raw, 0.9)}; p50 {p50_met} |"
    )


def _system_plans(cell: dict[str, Any] | None) -> list[dict[str, Any]]:
    # results of older runs still hold the plan of the harness's own reload
    plans = (cell or {}).get("plans") or []
    return [p for p in plans if "pg_reload_conf()" not in p["text"]]


def _plans(results: dict[str, Any]) -> list[str]:
    cells, labels = _cells(results), _labels(results)
    lines = [
        "## Where the paging time goes (EXPLAIN ANALYZE, via auto_explain, one request)",
        "",
        "The slowest statement of one request of each system; the full plans are in the "
        "results JSON.",
        "",
        "| scenario | " + " | ".join(labels[s.name] for s in SYSTEMS) + " |",
        "|---|" + "---:|" * len(SYSTEMS),
    ]
    for scenario in ("list", "deep_first", "deep_offset", "deep_cursor"):
        row = []
        for system in SYSTEMS:
            cell = cells.get((system.name, scenario))
            plans = _system_plans(cell)
            row.append(f"{plans[0]['duration_ms']:.1f} ms" if plans else "-")
        lines.append(f"| {scenario} | " + " | ".join(row) + " |")
    lines.append("")
    for name, scenario in (
        ("envgraph-1w", "deep_first"),
        ("envgraph-1w", "deep_cursor"),
        ("postgraphile-v4", "deep_cursor"),
        ("postgraphile-v5", "deep_cursor"),
        ("raw", "deep_cursor"),
    ):
        plans = _system_plans(cells.get((name, scenario)))
        if not plans:
            continue
        plan = plans[0]
        text = "\n".join(plan["text"].splitlines()[:30])
        lines += [
            f"{labels[name]}, {scenario}: {plan['duration_ms']:.1f} ms",
            "",
            "```",
            text,
            "```",
            "",
        ]
    return lines


def _statements(results: dict[str, Any]) -> list[str]:
    cells, labels = _cells(results), _labels(results)
    lines = [
        "## What the statements are (per request, by pg_stat_statements)",
        "",
    ]
    for system, scenario in (
        ("envgraph-1w", "by_id"),
        ("envgraph-1w", "mutation"),
        ("postgraphile-v4", "by_id"),
        ("postgraphile-v5", "mutation"),
    ):
        cell = cells.get((system, scenario))
        if not cell or not cell.get("top_statements"):
            continue
        lines.append(f"{labels[system]}, {scenario}: {cell['statements']:.1f} per request")
        lines.append("")
        for calls, text in cell["top_statements"]:
            lines.append(f"- {calls:g} x `{text[:110].replace('`', '')}`")
        lines.append("")
    return lines


def write_report(results: dict[str, Any], output: Path) -> str:
    """Write RESULTS.md and results.png into `output` (an events run:
    RESULTS-events.md, bench/report_events.py); returns what was written."""
    from bench.report_events import is_events_run, write_events_report

    if is_events_run(results):
        return write_events_report(results, output)
    output.mkdir(parents=True, exist_ok=True)
    lines = _header(results)
    lines += _goals(results)
    lines += ["## Figures", ""]
    for scenario in SCENARIOS:
        if not any(c["scenario"] == scenario.name for c in results["cells"]):
            continue
        scale = "small" if results["quick"] else scenario.database
        lines += [f"### {scenario.title} (`{scale}`)", "", *_table(results, scenario.name), ""]
    lines += _plans(results)
    lines += _statements(results)
    failed = [c for c in results["cells"] if c.get("error")]
    lines += ["## Failed or skipped", ""]
    lines += [f"- {c['system']} / {c['scenario']}: {c['error']}" for c in failed]
    lines += [
        f"- {info['label']}: not available ({info['unavailable']})"
        for info in results["systems"].values()
        if info.get("unavailable")
    ]
    if not failed and not any(i.get("unavailable") for i in results["systems"].values()):
        lines.append("- nothing")
    lines.append("")
    markdown = output / "RESULTS.md"
    markdown.write_text("\n".join(lines))
    chart = output / "results.png"
    draw_chart(results, chart, _labels(results))
    return f"wrote {markdown} and {chart}"

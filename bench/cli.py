"""`python -m bench run [--quick]`: the whole matrix, then RESULTS.md and the chart.
`python -m bench report RESULTS_JSON`: the report again from saved results."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from dataclasses import replace
from pathlib import Path
from types import FrameType

from bench import statelock
from bench.runner import EVENT_SYSTEMS, INGEST, Matrix, Plan
from bench.scenarios import SCENARIOS
from bench.systems import SYSTEMS

_HERE = Path(__file__).resolve().parent
DEFAULT_STATE = Path("/tmp/envgraph-bench")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the matrix, write the report")
    run.add_argument("--quick", action="store_true", help="small scale, 2 s runs, 1 repeat")
    run.add_argument("--max-seconds", type=float, help="longest timed run (default 20)")
    run.add_argument("--state-dir", type=Path, default=DEFAULT_STATE, help="pgdata, peers, logs")
    run.add_argument("--port", type=int, default=55440, help="the bench cluster's port")
    run.add_argument("--repeats", type=int, help="default 3 (quick: 1)")
    run.add_argument("--seconds", type=float, help="each timed run at least (default 5, quick 2)")
    run.add_argument("--systems", help="comma-separated, of: " + ",".join(s.name for s in SYSTEMS))
    run.add_argument(
        "--scenarios",
        help="comma-separated, of: " + ",".join([*(s.name for s in SCENARIOS), INGEST]),
    )
    run.add_argument(
        "--events",
        action="store_true",
        help="issue 13's run: the events scenarios and bulk ingestion on ten million events, "
        f"systems {','.join(EVENT_SYSTEMS)} unless --systems; writes RESULTS-events.md",
    )
    run.add_argument(
        "--ingest-mib", type=int, help="the bulk upload's size in MiB (default 1024, quick 16)"
    )
    run.add_argument(
        "--no-install", action="store_true", help="use the installed peers as they are"
    )
    run.add_argument(
        "--output",
        type=Path,
        help="folder for RESULTS.md and results.png (default: bench/, quick: the state folder)",
    )
    report = commands.add_parser("report", help="write the report from a results file")
    report.add_argument(
        "results", type=Path, nargs="+", help="results files; later ones add the cells it lacks"
    )
    report.add_argument("--output", type=Path, default=_HERE)
    return parser


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(143)


def main(argv: list[str] | None = None) -> int:
    """Run a command; the exit status."""
    args = _parser().parse_args(argv)
    # SIGTERM unwinds like an error, so that the running server is stopped
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    from bench.report import merged, write_report  # matplotlib only when reporting

    if args.command == "report":
        results = merged([json.loads(path.read_text()) for path in args.results])
        print(write_report(results, args.output))
        return 0
    try:
        lock = statelock.hold(args.state_dir.absolute())
    except statelock.StateBusy as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    plan = Plan(state_dir=args.state_dir.absolute(), port=args.port, install=not args.no_install)
    if args.quick:
        plan = replace(
            plan,
            quick=True,
            repeats=1,
            throughput_s=2,
            latency_s=2,
            warmup_s=1,
            count_requests=3,
            max_run_s=10,
            ingest_mib=16,
        )
    if args.events:
        events = (*(s.name for s in SCENARIOS if s.database == "events"), INGEST)
        plan = replace(plan, scenarios=events, systems=EVENT_SYSTEMS)
    if args.ingest_mib:
        plan = replace(plan, ingest_mib=args.ingest_mib)
    if args.max_seconds:
        plan = replace(plan, max_run_s=args.max_seconds)
    if args.repeats:
        plan = replace(plan, repeats=args.repeats)
    if args.seconds:
        plan = replace(plan, throughput_s=args.seconds, latency_s=args.seconds)
    if args.systems:
        plan = replace(plan, systems=tuple(args.systems.split(",")))
    if args.scenarios:
        plan = replace(plan, scenarios=tuple(args.scenarios.split(",")))
    matrix = Matrix(plan, log=lambda line: print(line, flush=True))
    results = matrix.run()
    output = args.output or (plan.state_dir / "report" if plan.quick else _HERE)
    print(f"results: {matrix.results_file}")
    print(write_report(results, output))
    lock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

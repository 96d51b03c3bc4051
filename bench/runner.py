"""The whole matrix: every system on the same cluster, every scenario: answers
compared, statements counted, plans logged, then timed. The systems run side by
side, and each repeat of a scenario times them one after another (see
`Matrix._run_scale`).

Results are written after every cell (`<state>/results/<stamp>.json`), so an
interrupted run still leaves what it measured.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import client, ingest_events, machine, peers
from bench.cluster import Cluster
from bench.compare import difference, normalise
from bench.database import AUTHOR_EMAIL, Prepared, prepare
from bench.datagen import SCALES
from bench.load import Target, run_wrk
from bench.noise import NoiseMeter
from bench.plans import capture_plans
from bench.rss import PeakRss
from bench.scenarios import (
    EVENT_SCENARIOS,
    SCENARIOS,
    DataFacts,
    Scenario,
    body,
    data_facts,
    has_query,
    registration,
    variables,
    write_id_file,
)
from bench.statements import count_statements
from bench.systems import SYSTEMS, Running, System, unavailable

# plans are worth reading where a page walks many rows
_EXPLAINED = frozenset({"list", "deep_first", "deep_offset", "deep_cursor"}) | EVENT_SCENARIOS
_REFERENCE = "envgraph-1w"
# not a wrk scenario: bulk ingestion against a raw COPY, after the systems
INGEST = "events_ingest"
# the systems and scenarios of `--events` (issue 13): PostGraphile v4 is left out
EVENT_SYSTEMS = ("envgraph-1w", "postgraphile-v5", "raw")


@dataclass(frozen=True, slots=True)
class Plan:
    """How long and how often; what to run."""

    state_dir: Path
    port: int = 55440
    quick: bool = False
    repeats: int = 3
    throughput_s: float = 5
    latency_s: float = 5
    warmup_s: float = 2
    max_run_s: float = 20
    connections: int = 16
    pool: int = 16
    count_requests: int = 10
    systems: tuple[str, ...] = tuple(s.name for s in SYSTEMS)
    # the events scenarios need a database of ten million events: asked for
    # by name (or `--events`), not part of the default matrix
    scenarios: tuple[str, ...] = tuple(s.name for s in SCENARIOS if s.name not in EVENT_SCENARIOS)
    install: bool = True
    ingest_mib: int = 1024  # the bulk upload's size

    def durations(self, single_s: float) -> tuple[float, float, float]:
        """(throughput, latency, warm-up) seconds for requests that take `single_s`
        alone: 16 slow requests started together finish together, so a run
        must last a few rounds of them, or it counts none. Capped, so that the
        whole matrix stays within about 40 minutes: a request slower than
        about 0.6 s gets fewer than 3 rounds (the report gives the durations)."""
        rounds = self.connections * single_s
        return (
            min(max(self.throughput_s, 3 * rounds), self.max_run_s),
            min(max(self.latency_s, 20 * single_s), self.max_run_s / 2),
            min(max(self.warmup_s, rounds), self.max_run_s / 3),
        )

    def database_of(self, scenario: Scenario) -> str:
        """The scale a scenario runs on (the quick mode keeps to small ones)."""
        if self.quick:
            return "events_quick" if scenario.database == "events" else "small"
        return scenario.database

    @property
    def events_scale(self) -> str | None:
        """The events database, when an events scenario or ingestion runs."""
        if not set(self.scenarios) & (EVENT_SCENARIOS | {INGEST}):
            return None
        return "events_quick" if self.quick else "events"


@dataclass
class Cell:
    """One system x scenario."""

    system: str
    scenario: str
    answer: str = ""
    statements: float | None = None
    top_statements: list[tuple[float, str]] = field(default_factory=list)
    plans: list[dict[str, Any]] = field(default_factory=list)
    rss_peak_bytes: int | None = None
    throughput: list[dict[str, Any]] = field(default_factory=list)
    latency: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


@dataclass
class _Timed:
    """A prepared cell: what one timed repeat of it needs."""

    cell: Cell
    running: Running
    rss: PeakRss
    target: Target
    noise: NoiseMeter
    throughput_s: float
    latency_s: float

    def repeat(self, connections: int) -> None:
        """One throughput run at `connections`, one latency run at one connection,
        each after the server has gone idle."""
        self.running.wait_idle()
        self.cell.throughput.append(
            run_wrk(self.target, connections, self.throughput_s, self.noise).as_dict()
        )
        self.running.wait_idle()
        self.cell.latency.append(run_wrk(self.target, 1, self.latency_s, self.noise).as_dict())


class Matrix:
    """State of one run."""

    def __init__(self, plan: Plan, log: Callable[[str], None] = print) -> None:
        self.plan = plan
        self.log = log
        self.cluster = Cluster(plan.state_dir, plan.port)
        self.stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        self.results_file = plan.state_dir / "results" / f"{self.stamp}.json"
        self.references: dict[str, Any] = {}
        self.answers: dict[tuple[str, str], Any] = {}
        self.cells: list[Cell] = []
        self.results: dict[str, Any] = {}
        self._names = itertools.count()

    # -- the run ---------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        """Everything; returns the results (also written to `results_file`)."""
        started = time.monotonic()
        self.cluster.init()
        self.cluster.start()
        installed = peers.Peers(self.plan.state_dir / "node")
        if self.plan.install:
            installed = peers.install(self.plan.state_dir / "node")
        scales = sorted({self.plan.database_of(s) for s in self._scenarios()})
        if self.plan.events_scale and INGEST in self.plan.scenarios:
            scales = sorted({*scales, self.plan.events_scale})
        databases: dict[str, Prepared] = {}
        for scale in scales:
            self.log(f"database {scale}: preparing")
            databases[scale] = prepare_sync(self.cluster, scale)
            self.log(f"database {scale}: {databases[scale].counts}")
        facts = {s: data_facts(databases[s].url, AUTHOR_EMAIL) for s in scales}
        self.results = {
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "quick": self.plan.quick,
            "plan": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self.plan).items()},
            "machine": machine.describe(self.cluster.version()),
            "versions": peers.versions(installed),
            "databases": {
                s: {"counts": p.counts, "generate_seconds": p.generate_seconds}
                for s, p in databases.items()
            },
            "systems": {},
            "cells": [],
        }
        chosen_systems = []
        for system in self._systems():
            reason = unavailable(system)
            self.results["systems"][system.name] = {"label": system.label, "unavailable": reason}
            if reason:
                self.log(f"{system.label}: not available ({reason})")
            else:
                chosen_systems.append(system)
        for scale in scales:
            chosen = [s for s in self._scenarios() if self.plan.database_of(s) == scale]
            if chosen and chosen_systems:
                self._run_scale(chosen_systems, databases[scale], facts[scale], chosen, installed)
        events = self.plan.events_scale
        if INGEST in self.plan.scenarios and events:
            self._ingest(databases[events], facts[events], installed)
        self.results["minutes"] = round((time.monotonic() - started) / 60, 1)
        self.results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
        self._save()
        return self.results

    def _systems(self) -> list[System]:
        # the reference answers come from envgraph (1 worker): it goes first
        chosen = [s for s in SYSTEMS if s.name in self.plan.systems]
        return sorted(chosen, key=lambda s: s.name != _REFERENCE)

    def _scenarios(self) -> list[Scenario]:
        return [s for s in SCENARIOS if s.name in self.plan.scenarios]

    def _ingest(self, database: Prepared, facts: DataFacts, installed: peers.Peers) -> None:
        """Bulk ingestion vs a raw COPY of the same rows, in copies of the database."""
        system = next(s for s in SYSTEMS if s.name == _REFERENCE)
        log = self.plan.state_dir / "logs" / f"{system.name}-ingest.log"
        self.log(f"{system.label}: bulk ingestion, {self.plan.ingest_mib} MiB")
        try:
            result = ingest_events.measure_ingestion(
                cluster=self.cluster,
                source=database.name,
                environment=str(facts.environment_ids[0]),
                token=database.token,
                size_bytes=self.plan.ingest_mib * 2**20,
                cluster_uid=self.cluster_uid(),
                start_server=lambda url: Running(system, url, self.plan.pool, installed, log),
                log=self.log,
            )
            self.results["ingest"] = result.as_dict()
        except Exception as error:
            self.results["ingest"] = {"error": f"{type(error).__name__}: {error}"[:500]}
            self.log(f"  ingest: FAILED {self.results['ingest']['error']}")
        self._save()

    def _save(self) -> None:
        self.results["cells"] = [asdict(c) for c in self.cells]
        self.results_file.parent.mkdir(parents=True, exist_ok=True)
        self.results_file.write_text(json.dumps(self.results, indent=1, default=str))

    def _run_scale(
        self,
        systems: list[System],
        database: Prepared,
        facts: DataFacts,
        scenarios: list[Scenario],
        installed: peers.Peers,
    ) -> None:
        """Every system started at once on `database`; a scenario's repeats go round
        the systems in turn. A machine whose speed drifts from one minute to the next
        then moves every system's figures of a repeat alike: a ratio no longer
        compares runs made minutes apart."""
        started: list[tuple[System, Running, PeakRss]] = []
        try:
            for system in systems:
                log = self.plan.state_dir / "logs" / f"{system.name}.log"
                self.log(f"{system.label}: starting on {database.name}")
                running = Running(system, database.url, self.plan.pool, installed, log)
                started.append((system, running, PeakRss(running.pid)))
            for scenario in scenarios:
                self._run_scenario(scenario, database, facts, started)
        finally:
            for _, running, rss in started:
                rss.close()
                running.stop()

    def _run_scenario(
        self,
        scenario: Scenario,
        database: Prepared,
        facts: DataFacts,
        started: list[tuple[System, Running, PeakRss]],
    ) -> None:
        """One scenario on every started system: each prepared (answer, statements,
        plans, warm-up), then the repeats, one system after another in each."""
        timed: list[_Timed] = []
        for system, running, rss in started:
            if not has_query(system.family, scenario.name):
                continue  # e.g. PostGraphile v4 has no events scenarios
            cell = Cell(system.name, scenario.name)
            self.cells.append(cell)
            try:  # one broken cell must not end the run
                timed.append(
                    self._prepare_cell(
                        cell=cell,
                        system=system,
                        scenario=scenario,
                        database=database,
                        facts=facts,
                        running=running,
                        rss=rss,
                    )
                )
            except Exception as error:
                self._failed(cell, error)
            self._save()
        for _ in range(self.plan.repeats):
            for one in timed:
                if one.cell.error is None:
                    try:
                        one.repeat(self.plan.connections)
                    except Exception as error:
                        self._failed(one.cell, error)
            self._save()
        for one in timed:
            cell = one.cell
            cell.rss_peak_bytes = one.rss.take()
            if cell.error is None:
                best = max(r["rps"] for r in cell.throughput)
                p50 = sorted(r["p50_ms"] for r in cell.latency)[len(cell.latency) // 2]
                self.log(
                    f"  {cell.system}, {scenario.name}: {best:.1f} req/s (best of "
                    f"{self.plan.repeats}), p50 {p50:.2f} ms, "
                    f"{cell.statements:.1f} statements/request"
                )
        self._save()

    def _failed(self, cell: Cell, error: Exception) -> None:
        cell.error = f"{type(error).__name__}: {error}"[:500]
        self.log(f"  {cell.system}, {cell.scenario}: FAILED {cell.error}")

    # -- one cell --------------------------------------------------------------

    def _prepare_cell(
        self,
        *,
        cell: Cell,
        system: System,
        scenario: Scenario,
        database: Prepared,
        facts: DataFacts,
        running: Running,
        rss: PeakRss,
    ) -> _Timed:
        """The answer compared, statements counted, plans captured and a warm-up:
        everything before the timed repeats."""
        family = system.family
        token = database.token if system.needs_token else None
        folder = self.plan.state_dir / "requests" / database.name
        folder.mkdir(parents=True, exist_ok=True)
        id_file = None
        if scenario.ids:
            id_file = write_id_file(
                folder / f"{family}-{scenario.ids}.ids", family, scenario.ids, facts
            )
        cursor = _cursor(system, scenario, facts, token)
        values = variables(family, scenario.name, facts, cursor)
        template = body(family, scenario.name, values)
        body_file = folder / f"{system.name}-{scenario.name}.json"
        body_file.write_text(template)
        ids = client.first_ids(id_file)
        _register(system, scenario, values, ids, token)

        def send() -> float:
            started = time.perf_counter()
            answer = client.post(
                system.url,
                client.fill(template, ids, f"cnt-{self.stamp}-{next(self._names)}"),
                token,
            )
            if "errors" in answer:
                raise RuntimeError(f"errors in the answer: {json.dumps(answer['errors'])[:300]}")
            return time.perf_counter() - started

        # 1. the answer, compared before anything is timed
        probe_name = f"cmp-{system.name}-{self.stamp}"
        answer = client.post(system.url, client.fill(template, ids, probe_name), token)
        if "errors" in answer or answer.get("data") is None:
            cell.answer = "error"
            raise RuntimeError(f"errors in the answer: {json.dumps(answer.get('errors'))[:300]}")
        data = normalise(answer["data"], probe_name)
        self.answers[(system.name, scenario.name)] = data
        cell.answer = self._judge(system, scenario, data)
        self.log(f"  {system.name}, {scenario.name}: answer {cell.answer}")
        # 2. statements per request, after a warm-up that also tells how long
        # one request takes, which sets how long the timed runs must be
        single_s = max(send(), send())
        throughput_s, latency_s, warmup_s = self.plan.durations(single_s)
        counted = count_statements(
            self.cluster.admin_url(), database.name, send, self.plan.count_requests
        )
        cell.statements = counted.per_request
        cell.top_statements = counted.top
        # 3. plans of the paging scenarios
        if scenario.name in _EXPLAINED:
            plans = sorted(capture_plans(self.cluster, send), key=lambda p: -p.duration_ms)
            cell.plans = [asdict(p) for p in plans[:3]]
        # 4. a warm-up; the repeats come later, in turn with the other systems'
        target = Target(system.url, body_file, id_file, token)
        noise = NoiseMeter(self.cluster_uid())
        rss.take()  # the peak of the warm-up and timed runs alone
        running.wait_idle()
        run_wrk(target, self.plan.connections, warmup_s, noise)
        return _Timed(cell, running, rss, target, noise, throughput_s, latency_s)

    def _judge(self, system: System, scenario: Scenario, data: Any) -> str:
        if system.name == _REFERENCE:
            self.references[scenario.name] = data
            verdict = "reference"
        elif scenario.name not in self.references:
            return "not compared (no reference answer)"
        else:
            found = difference(self.references[scenario.name], data)
            verdict = "equal" if found is None else f"differs: {found}"
        if scenario.name == "deep_cursor":
            offset_page = self.answers.get((system.name, "deep_offset"))
            if offset_page is not None and difference(offset_page, data) is not None:
                verdict += "; differs from its deep_offset page"
        return verdict

    def cluster_uid(self) -> int | None:
        """The cluster's OS user (its processes are ours for the noise figure)."""
        import pwd

        try:
            return pwd.getpwnam(self.cluster.os_user).pw_uid
        except KeyError:
            return None


def _cursor(system: System, scenario: Scenario, facts: DataFacts, token: str | None) -> Any:
    """The cursor a scenario starts after, asked of the system itself (None: none)."""
    if not scenario.cursor_query:
        return None
    values = variables(system.family, scenario.cursor_query, facts)
    found: Any = client.post(system.url, body(system.family, scenario.cursor_query, values), token)
    for key in scenario.cursor_at:
        found = found[key]
    return found


def _register(
    system: System,
    scenario: Scenario,
    values: dict[str, Any],
    ids: tuple[str, str] | None,
    token: str | None,
) -> None:
    """A persisted scenario's document, stored once by a POST of text and hash
    (untimed), so that every request after it is the hash alone."""
    register = registration(system.family, scenario.name, values)
    if register is not None:
        client.post(system.url, client.fill(register, ids, "registration"), token)


def prepare_sync(cluster: Cluster, scale: str) -> Prepared:
    """`prepare` for the synchronous runner."""
    import asyncio

    return asyncio.run(prepare(cluster, SCALES[scale]))

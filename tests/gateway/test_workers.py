"""`serve --workers N`: N processes on one port, restarted when one dies."""

from __future__ import annotations

import signal
import time
import urllib.request

import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.metrics import TALLY_INTERVAL_S
from tests.service import Service
from tests.support import VIEWER_QUERY


def test_two_workers_share_the_port_and_a_dead_one_is_replaced(
    database_url: str, token: str
) -> None:
    with Service("--workers", "2", env={"DATABASE_URL": database_url}) as service:
        banner = service.ready().lines
        assert f"envgraph serving {service.url}/graphql (database: DATABASE_URL; 2 workers)" in (
            banner
        )
        deadline = time.monotonic() + 30
        while len(first := service.workers()) < 2:  # forked one after the other
            assert time.monotonic() < deadline, "no second worker"
            time.sleep(0.1)
        assert len(first) == 2
        # every request on a fresh connection is answered, by either process
        answers = [service.post(VIEWER_QUERY, token) for _ in range(40)]
        assert {status for status, _ in answers} == {200}
        assert all(
            body["data"]["viewer"]["user"]["email"] == "ada@example.com" for _, body in answers
        )
        # both processes accept on the very port
        for worker in first:
            listening = {
                c.laddr.port
                for c in worker.net_connections("tcp")
                if c.status == psutil.CONN_LISTEN
            }
            assert listening == {service.port}

        first[0].kill()
        deadline = time.monotonic() + 30
        while {w.pid for w in service.workers()} in ({first[1].pid}, {w.pid for w in first}):
            assert time.monotonic() < deadline, "the killed worker was not replaced"
            time.sleep(0.1)
        replacement = {w.pid for w in service.workers()} - {first[1].pid}
        assert len(replacement) == 1
        assert not psutil.pid_exists(first[0].pid) or first[0].status() == psutil.STATUS_ZOMBIE
        assert {service.post(VIEWER_QUERY, token)[0] for _ in range(20)} == {200}

        workers = service.workers()
        assert service.stop(signal.SIGTERM) == 0
        assert not any(w.is_running() for w in workers)
        assert service.lines[-1] == "envgraph stopped"


def test_workers_is_checked(database_url: str) -> None:
    with Service("--workers", "0", env={"DATABASE_URL": database_url}) as service:
        assert service.process.wait(timeout=30) == 2
        service.read_until("envgraph: argument --workers: '0' is not a number of workers")


@pytest.mark.parametrize("value", ["0", "many"])
def test_workers_variable_is_checked(database_url: str, value: str) -> None:
    with Service(env={"DATABASE_URL": database_url, "GATEWAY_WORKERS": value}) as service:
        assert service.process.wait(timeout=30) == 2
        service.read_until(f"envgraph: GATEWAY_WORKERS={value!r}: takes a whole number from 1")


def _samples(service: Service) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"{service.url}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_add_up_across_workers(database_url: str, token: str) -> None:
    with Service("--workers", "2", env={"DATABASE_URL": database_url}) as service:
        service.ready()
        for _ in range(30):  # on fresh connections: both workers take some
            assert service.post("query Counted { viewer { scopes } }", token)[0] == 200
        counted = ("envgraph_requests_total", (("operation", "Counted"), ("outcome", "ok")))
        # each worker writes its counts within the tally's interval (gateway/metrics.py):
        # then whichever worker answers the scrape tells the sum of both
        deadline = time.monotonic() + 10
        scrapes = [_samples(service) for _ in range(6)]
        while {s.get(counted) for s in scrapes} != {30} and time.monotonic() < deadline:
            time.sleep(TALLY_INTERVAL_S)
            scrapes = [_samples(service) for _ in range(6)]
        assert {s.get(counted) for s in scrapes} == {30}
        assert {s[("envgraph_requests_in_flight", ())] for s in scrapes} == {0}
        assert all(s[("envgraph_pool_connections", ())] >= 1 for s in scrapes)
        # a worker's death loses none of what it counted
        service.workers()[0].kill()
        deadline = time.monotonic() + 30
        while len(service.workers()) < 2:
            assert time.monotonic() < deadline, "the killed worker was not replaced"
            time.sleep(0.1)
        assert _samples(service)[counted] == 30
        assert service.stop() == 0

"""`/metrics`: Prometheus text, counting what requests did."""

from __future__ import annotations

import asyncio
import time

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from gateway.keys import METRICS
from gateway.metrics import TALLY_INTERVAL_S, _observe_all
from tests.support import Client, graphql


async def _scrape(client: Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


async def test_requests_errors_statements_and_pool(client: Client, token: str) -> None:
    await graphql(client, "query Me { viewer { scopes } }", token)
    await graphql(client, "query Me { viewer { scopes } }", token)
    await graphql(client, "query Me { viewer { scopes } }")  # no token
    await graphql(client, "{ nope }", token)
    samples = await _scrape(client)
    assert samples[("envgraph_requests_total", (("operation", "Me"), ("outcome", "ok")))] == 2
    # no token: not under the operation's own name (anyone could fill the labels)
    unauthenticated = (("operation", "unauthenticated"), ("outcome", "error"))
    assert samples[("envgraph_requests_total", unauthenticated)] == 1
    assert (
        samples[("envgraph_requests_total", (("operation", "anonymous"), ("outcome", "error")))]
        == 1
    )
    assert samples[("envgraph_errors_total", (("code", "UNAUTHENTICATED"),))] == 1
    assert samples[("envgraph_errors_total", (("code", "GRAPHQL_VALIDATION_FAILED"),))] == 1
    assert samples[("envgraph_request_duration_seconds_count", ())] == 4
    # a token check is one statement (none without a token); the viewer query adds none
    assert samples[("envgraph_sql_statements_per_request_count", ())] == 4
    assert samples[("envgraph_sql_statements_per_request_sum", ())] == 3
    assert samples[("envgraph_requests_in_flight", ())] == 0
    assert samples[("envgraph_pool_connections", ())] >= 1
    assert samples[("envgraph_pool_connections_in_use", ())] == 0


async def test_operation_names_cannot_flood_the_labels(client: Client, token: str) -> None:
    await graphql(client, "query Weird { viewer { scopes } }", token)
    response = await client.post(
        "/graphql",
        json={"query": "{ viewer { scopes } }", "operationName": "bad name!"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status == 400  # no such operation in the document
    samples = await _scrape(client)
    operations = {
        dict(labels).get("operation")
        for name, labels in samples
        if name == "envgraph_requests_total"
    }
    assert operations == {"Weird", "invalid"}


async def test_anonymous_clients_cannot_fill_the_operation_labels(
    client: Client, token: str
) -> None:
    for i in range(5):
        await graphql(client, f"query Secret{i} {{ viewer {{ scopes }} }}")  # no token
    await graphql(client, "query Mine { viewer { scopes } }", token)
    samples = await _scrape(client)
    operations = {
        dict(labels)["operation"] for name, labels in samples if name == "envgraph_requests_total"
    }
    # anonymous callers' operation names are neither shown nor given a series
    assert operations == {"Mine", "unauthenticated"}


async def test_counts_are_written_without_a_scrape(client: Client, token: str) -> None:
    """A request's counts wait in the process (gateway/metrics.py `_Tally`), and are
    written to the metrics shared with the other workers within the interval, scrape
    or not: whichever worker answers a scrape then tells them."""
    metrics = client.app[METRICS]
    await graphql(client, "query Tallied { viewer { scopes } }", token)
    deadline = time.monotonic() + 5
    labels = {"operation": "Tallied", "outcome": "ok"}
    while metrics.registry.get_sample_value("envgraph_requests_total", labels) is None:
        assert time.monotonic() < deadline, "not written within 5 s"
        await asyncio.sleep(TALLY_INTERVAL_S / 2)
    assert metrics.registry.get_sample_value("envgraph_requests_total", labels) == 1
    assert metrics.registry.get_sample_value("envgraph_requests_in_flight") == 0


def test_observations_written_together_are_observations_written_one_by_one() -> None:
    """The tally writes a histogram's observations as one write per bucket and one of
    the sum: the exposition is what observe() of each would have made."""
    observed = [0, 0.0001, 1, 2, 2.5, 7, 100, 1e9, -3]
    one_by_one, together = CollectorRegistry(), CollectorRegistry()
    first = Histogram("h", "", buckets=(0, 1, 2, 10), registry=one_by_one)
    second = Histogram("h", "", buckets=(0, 1, 2, 10), registry=together)
    for value in observed:
        first.observe(value)
    _observe_all(second, observed)

    def lines(registry: CollectorRegistry) -> list[str]:
        text = generate_latest(registry).decode()
        return [line for line in text.splitlines() if "_created" not in line]

    assert lines(together) == lines(one_by_one)
    assert 'h_bucket{le="2.0"} 5.0' in lines(together)

"""`/metrics`: Prometheus text, counting what requests did."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

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

"""One log line per GraphQL request, as JSON or as text."""

from __future__ import annotations

import json
import logging

import pytest

from tests.service import Service
from tests.support import Client


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_each_request_is_one_line(database_url: str, token: str, log_format: str) -> None:
    env = {"DATABASE_URL": database_url, "GATEWAY_LOG_FORMAT": log_format}
    with Service(env=env) as service:
        service.ready()
        query = "query Mine { viewer { user { email } } environments(first: 500) { totalCount } }"
        status, _ = service.post(query, token, request_id="log-test-1")
        assert status == 200
        assert service.stop() == 0
    [line] = [line for line in service.lines if "log-test-1" in line]
    fields = {
        "requestId": "log-test-1",
        "method": "POST",
        "operation": "Mine",
        "status": 200,
        "statements": 2,  # the token check and the viewer's user
        "errors": ["BAD_USER_INPUT"],  # first: 500 is over the largest page
        "executor": "resolver",  # `viewer` is not compiled
    }
    if log_format == "json":
        entry = json.loads(line)
        assert entry.pop("durationMs") > 0
        assert entry.pop("time")
        assert entry.pop("message").startswith("requestId=log-test-1 method=POST operation=Mine")
        assert entry == {"level": "info", "logger": "envgraph.requests", **fields}
    else:
        _, _, level, logger, text = line.split(" ", 4)
        assert (level, logger) == ("INFO", "envgraph.requests:")
        words = dict(word.split("=") for word in text.split())
        assert float(words.pop("durationMs")) > 0
        assert words == {
            k: ",".join(v) if isinstance(v, list) else str(v) for k, v in fields.items()
        }


async def test_an_operation_name_cannot_forge_a_log_line(
    client: Client, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    forged = "A\nINFO envgraph.requests: requestId=forged status=200"
    caplog.set_level(logging.INFO, logger="envgraph.requests")
    response = await client.post(
        "/graphql",
        json={"query": "{ __typename }", "operationName": forged},
        headers={"Authorization": f"Bearer {token}", "X-Request-Id": "log-forge"},
    )
    assert response.status == 400  # no such operation
    [record] = [r for r in caplog.records if r.name == "envgraph.requests"]
    text = record.getMessage()
    assert "\n" not in text
    assert text.startswith(
        'requestId=log-forge method=POST operation="A\\nINFO envgraph.requests: '
        'requestId=forged status=200" status=400'
    )
    assert record.__dict__["fields"]["operation"] == forged  # the JSON format: as sent

"""One log line per GraphQL request, as JSON or as text."""

from __future__ import annotations

import json

import pytest

from tests.service import Service


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

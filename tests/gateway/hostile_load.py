"""The hostile clients of tests/gateway/test_noisy_neighbour.py, in a process of
their own: `python -m tests.gateway.hostile_load` reads a JSON plan on stdin
(url, seconds, the documents by kind, the tokens) once it has printed "ready"
(its imports done), prints "started" when its
clients start sending, and at the end one JSON line: the answers counted by
kind and status. Apart from the test's process, so that the neighbour's timing
client shares neither its GIL nor its garbage collections with the load: the
test measures the server's isolation, not the client's."""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from collections import Counter
from typing import Any

import aiohttp


async def load(plan: dict[str, Any]) -> Counter[tuple[str, int]]:
    url: str = plan["url"]
    hostile: dict[str, list[Any]] = plan["hostile"]
    anonymous: str = plan["anonymous"]
    answers: Counter[tuple[str, int]] = Counter()
    numbers = itertools.count()

    async def attacker(http: aiohttp.ClientSession, first: int, token: str | None) -> None:
        kinds = list(hostile) if token is not None else ["anonymous introspection"]
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        for turn in itertools.count(first):
            if time.monotonic() >= stop_at:
                return
            kind = kinds[turn % len(kinds)]
            query, variables = hostile.get(kind, (anonymous, {}))
            # a new text each time: no cache of parses or validations helps
            body = json.dumps({"query": f"# {next(numbers)}\n{query}", "variables": variables})
            async with http.post(url, data=body, headers=headers) as response:
                await response.read()
                answers[kind, response.status] += 1

    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        stop_at = time.monotonic() + plan["seconds"]
        print("started", flush=True)
        await asyncio.gather(
            *(attacker(http, n, plan["token"]) for n in range(plan["attackers"])),
            *(attacker(http, n, None) for n in range(plan["anonymous_tasks"])),
        )
    return answers


def main() -> None:
    print("ready", flush=True)
    answers = asyncio.run(load(json.load(sys.stdin)))
    print(json.dumps([[kind, status, n] for (kind, status), n in answers.items()]), flush=True)


if __name__ == "__main__":
    main()

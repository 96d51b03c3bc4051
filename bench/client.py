"""One request at a time, for what is not timed: answers to compare,
statements to count, plans to log. Same bodies and templating as post.lua."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote


def fill(template: str, ids: tuple[str, str] | None, name: str) -> str:
    """The body with post.lua's placeholders replaced (ids: one id-file line);
    in a GET's query string (`?...`), URL-encoded."""
    body = template
    encode = (lambda text: quote(text, safe="")) if template.startswith("?") else str
    if ids is not None:
        body = body.replace("__ID2__", encode(ids[1])).replace("__ID__", encode(ids[0]))
    return body.replace("__NAME__", encode(name))


def first_ids(id_file: Path | None) -> tuple[str, str] | None:
    """The first line of an id file, as post.lua splits it."""
    if id_file is None:
        return None
    first, _, second = id_file.read_text().splitlines()[0].partition("\t")
    return first, second


def post(url: str, body: str, token: str | None, timeout_s: float = 120) -> dict[str, Any]:
    """POST a JSON body, or GET when the body is a query string (`?...`, a
    persisted scenario's); the decoded answer (RuntimeError unless HTTP 200)."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body.startswith("?"):
        request = urllib.request.Request(url + body, headers=headers, method="GET")
    else:
        headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            answer: dict[str, Any] = json.loads(response.read())
            return answer
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"HTTP {error.code}: {error.read()[:300]!r}") from None

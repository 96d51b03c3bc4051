"""GraphiQL at `GET /graphql` with no request outside this server.

The page is strawberry's GraphiQL template with its unpkg.com URLs pointed at
copies vendored in `static/graphiql/` (listed in its `VERSIONS` file, byte for
byte the files the template's SRI `integrity` hashes name), served here under
`/graphiql/<file>`. It is built once, when the app is created; with a demo token,
its Headers editor starts with `{"Authorization": "Bearer <token>"}`, but only
for a page asked for on loopback, of a server listening on loopback only, by
the name this very server has there (`localhost`, `127.0.0.1` or `[::1]` with
its port): a page fetched under any other `Host` (DNS rebinding: a hostile site
whose name now points at 127.0.0.1) or from another machine never holds it.
"""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from aiohttp import web
from strawberry.http.ides import get_graphql_ide_html

STATIC_DIR = Path(__file__).parent / "static" / "graphiql"
ASSET_PREFIX = "/graphiql/"
CDN = "https://unpkg.com/"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# the page, when GraphiQL is on (absent otherwise)
GRAPHIQL_PAGE = web.AppKey("graphiql_page", str)
# the page holding the demo token, when there is one and the server listens on loopback
GRAPHIQL_DEMO_PAGE = web.AppKey("graphiql_demo_page", str)
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")

# file names carry their package's version, so a year of caching is safe
_ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable"
# the page may hold a demo token
_PAGE_CACHE_CONTROL = "no-store"
_CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css"}
# an src/href value that is neither this server's nor inline
_EXTERNAL_REFERENCE = re.compile(r"""\b(?:src|href)\s*=\s*["']?+(?!/[^/]|data:)""", re.IGNORECASE)
# what JSON leaves as is but an HTML parser sees inside <script>
_SCRIPT_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


class TemplateChangedError(RuntimeError):
    """Strawberry's GraphiQL template no longer matches the vendored assets."""


@dataclass(frozen=True)
class Asset:
    """One vendored file: its name here, its npm package@version and path there."""

    file: str
    package: str
    path: str

    @property
    def url(self) -> str:
        """Where this server serves it."""
        return ASSET_PREFIX + self.file

    @property
    def cdn_url(self) -> str:
        """Where strawberry's template loads it from."""
        return f"{CDN}{self.package}/{self.path}"

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES[Path(self.file).suffix]


@cache
def vendored_assets() -> tuple[Asset, ...]:
    """The files of `static/graphiql/VERSIONS` (`<file> <package>@<version> <path>`)."""
    lines = (STATIC_DIR / "VERSIONS").read_text(encoding="utf-8").splitlines()
    assets = []
    for line in lines:
        if line.strip() and not line.startswith("#"):
            file, package, path = line.split()
            assets.append(Asset(file, package, path))
    return tuple(assets)


def _script_literal(value: str | None) -> str:
    """`value` as a JavaScript literal that cannot end the <script> holding it."""
    text = json.dumps(value)  # ASCII only: U+2028/U+2029 come out escaped too
    for char, escaped in _SCRIPT_UNSAFE.items():
        text = text.replace(char, escaped)
    return text


def _replace_once(html: str, old: str, new: str) -> str:
    if html.count(old) != 1:
        raise TemplateChangedError(
            f"strawberry's GraphiQL template has {html.count(old)} x {old!r}, expected 1: "
            "update gateway/static/graphiql (see its VERSIONS) and gateway/graphiql.py"
        )
    return html.replace(old, new)


def render_page(demo_token: str | None = None) -> str:
    """The GraphiQL page: local assets only; with a demo token, headers pre-filled."""
    html = get_graphql_ide_html("graphiql")
    for asset in vendored_assets():
        html = _replace_once(html, f'"{asset.cdn_url}"', f'"{asset.url}"')
    html = _replace_once(html, "<title>Strawberry GraphiQL</title>", "<title>envgraph</title>")
    headers = None
    if demo_token is not None:
        headers = json.dumps({"Authorization": f"Bearer {demo_token}"}, indent=2)
    html = _replace_once(
        html,
        "const EXAMPLE_QUERY =",
        f"const PRESET_HEADERS = {_script_literal(headers)};\n      const EXAMPLE_QUERY =",
    )
    html = _replace_once(
        html,
        "React.useState(parameters.headers)",
        "React.useState(parameters.headers || PRESET_HEADERS)",
    )
    external = _EXTERNAL_REFERENCE.search(html)
    if external is not None:
        line = html[: external.start()].count("\n") + 1
        raise TemplateChangedError(
            f"strawberry's GraphiQL template references a URL outside this server (line {line})"
        )
    return html


def is_loopback(host: str) -> bool:
    """Whether a listening address is reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _asked_on_loopback(request: web.Request) -> bool:
    """Whether the request came over loopback, naming this server as loopback does."""
    transport = request.transport
    local = transport.get_extra_info("sockname") if transport is not None else None
    if not local or not is_loopback(str(local[0])):
        return False
    return request.host.lower() in {f"{name}:{local[1]}" for name in LOOPBACK_NAMES}


def page_response(request: web.Request) -> web.Response:
    """The page built for this app (with the demo token only if asked for on loopback)."""
    demo = request.app.get(GRAPHIQL_DEMO_PAGE)
    page = demo if demo is not None and _asked_on_loopback(request) else None
    return web.Response(
        text=page or request.app[GRAPHIQL_PAGE],
        content_type="text/html",
        charset="utf-8",
        headers={"Cache-Control": _PAGE_CACHE_CONTROL},
    )


@cache
def _load(file: str) -> tuple[bytes, bytes]:
    """A vendored file, as is and gzipped (computed once per process)."""
    body = (STATIC_DIR / file).read_bytes()
    return body, gzip.compress(body, compresslevel=6, mtime=0)


def _asset_handler(asset: Asset) -> Handler:
    async def serve_asset(request: web.Request) -> web.Response:
        """A vendored GraphiQL file, gzipped when the client takes it."""
        body, zipped = await asyncio.to_thread(_load, asset.file)
        headers = {
            "Cache-Control": _ASSET_CACHE_CONTROL,
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
        }
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            body = zipped
            headers["Content-Encoding"] = "gzip"
        return web.Response(
            body=body, content_type=asset.content_type, charset="utf-8", headers=headers
        )

    return serve_asset


def setup_graphiql(
    app: web.Application, demo_token: str | None = None, *, listening_on: str = "127.0.0.1"
) -> None:
    """Give the app the GraphiQL page and the routes of its assets."""
    app[GRAPHIQL_PAGE] = render_page()
    if demo_token is not None and is_loopback(listening_on):
        app[GRAPHIQL_DEMO_PAGE] = render_page(demo_token)
    for asset in vendored_assets():
        app.router.add_get(asset.url, _asset_handler(asset))

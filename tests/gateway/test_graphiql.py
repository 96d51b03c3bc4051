"""GraphiQL at `GET /graphql`: vendored assets, no external request, a real browser."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Route, async_playwright, expect
from strawberry.http.ides import get_graphql_ide_html

from gateway.app import create_app
from gateway.graphiql import ASSET_PREFIX, STATIC_DIR, vendored_assets
from gateway.settings import Settings
from tests.support import Client, require

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

EXPECTED_VERSIONS = {
    ("react-18.2.0.production.min.js", "react@18.2.0"),
    ("react-dom-18.2.0.production.min.js", "react-dom@18.2.0"),
    ("js-cookie-3.0.5.min.js", "js-cookie@3.0.5"),
    ("graphiql-3.8.3.min.css", "graphiql@3.8.3"),
    ("graphiql-3.8.3.min.js", "graphiql@3.8.3"),
    ("graphiql-plugin-explorer-1.0.2.css", "@graphiql/plugin-explorer@1.0.2"),
    ("graphiql-plugin-explorer-1.0.2.umd.js", "@graphiql/plugin-explorer@1.0.2"),
}
# an src/href value with a scheme of the web
EXTERNAL_REFERENCE = re.compile(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)
PRESET_HEADERS = re.compile(r"const PRESET_HEADERS = (.*);\n")


class _References(HTMLParser):
    """Every src/href of a page, with its integrity attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.integrity: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "href"):
            url = values.get(name)
            if url is not None:
                self.integrity[url] = values.get("integrity")


def _references(html: str) -> dict[str, str | None]:
    parser = _References()
    parser.feed(html)
    parser.close()
    return parser.integrity


def _sri(path: Path) -> str:
    digest = hashlib.sha384(path.read_bytes()).digest()
    return "sha384-" + base64.b64encode(digest).decode()


async def _page(client: Client) -> str:
    response = await client.get("/graphql", headers=BROWSER)
    assert response.status == 200
    assert response.content_type == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    return await response.text()


def _preset_headers(html: str) -> str | None:
    [literal] = PRESET_HEADERS.findall(html)
    value: str | None = json.loads(literal)
    return value


def _require_chromium() -> None:
    # Debian's chromium, never a browser download by playwright
    require(Path(CHROMIUM).exists(), CHROMIUM, "apt-get install chromium")


@pytest.fixture
async def demo_client(settings: Settings, token: str) -> AsyncIterator[Client]:
    async with TestClient(TestServer(create_app(settings, demo_token=token))) as test_client:
        yield test_client


def test_vendored_files_are_the_ones_strawberry_pins() -> None:
    original = {
        url: integrity
        for url, integrity in _references(get_graphql_ide_html("graphiql")).items()
        if url.startswith("https://")
    }
    assets = vendored_assets()
    assert {(asset.file, asset.package) for asset in assets} == EXPECTED_VERSIONS
    assert {asset.cdn_url for asset in assets} == set(original)
    for asset in assets:
        assert _sri(STATIC_DIR / asset.file) == original[asset.cdn_url], asset.file
    shipped = {path.name for path in STATIC_DIR.iterdir()}
    assert shipped == {asset.file for asset in assets} | {"VERSIONS", "LICENSES"}


async def test_page_references_only_this_server(client: Client) -> None:
    html = await _page(client)
    assert EXTERNAL_REFERENCE.search(html) is None
    references = _references(html)
    local = {url: integrity for url, integrity in references.items() if url.startswith("/")}
    assert set(references) - set(local) == {
        url for url in references if url.startswith("data:image/svg+xml,")
    }
    assert local == {asset.url: _sri(STATIC_DIR / asset.file) for asset in vendored_assets()}
    assert "<title>envgraph</title>" in html


@pytest.mark.parametrize("accept_encoding", ["gzip, deflate", "identity"])
async def test_assets_are_served_as_vendored(client: Client, accept_encoding: str) -> None:
    for asset in vendored_assets():
        response = await client.get(asset.url, headers={"Accept-Encoding": accept_encoding})
        assert response.status == 200, asset.url
        expected_type = "text/css" if asset.file.endswith(".css") else "text/javascript"
        assert response.content_type == expected_type
        assert response.charset == "utf-8"
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers.get("Content-Encoding") == (
            "gzip" if accept_encoding.startswith("gzip") else None
        )
        assert await response.read() == (STATIC_DIR / asset.file).read_bytes()


async def test_only_listed_files_are_served(client: Client) -> None:
    for path in ("VERSIONS", "LICENSES", "../graphiql.py", "nope.js"):
        response = await client.get(ASSET_PREFIX + path)
        assert response.status == 404, path


async def test_no_demo_token_no_preset_headers(client: Client, token: str) -> None:
    html = await _page(client)
    assert _preset_headers(html) is None
    assert token not in html
    assert "React.useState(parameters.headers || PRESET_HEADERS)" in html


async def test_demo_token_presets_the_headers(demo_client: Client, token: str) -> None:
    html = await _page(demo_client)
    assert _preset_headers(html) == json.dumps({"Authorization": f"Bearer {token}"}, indent=2)


async def test_demo_token_cannot_break_out_of_the_script(settings: Settings) -> None:
    hostile = "</script><script>alert(1)</script><!-- & \u2028'\"`${x}"
    async with TestClient(TestServer(create_app(settings, demo_token=hostile))) as test_client:
        html = await _page(test_client)
    async with TestClient(TestServer(create_app(settings))) as test_client:
        plain = await _page(test_client)
    assert "alert(1)</script>" not in html
    assert html.count("<script") == plain.count("<script")
    assert html.count("</script>") == plain.count("</script>")
    assert "<!--" not in html[html.index("const PRESET_HEADERS") :]
    [literal] = PRESET_HEADERS.findall(html)
    assert literal.isascii()
    assert _preset_headers(html) == json.dumps({"Authorization": f"Bearer {hostile}"}, indent=2)


async def test_graphiql_off_serves_no_page(settings: Settings) -> None:
    app = create_app(replace(settings, graphiql=False), demo_token="egt_x")
    async with TestClient(TestServer(app)) as test_client:
        response = await test_client.get("/graphql", headers=BROWSER)
        assert response.status == 404
        body = await response.json()
        assert body == {
            "data": None,
            "errors": [
                {
                    "message": "Not Found",
                    "extensions": {
                        "code": "NOT_FOUND",
                        "requestId": response.headers["X-Request-Id"],
                    },
                }
            ],
        }
        for asset in vendored_assets():
            assert (await test_client.get(asset.url)).status == 404, asset.url


async def test_graphiql_in_a_real_browser(
    settings: Settings, token: str, artifact: Callable[[Path], None]
) -> None:
    _require_chromium()
    query = "{ viewer { user { email } scopes } }"
    external: list[str] = []
    local: list[str] = []

    async def only_this_server(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOCAL_HOSTS:
            local.append(url)
            await route.continue_()
        else:
            external.append(url)
            await route.abort()

    async with (
        TestServer(create_app(settings, demo_token=token), host="127.0.0.1") as server,
        async_playwright() as playwright,
    ):
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1400, "height": 800})
            await context.route("**/*", only_this_server)
            page = await context.new_page()
            # the page takes its first query from `?q=` (`?query=` would run it as GET)
            base = str(server.make_url("/graphql"))
            await page.goto(f"{base}?q={quote(query, safe='')}")
            headers_tab = page.get_by_role("button", name="Headers")
            await headers_tab.click()
            await expect(page.locator(".graphiql-editor-tool")).to_contain_text(f"Bearer {token}")
            await page.locator(".graphiql-execute-button").click()
            result = page.locator(".graphiql-response")
            await expect(result).to_contain_text("ada@example.com", timeout=30_000)
            await expect(result).to_contain_text('"*"')
            ARTIFACTS.mkdir(exist_ok=True)
            screenshot = ARTIFACTS / "graphiql.png"
            await page.screenshot(path=screenshot)
            artifact(screenshot)
        finally:
            await browser.close()
    assert external == []
    assert {urlsplit(url).path for url in local} >= {
        "/graphql",
        *(asset.url for asset in vendored_assets()),
    }

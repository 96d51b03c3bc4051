"""`serve --demo`: its token is in GraphiQL only for this machine, under this
server's own loopback name, and there is one demo token at a time (issue 17)."""

from __future__ import annotations

import urllib.request

from tests.service import Service

BROWSER = {"Accept": "text/html"}


def _page(service: Service, host: str) -> str:
    request = urllib.request.Request(f"{service.url}/graphql", headers={**BROWSER, "Host": host})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        return str(response.read().decode())


def _demo(service: Service) -> str:
    service.ready()
    service.read_until("demo token for ada@example.com")
    return service.read_until("egt_")


def test_the_demo_token_is_only_for_loopback_names_and_one_at_a_time(database_url: str) -> None:
    with Service("--demo", env={"DATABASE_URL": database_url}) as first:
        token = _demo(first)
        port = first.port
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}"):
            assert f"Bearer {token}" in _page(first, host), host
        # DNS rebinding: a hostile name resolving to 127.0.0.1 gets the page, not the token
        for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1:{port + 1}", "localhost"):
            assert "egt_" not in _page(first, host), host
        assert first.query(token)[0] == 200
        # a server listening on every interface never puts it in the page
        env = {"DATABASE_URL": database_url, "GATEWAY_HOST": "0.0.0.0"}
        with Service("--demo", env=env) as second:
            newer = _demo(second)
            assert "egt_" not in _page(second, f"127.0.0.1:{second.port}")
            # and the newer demo token revoked the one before, on every server
            assert second.query(newer)[0] == 200
            assert second.query(token)[0] == 401
            assert first.query(token)[0] == 401

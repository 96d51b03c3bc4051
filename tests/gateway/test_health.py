"""`/healthz` and `/readyz`."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.settings import Settings
from tests.support import Client, free_port


async def test_healthz(client: Client) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_ready_on_a_migrated_database(client: Client) -> None:
    response = await client.get("/readyz")
    assert response.status == 200
    assert await response.json() == {"status": "ready"}


async def test_not_ready_while_migrations_are_pending(empty_database_url: str) -> None:
    app = create_app(Settings(database_url=empty_database_url))
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/readyz")
        assert response.status == 503
        assert response.headers["Retry-After"] == "5"
        assert await response.json() == {
            "status": "unavailable",
            "reason": "10 migration(s) pending: 0001_initial, 0002_events, 0003_token_notify, "
            "0004_environment_taxonomy, 0005_api_token_projects, 0006_exports, 0007_evaluations, "
            "0008_environment_config, 0009_persisted_documents, 0010_locked_writes",
        }


async def test_not_ready_while_the_database_is_down() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/envgraph"
    async with TestClient(TestServer(create_app(Settings(database_url=url)))) as client:
        health = await client.get("/healthz")
        assert health.status == 200
        response = await client.get("/readyz")
        assert response.status == 503
        assert await response.json() == {"status": "unavailable", "reason": "database unreachable"}


async def test_graphql_while_the_database_is_down_is_503() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/envgraph"
    async with TestClient(TestServer(create_app(Settings(database_url=url)))) as client:
        response = await client.post(
            "/graphql",
            json={"query": "{ viewer { scopes } }"},
            headers={"Authorization": "Bearer egt_0123456789abcdefghijklmnopqrstuvwxyzABCD"},
        )
        assert response.status == 503
        assert response.headers["Retry-After"] == "5"
        body = await response.json()
        assert body == {
            "data": None,
            "errors": [
                {
                    "message": "The database is unavailable; try again shortly.",
                    "extensions": {
                        "code": "SERVICE_UNAVAILABLE",
                        "requestId": response.headers["X-Request-Id"],
                    },
                }
            ],
        }

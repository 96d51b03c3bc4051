"""Demo data and a token per demo user, for the read-graph tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from db.demo import seed_demo
from db.demo_secrets import seed_demo_secrets
from db.secret_box import SecretBox
from db.tokens import create_token
from db.users import create_user
from gateway.app import create_app
from gateway.settings import Settings
from tests.schema.secrets_support import KEY
from tests.support import Client


@dataclass(frozen=True)
class Tokens:
    """Bearer tokens of the demo users: two tenants, a member, a superuser."""

    ada: str
    grace: str
    alan: str
    root: str


async def issue_tokens(conn: asyncpg.Connection) -> Tokens:
    """Tokens for the demo users (seeded already) and a superuser."""
    await create_user(conn, email="root@example.com", name="Root")
    issued = {}
    for name in ("ada", "grace", "alan"):
        issued[name] = (await create_token(conn, email=f"{name}@example.com", scopes=["*"])).token
    root = await create_token(conn, email="root@example.com", scopes=["*"], superuser=True)
    return Tokens(issued["ada"], issued["grace"], issued["alan"], root.token)


# an event in every demo environment (the demo has 2,000 each: too slow to
# load for every test), ending at a fixed time so that runs agree
DEMO_EVENTS = 1
DEMO_EVENTS_UNTIL = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
async def tokens(conn: asyncpg.Connection) -> Tokens:
    """Demo data at scale 1 with a few events and its secrets (under KEY, the `keyed`
    client's), and tokens for its users."""
    await seed_demo(conn, 1, events=DEMO_EVENTS, events_until=DEMO_EVENTS_UNTIL)
    await seed_demo_secrets(conn, SecretBox(KEY))
    return await issue_tokens(conn)


@pytest.fixture
async def keyed(settings: Settings) -> AsyncIterator[Client]:
    """A client of the app with GATEWAY_SECRETS_KEY set (to KEY, made for the run)."""
    app = create_app(replace(settings, secrets_key=KEY))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client

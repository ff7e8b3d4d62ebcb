"""Fixtures for the fault tests: a PostgreSQL database of their own, a submit token."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import POSTGRES_URL, _guard, _pg_admin, _server_url
from tests.live import cli


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated, empty PostgreSQL database (postgresql+asyncpg://), dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("MAILBOX_TEST_POSTGRES_URL is not set")
    template = request.getfixturevalue("postgres_template")
    name = _guard(f"mailbox_faults_{uuid.uuid4().hex[:12]}_test")
    asyncio.run(_pg_admin(f"CREATE DATABASE {name} TEMPLATE {template}"))
    yield _server_url(POSTGRES_URL, name).replace("postgresql://", "postgresql+asyncpg://")
    asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def submit_token(env: dict[str, str]) -> str:
    """A new `submit` API token, made as an administrator makes one."""
    cli(
        env,
        "create-user",
        "portal",
        "--role",
        "dispatcher",
        "--password-stdin",
        stdin="a long password 123\n",
    )
    return cli(env, "token", "create", "portal", "--scope", "submit").strip()

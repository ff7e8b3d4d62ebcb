"""Fixtures: an app over a fresh database per test, on SQLite and (when configured) PostgreSQL.

Each test database is copied from a template migrated once per session, so the whole suite
can run on both databases without paying for the migrations again and again.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from argon2 import PasswordHasher
from starlette.applications import Starlette

from mailbox.app import create_app
from mailbox.auth import passwords
from mailbox.clock import FixedClock
from mailbox.db import migrate
from mailbox.db.database import Database
from mailbox.db.postgres import dsn
from mailbox.settings import Settings

POSTGRES_URL = os.environ.get("MAILBOX_TEST_POSTGRES_URL", "")
SECRET = "test-secret-key-that-is-long-enough-0123456789"
# 2026-09-30 10:00 in Beijing: the last working day before the 国庆 holiday.
START = datetime(2026, 9, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

DIALECTS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgresql: runs on PostgreSQL")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if POSTGRES_URL:
        return
    skip = pytest.mark.skip(reason="MAILBOX_TEST_POSTGRES_URL is not set")
    for item in items:
        if "postgresql" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashes() -> Iterator[None]:
    """In-process tests hash with argon2id at its lowest cost: the same code, about 1 ms a hash
    instead of 400 ms (fixtures create many accounts). Server processes started by the tests
    keep the real cost, and tests/test_cli.py checks it."""
    real = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    passwords._hasher = real


def _server_url(url: str, database: str) -> str:
    return re.sub(r"/[^/]*$", f"/{database}", dsn(url))


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(dsn(POSTGRES_URL))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _guard(name: str) -> str:
    # Never touch a database the suite did not create.
    if not name.endswith("_test"):
        raise RuntimeError(f"refusing to use database {name!r}: test databases end in _test")
    return name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    asyncio.run(migrate.migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    name = _guard(f"mailbox_template_{os.getpid()}_test")
    asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {name}"))
    asyncio.run(_pg_admin(f"CREATE DATABASE {name}"))
    asyncio.run(migrate.migrate(_server_url(POSTGRES_URL, name)))
    yield name
    asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture(params=DIALECTS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each dialect, dropped after the test."""
    if request.param == "sqlite":
        path = tmp_path / "mailbox.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    template = request.getfixturevalue("postgres_template")
    name = _guard(f"mailbox_{uuid.uuid4().hex[:12]}_test")
    asyncio.run(_pg_admin(f"CREATE DATABASE {name} TEMPLATE {template}"))
    yield _server_url(POSTGRES_URL, name).replace("postgresql://", "postgresql+asyncpg://")
    asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=SECRET,
        spam_challenge="off",
        data_dir=str(tmp_path / "var"),
        org_name="测试厅",
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
async def app(settings: Settings, clock: FixedClock) -> AsyncIterator[Starlette]:
    application = create_app(settings, clock=clock, run_mail_worker=False)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def db(app: Starlette) -> Database:
    database: Database = app.state.db
    return database


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def with_settings(settings: Settings, **changes: object) -> Settings:
    return replace(settings, **changes)  # type: ignore[arg-type]

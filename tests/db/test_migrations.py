"""Migrations: the same schema on both databases, seeded channels, refusal of an old schema."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from mailbox.app import SchemaOutdated, create_app
from mailbox.db import migrate
from mailbox.db.postgres import dsn
from mailbox.settings import Settings
from tests.conftest import POSTGRES_URL, SECRET
from tests.live import ROOT, server_environment


def test_every_migration_exists_for_both_databases() -> None:
    sqlite_versions = [(m.version, m.name) for m in migrate.migrations("sqlite")]
    postgres_versions = [(m.version, m.name) for m in migrate.migrations("postgresql")]
    assert sqlite_versions == postgres_versions
    assert [v for v, _ in sqlite_versions] == list(range(1, len(sqlite_versions) + 1))


def _sqlite_columns(path: Path) -> dict[str, set[str]]:
    """Tables and columns; a full-text (virtual) table counts with its rowid, which PostgreSQL
    spells out, and without the shadow tables SQLite keeps its index in."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type='table'").fetchall()
        virtual = {name for name, sql in rows if sql.startswith("CREATE VIRTUAL TABLE")}
        tables = [name for name, _ in rows if not any(name.startswith(f"{v}_") for v in virtual)]
        return {
            t: {r[1] for r in conn.execute(f"PRAGMA table_info({t})")}
            | ({"rowid"} if t in virtual else set())
            for t in tables
        }


async def _postgres_columns(url: str) -> dict[str, set[str]]:
    conn = await asyncpg.connect(dsn(url))
    try:
        rows = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public'"
        )
    finally:
        await conn.close()
    columns: dict[str, set[str]] = {}
    for row in rows:
        columns.setdefault(row["table_name"], set()).add(row["column_name"])
    return columns


@pytest.mark.postgresql
def test_both_databases_get_the_same_tables_and_columns(
    sqlite_template: Path, postgres_template: str
) -> None:
    postgres_url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{postgres_template}"
    assert _sqlite_columns(sqlite_template) == asyncio.run(_postgres_columns(postgres_url))


async def test_the_four_channels_are_seeded(database_url: str) -> None:
    from mailbox.db.database import open_database
    from mailbox.db.queries.channels import list_channels

    db = open_database(database_url)
    await db.connect()
    try:
        channels = await list_channels(db)
    finally:
        await db.close()
    assert [(c.code, c.name, c.reply_days) for c in channels] == [
        ("director", "厅长信箱", 10),
        ("consult", "网上咨询", 5),
        ("complaint", "在线投诉", 10),
        ("suggestion", "意见建议", 10),
    ]
    assert all(c.intake_days == 2 and c.review_required and c.enabled for c in channels)


async def test_migrating_twice_changes_nothing(database_url: str) -> None:
    assert await migrate.migrate(database_url) == []
    assert await migrate.pending(database_url) == []


async def test_the_app_refuses_an_outdated_schema(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
    app = create_app(Settings(database_url=url, secret_key=SECRET))
    with pytest.raises(SchemaOutdated, match="python -m mailbox migrate"):
        async with app.router.lifespan_context(app):
            pass


def test_serve_refuses_an_outdated_schema_with_a_clear_message(tmp_path: Path) -> None:
    env = server_environment(f"sqlite+aiosqlite:///{tmp_path / 'new.sqlite3'}", tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "mailbox", "serve", "--port", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "python -m mailbox migrate" in result.stderr


def test_a_failing_migration_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "migrations"
    broken.mkdir()
    for path in migrate.MIGRATIONS.iterdir():
        (broken / path.name).write_text(path.read_text())
    (broken / "0999_broken.sqlite.sql").write_text(
        "CREATE TABLE half_done (id INTEGER);\nTHIS IS NOT SQL;\n"
    )
    monkeypatch.setattr(migrate, "MIGRATIONS", broken)
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    with pytest.raises(sqlite3.OperationalError):
        asyncio.run(migrate.migrate(url))
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
    assert "half_done" not in tables and "letters" in tables
    assert versions == [m.version for m in migrate.migrations("sqlite") if m.version < 999]

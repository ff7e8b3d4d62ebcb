"""Numbered migrations: `migrations/NNNN_name.{sqlite,postgresql}.sql`, applied in order."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from mailbox.db.database import Dialect
from mailbox.db.postgres import dsn
from mailbox.db.sqlite import sqlite_path

MIGRATIONS = Path(__file__).parent / "migrations"
_FILE = re.compile(r"^(\d{4})_(\w+)\.(sqlite|postgresql)\.sql$")
_CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations "
    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
)
_PG_LOCK = 7_150_001  # advisory lock id: one migrator at a time across app servers


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations(dialect: Dialect) -> list[Migration]:
    found = []
    for path in MIGRATIONS.iterdir():
        match = _FILE.match(path.name)
        if match and match.group(3) == dialect:
            found.append(Migration(int(match.group(1)), match.group(2), path.read_text("utf-8")))
    return sorted(found, key=lambda migration: migration.version)


def dialect_of(url: str) -> Dialect:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


async def applied_versions(url: str) -> set[int]:
    if dialect_of(url) == "sqlite":
        path = sqlite_path(url)
        if not path.exists():
            return set()
        with sqlite3.connect(path) as conn:
            exists = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'"
            ).fetchone()
            return (
                {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
                if (exists)
                else set()
            )
    conn = await asyncpg.connect(dsn(url))
    try:
        if not await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL"):
            return set()
        return {row[0] for row in await conn.fetch("SELECT version FROM schema_migrations")}
    finally:
        await conn.close()


async def pending(url: str) -> list[Migration]:
    done = await applied_versions(url)
    return [m for m in migrations(dialect_of(url)) if m.version not in done]


async def migrate(url: str) -> list[Migration]:
    """Apply what is pending, each migration in its own transaction; returns what was applied."""
    if dialect_of(url) == "sqlite":
        return _migrate_sqlite(url)
    return await _migrate_postgres(url)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _migrate_sqlite(url: str) -> list[Migration]:
    path = sqlite_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    applied: list[Migration] = []
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(_CREATE_TABLE)
        for migration in migrations("sqlite"):
            conn.execute("BEGIN IMMEDIATE")
            try:
                done = conn.execute(
                    "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
                ).fetchone()
                if done:
                    conn.execute("ROLLBACK")
                    continue
                # executescript would commit first; run the statements one by one instead.
                for statement in _statements(migration.sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                    (migration.version, migration.name, _now()),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            applied.append(migration)
    finally:
        conn.close()
    return applied


def _statements(script: str) -> list[str]:
    """Split a script at the ends of complete statements (sqlite3.complete_statement)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current)
            current = ""
    if current.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in current.splitlines()
    ):
        raise ValueError(f"incomplete statement at the end of a migration: {current[:80]!r}")
    return statements


async def _migrate_postgres(url: str) -> list[Migration]:
    applied: list[Migration] = []
    conn = await asyncpg.connect(dsn(url))
    try:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _PG_LOCK)
            await conn.execute(_CREATE_TABLE)
        for migration in migrations("postgresql"):
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", _PG_LOCK)
                done = await conn.fetchval(
                    "SELECT 1 FROM schema_migrations WHERE version = $1", migration.version
                )
                if done:
                    continue
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    _now(),
                )
            applied.append(migration)
    finally:
        await conn.close()
    return applied

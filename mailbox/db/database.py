"""The one small database interface: transactions, reads, and `:name` parameters."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, Protocol

Row = Mapping[str, Any]
Params = Mapping[str, Any] | None
Dialect = Literal["sqlite", "postgresql"]


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or is locked for too long."""


class Connection(Protocol):
    """One connection inside a transaction (or a read-only one outside)."""

    dialect: Dialect

    async def execute(self, sql: str, params: Params = None) -> int:
        """Run a statement; the number of rows it changed."""
        ...

    async def fetch_one(self, sql: str, params: Params = None) -> Row | None: ...

    async def fetch_all(self, sql: str, params: Params = None) -> list[Row]: ...

    async def fetch_value(self, sql: str, params: Params = None) -> Any: ...


class Database(Connection, Protocol):
    """Reads run on their own connections; writes only inside `transaction()`."""

    url: str

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    def transaction(self) -> AbstractAsyncContextManager[Connection]:
        """One atomic unit of work; it has committed when the block exits without error."""
        ...


def open_database(url: str) -> Database:
    """The Database for a settings URL (not yet connected)."""
    if url.startswith("sqlite+aiosqlite:///"):
        from mailbox.db.sqlite import SQLiteDatabase

        return SQLiteDatabase(url)
    if url.startswith(("postgresql+asyncpg://", "postgresql://")):
        from mailbox.db.postgres import PostgresDatabase

        return PostgresDatabase(url)
    raise ValueError(f"unsupported database URL {url!r}")

"""PostgreSQL through an asyncpg pool; `:name` parameters become `$n` once per statement."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

import asyncpg

from mailbox.db.database import Connection, DatabaseUnavailable, Dialect, Params, Row

_NAME = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@lru_cache(maxsize=1024)
def rewrite(sql: str) -> tuple[str, tuple[str, ...]]:
    """`WHERE id = :id AND x::text = :x` → (`WHERE id = $1 AND x::text = $2`, ("id", "x")).
    String literals are not parsed: keep `:word` out of them (pass such text as a parameter)."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _NAME.sub(number, sql), tuple(names)


def _args(sql: str, params: Params) -> tuple[str, list[Any]]:
    text, names = rewrite(sql)
    given: Mapping[str, Any] = params or {}
    return text, [given[name] for name in names]


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


# The server is down, restarting or full: a "try again" page, not an error page.
_UNAVAILABLE = (
    OSError,
    asyncpg.CannotConnectNowError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.AdminShutdownError,
    asyncpg.TooManyConnectionsError,
)


class _Conn:
    dialect: Dialect = "postgresql"

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.raw = conn

    async def execute(self, sql: str, params: Params = None) -> int:
        text, args = _args(sql, params)
        status: str = await self._conn.execute(text, *args)
        last = status.rsplit(" ", 1)[-1]
        return int(last) if last.isdigit() else 0

    async def fetch_all(self, sql: str, params: Params = None) -> list[Row]:
        text, args = _args(sql, params)
        return list(await self._conn.fetch(text, *args))

    async def fetch_one(self, sql: str, params: Params = None) -> Row | None:
        text, args = _args(sql, params)
        row: Row | None = await self._conn.fetchrow(text, *args)
        return row

    async def fetch_value(self, sql: str, params: Params = None) -> Any:
        text, args = _args(sql, params)
        return await self._conn.fetchval(text, *args)


class PostgresDatabase:
    dialect: Dialect = "postgresql"

    def __init__(self, url: str, min_size: int = 2, max_size: int = 10) -> None:
        self.url = url
        self._pool: Any = None
        self._min_size, self._max_size = min_size, max_size

    async def connect(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                dsn(self.url), min_size=self._min_size, max_size=self._max_size
            )
        except _UNAVAILABLE as error:
            raise DatabaseUnavailable(str(error)) from error

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[_Conn]:
        try:
            conn = await self._pool.acquire()
        except _UNAVAILABLE as error:
            raise DatabaseUnavailable(str(error)) from error
        try:
            yield _Conn(conn)
        except (*_UNAVAILABLE, asyncpg.InterfaceError) as error:
            # On a lost connection even the transaction's clean-up fails, with an
            # InterfaceError "... connection is closed"; other InterfaceErrors are bugs.
            if isinstance(error, asyncpg.InterfaceError) and "is closed" not in str(error):
                raise
            raise DatabaseUnavailable(str(error)) from error
        finally:
            # The pool drops a connection that fails its reset and opens a new one when
            # needed: the error is not the caller's, whose work is done or already failed.
            with contextlib.suppress(*_UNAVAILABLE, asyncpg.InterfaceError):
                await self._pool.release(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self._connection() as conn, conn.raw.transaction():
            yield conn

    async def execute(self, sql: str, params: Params = None) -> int:
        async with self._connection() as conn:
            return await conn.execute(sql, params)

    async def fetch_all(self, sql: str, params: Params = None) -> list[Row]:
        async with self._connection() as conn:
            return await conn.fetch_all(sql, params)

    async def fetch_one(self, sql: str, params: Params = None) -> Row | None:
        async with self._connection() as conn:
            return await conn.fetch_one(sql, params)

    async def fetch_value(self, sql: str, params: Params = None) -> Any:
        async with self._connection() as conn:
            return await conn.fetch_value(sql, params)

"""SQLite through aiosqlite: one writer that commits concurrent transactions together."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from itertools import cycle
from pathlib import Path
from typing import Any

import aiosqlite

from mailbox.db.database import Connection, DatabaseUnavailable, Dialect, Params, Row

READERS = 4


def _adapt_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored; pass an aware one")
    # Fixed width (always microseconds, always UTC) so that text order is time order.
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _convert_timestamp(raw: bytes) -> datetime:
    return datetime.fromisoformat(raw.decode())


sqlite3.register_adapter(datetime, _adapt_datetime)
sqlite3.register_adapter(date, lambda value: value.isoformat())
sqlite3.register_converter("TIMESTAMP", _convert_timestamp)
sqlite3.register_converter("DATE", lambda raw: date.fromisoformat(raw.decode()))
sqlite3.register_converter("BOOLEAN", lambda raw: raw not in (b"0", b""))


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


def sqlite_path(url: str) -> Path:
    from mailbox.settings import ROOT

    path = Path(url.removeprefix("sqlite+aiosqlite:///"))
    return path if path.is_absolute() else ROOT / path


async def _open(path: Path) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None, detect_types=sqlite3.PARSE_DECLTYPES)
    conn.row_factory = _dict_row  # type: ignore[assignment]
    # One hop for all the pragmas: every aiosqlite call is a trip to its thread.
    await conn.executescript(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
        "PRAGMA busy_timeout=5000;"
    )
    return conn


class _Conn:
    dialect: Dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = None) -> int:
        try:
            cursor = await self._conn.execute(sql, params or {})
        except sqlite3.OperationalError as error:
            if "locked" in str(error):
                raise DatabaseUnavailable(str(error)) from error
            raise
        return cursor.rowcount

    async def fetch_all(self, sql: str, params: Params = None) -> list[Row]:
        return list(await self._conn.execute_fetchall(sql, params or {}))  # type: ignore[arg-type]

    async def fetch_one(self, sql: str, params: Params = None) -> Row | None:
        async with self._conn.execute(sql, params or {}) as cursor:
            row = await cursor.fetchone()
            return row  # type: ignore[return-value]

    async def fetch_value(self, sql: str, params: Params = None) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else next(iter(row.values()))


class SQLiteDatabase:
    """Writes are serialised on one connection: each request's transaction is a savepoint
    inside a shared transaction, and whoever is waiting is committed together (one fsync),
    each request answered only after its own commit. Reads use their own connections."""

    dialect: Dialect = "sqlite"

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = sqlite_path(url)
        self._writer: aiosqlite.Connection | None = None
        self._readers: list[aiosqlite.Connection] = []
        self._next_reader: Any = None
        self._lock = asyncio.Lock()
        self._open_transaction = False
        self._waiting: list[asyncio.Future[None]] = []
        self._commit_task: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await _open(self.path)
        self._readers = [await _open(self.path) for _ in range(READERS)]
        self._next_reader = cycle(self._readers)

    async def close(self) -> None:
        if self._commit_task:
            await asyncio.gather(self._commit_task, return_exceptions=True)
        for conn in [*self._readers, *([self._writer] if self._writer else [])]:
            await conn.close()
        self._readers, self._writer = [], None

    def _reader(self) -> _Conn:
        return _Conn(next(self._next_reader))

    async def execute(self, sql: str, params: Params = None) -> int:
        async with self.transaction() as conn:
            return await conn.execute(sql, params)

    async def fetch_all(self, sql: str, params: Params = None) -> list[Row]:
        return await self._reader().fetch_all(sql, params)

    async def fetch_one(self, sql: str, params: Params = None) -> Row | None:
        return await self._reader().fetch_one(sql, params)

    async def fetch_value(self, sql: str, params: Params = None) -> Any:
        return await self._reader().fetch_value(sql, params)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        assert self._writer is not None, "database not connected"
        writer = self._writer
        async with self._lock:
            if not self._open_transaction:
                await _Conn(writer).execute("BEGIN IMMEDIATE")
                self._open_transaction = True
            await writer.execute("SAVEPOINT request")
            try:
                yield _Conn(writer)
            except BaseException:
                await writer.execute("ROLLBACK TO request")
                await writer.execute("RELEASE request")
                if not self._waiting:
                    await writer.execute("ROLLBACK")
                    self._open_transaction = False
                raise
            await writer.execute("RELEASE request")
            committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.append(committed)
            if self._commit_task is None:
                self._commit_task = asyncio.create_task(self._commit())
        await committed

    async def _commit(self) -> None:
        # Queued behind the requests already waiting for the lock (asyncio.Lock is fair),
        # so under load one COMMIT covers all of them.
        assert self._writer is not None
        async with self._lock:
            waiting, self._waiting = self._waiting, []
            self._commit_task = None
            try:
                await self._writer.execute("COMMIT")
            except BaseException as error:
                if self._writer.in_transaction:
                    await self._writer.execute("ROLLBACK")
                for future in waiting:
                    future.set_exception(DatabaseUnavailable(f"commit failed: {error}"))
            else:
                for future in waiting:
                    future.set_result(None)
            finally:
                self._open_transaction = False

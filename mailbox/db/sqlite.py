"""SQLite: reads through aiosqlite; one writer that commits concurrent transactions together."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
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


PRAGMAS = (
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
    "PRAGMA busy_timeout=5000;"
)


async def _open_reader(path: Path) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None, detect_types=sqlite3.PARSE_DECLTYPES)
    conn.row_factory = _dict_row  # type: ignore[assignment]
    await conn.executescript(PRAGMAS)  # one trip to its thread for all of them
    return conn


def _open_writer(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path, isolation_level=None, detect_types=sqlite3.PARSE_DECLTYPES, check_same_thread=False
    )
    conn.row_factory = _dict_row
    conn.executescript(PRAGMAS)
    return conn


def _unavailable(error: sqlite3.OperationalError) -> Exception:
    if "locked" in str(error) or "busy" in str(error):
        return DatabaseUnavailable(str(error))
    return error


class _Reader:
    """A read connection: every call is one trip to aiosqlite's thread."""

    dialect: Dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = None) -> int:
        raise TypeError("writes go through Database.transaction()")

    async def fetch_all(self, sql: str, params: Params = None) -> list[Row]:
        try:
            rows = await self._conn.execute_fetchall(sql, params or {})
        except sqlite3.OperationalError as error:
            raise _unavailable(error) from error
        return list(rows)  # type: ignore[arg-type]

    async def fetch_one(self, sql: str, params: Params = None) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_value(self, sql: str, params: Params = None) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else next(iter(row.values()))


class _Writer:
    """Statements inside an open write transaction. They run on the event loop itself: the
    transaction already holds SQLite's write lock, so a statement never waits and costs tens
    of microseconds, less than a trip to another thread. Keep them small; batch work that
    runs long belongs to the command line."""

    dialect: Dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = None) -> int:
        return self._conn.execute(sql, params or {}).rowcount

    async def fetch_all(self, sql: str, params: Params = None) -> list[Row]:
        return self._conn.execute(sql, params or {}).fetchall()

    async def fetch_one(self, sql: str, params: Params = None) -> Row | None:
        rows = self._conn.execute(sql, params or {}).fetchall()
        return rows[0] if rows else None

    async def fetch_value(self, sql: str, params: Params = None) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else next(iter(row.values()))


class SQLiteDatabase:
    """All writes share one connection. Each request's transaction is a savepoint inside a
    shared transaction; whoever finished meanwhile is committed together (one fsync for
    many), each request answered only after its own commit, and a failing one rolled back to
    its savepoint alone. BEGIN (which may wait for another process) and COMMIT (which waits
    for the disk) run in the writer's own thread; reads use their own connections."""

    dialect: Dialect = "sqlite"

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = sqlite_path(url)
        self._writer: sqlite3.Connection | None = None
        self._writer_thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._readers: list[aiosqlite.Connection] = []
        self._next_reader: Any = None
        self._lock = asyncio.Lock()
        self._waiting: list[asyncio.Future[None]] = []
        self._commit_task: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await self._in_writer_thread(_open_writer, self.path)
        self._readers = [await _open_reader(self.path) for _ in range(READERS)]
        self._next_reader = cycle(self._readers)

    async def close(self) -> None:
        if self._commit_task:
            await asyncio.gather(self._commit_task, return_exceptions=True)
        for reader in self._readers:
            await reader.close()
        if self._writer is not None:
            await self._in_writer_thread(self._writer.close)
        self._writer_thread.shutdown()
        self._readers, self._writer = [], None

    async def _in_writer_thread(self, function: Any, *args: Any) -> Any:
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._writer_thread, function, *args
            )
        except sqlite3.OperationalError as error:
            raise _unavailable(error) from error

    def _reader(self) -> _Reader:
        return _Reader(next(self._next_reader))

    async def execute(self, sql: str, params: Params = None) -> int:
        async with self.transaction() as conn:
            return await conn.execute(sql, params)

    async def fetch_all(self, sql: str, params: Params = None) -> list[Row]:
        return await self._reader().fetch_all(sql, params)

    async def fetch_one(self, sql: str, params: Params = None) -> Row | None:
        return await self._reader().fetch_one(sql, params)

    async def fetch_value(self, sql: str, params: Params = None) -> Any:
        return await self._reader().fetch_value(sql, params)

    async def _to_the_end(self, function: Any, *args: Any) -> Any:
        """Run in the writer thread; if the caller is cancelled meanwhile, still wait until the
        thread is done, so that the connection's state is known when the caller unwinds."""
        task = asyncio.ensure_future(self._in_writer_thread(function, *args))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            await asyncio.wait([task])
            raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        assert self._writer is not None, "database not connected"
        writer = self._writer
        async with self._lock:
            # Under the lock the writer thread is idle (_to_the_end waits for it even when
            # cancelled), so the loop may read the state: joining an open transaction needs no
            # trip to the thread, which under load was a fifth of each write request's time.
            if not writer.in_transaction:
                await self._to_the_end(_begin, writer)
            writer.execute("SAVEPOINT request")
            try:
                yield _Writer(writer)
            except BaseException:
                if writer.in_transaction:
                    try:
                        writer.execute("ROLLBACK TO request")
                        writer.execute("RELEASE request")
                    except sqlite3.Error:
                        pass  # SQLite rolled back everything; the commit reports it to all
                    if not self._waiting and writer.in_transaction:
                        writer.execute("ROLLBACK")
                raise
            writer.execute("RELEASE request")
            committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.append(committed)
            if self._commit_task is None:
                self._commit_task = asyncio.create_task(self._commit())
        await committed

    async def _commit(self) -> None:
        # Queued behind the requests already waiting for the lock (asyncio.Lock is fair),
        # so under load one COMMIT covers all of them.
        assert self._writer is not None
        writer = self._writer
        async with self._lock:
            waiting, self._waiting = self._waiting, []
            self._commit_task = None
            try:
                await self._to_the_end(writer.execute, "COMMIT")
            except BaseException as error:
                done = isinstance(error, asyncio.CancelledError) and not writer.in_transaction
                if writer.in_transaction:
                    writer.execute("ROLLBACK")
                _settle(waiting, None if done else DatabaseUnavailable(f"commit failed: {error}"))
                if isinstance(error, asyncio.CancelledError):
                    raise
            else:
                _settle(waiting, None)


def _begin(conn: sqlite3.Connection) -> None:
    # A BEGIN whose caller was cancelled still ran: the next request carries on in it.
    if not conn.in_transaction:
        conn.execute("BEGIN IMMEDIATE")


def _settle(waiting: list[asyncio.Future[None]], error: Exception | None) -> None:
    for future in waiting:
        if future.done():  # its request was cancelled meanwhile
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)

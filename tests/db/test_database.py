"""The Database interface on both drivers: transactions, parameters, types, group commit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from mailbox.db.database import Database
from mailbox.db.postgres import rewrite


def test_named_parameters_become_numbered_ones_once_each() -> None:
    sql, names = rewrite("SELECT :a, x::text, :b FROM t WHERE y = :a")
    assert sql == "SELECT $1, x::text, $2 FROM t WHERE y = $1"
    assert names == ("a", "b")


async def insert_department(db: Database, code: str) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO departments (code, name, created_at) VALUES (:code, :name, :now)",
            {"code": code, "name": f"处室{code}", "now": datetime.now(UTC)},
        )


async def test_a_failed_transaction_leaves_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO departments (code, name, created_at) VALUES ('a', 'A', :now)",
                {"now": datetime.now(UTC)},
            )
            raise RuntimeError("boom")
    assert await db.fetch_value("SELECT COUNT(*) FROM departments") == 0


async def test_timestamps_come_back_as_aware_datetimes(db: Database) -> None:
    moment = datetime(2018, 12, 31, 23, 59, 59, 123456, tzinfo=UTC)
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO departments (code, name, created_at) VALUES ('t', 'T', :at)",
            {"at": moment + timedelta(hours=8) - timedelta(hours=8)},
        )
    stored = await db.fetch_value("SELECT created_at FROM departments")
    assert stored == moment and stored.tzinfo is not None
    assert (
        await db.fetch_value(
            "SELECT COUNT(*) FROM departments WHERE created_at < :later",
            {"later": moment + timedelta(microseconds=1)},
        )
        == 1
    )


async def test_concurrent_transactions_commit_together_and_fail_alone(db: Database) -> None:
    async def attempt(number: int) -> str:
        try:
            async with db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO departments (code, name, created_at) VALUES (:c, :n, :now)",
                    {"c": f"d{number}", "n": "x", "now": datetime.now(UTC)},
                )
                if number % 10 == 3:
                    raise ValueError("this one fails")
        except ValueError:
            return "failed"
        return "ok"

    results = await asyncio.gather(*(attempt(n) for n in range(100)))
    assert results.count("failed") == 10
    codes = {row["code"] for row in await db.fetch_all("SELECT code FROM departments")}
    assert codes == {f"d{n}" for n in range(100) if n % 10 != 3}


async def test_a_unique_clash_can_be_detected_without_aborting(db: Database) -> None:
    await insert_department(db, "same")
    async with db.transaction() as conn:
        clash = await conn.fetch_value(
            "INSERT INTO departments (code, name, created_at) VALUES ('same', 'x', :now)"
            " ON CONFLICT (code) DO NOTHING RETURNING id",
            {"now": datetime.now(UTC)},
        )
        assert clash is None
        await conn.execute(
            "INSERT INTO departments (code, name, created_at) VALUES ('other', 'y', :now)",
            {"now": datetime.now(UTC)},
        )
    assert await db.fetch_value("SELECT COUNT(*) FROM departments") == 2


async def test_sqlite_writer_survives_cancelled_requests(db: Database) -> None:
    """A request cancelled while waiting for its commit, or for another process's lock,
    must not stall the others or leave the writer stuck."""
    import sqlite3

    from mailbox.db.sqlite import SQLiteDatabase

    if not isinstance(db, SQLiteDatabase):
        pytest.skip("the SQLite writer only")

    async def add(code: str) -> None:
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO departments (code, name, created_at) VALUES (:c, 'x', :now)",
                {"c": code, "now": datetime.now(UTC)},
            )

    tasks = [asyncio.create_task(add(f"c{n}")) for n in range(3)]
    await asyncio.sleep(0)
    tasks[1].cancel()
    done = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=5)
    assert [isinstance(result, asyncio.CancelledError) for result in done] == [False, True, False]

    other = sqlite3.connect(db.path, isolation_level=None)  # another process, say
    other.execute("BEGIN IMMEDIATE")
    waiting = asyncio.create_task(add("blocked"))
    await asyncio.sleep(0.2)
    waiting.cancel()
    other.execute("ROLLBACK")
    other.close()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await asyncio.wait_for(add("after"), timeout=5)
    codes = {row["code"] for row in await db.fetch_all("SELECT code FROM departments")}
    assert {"c0", "c2", "after"} <= codes

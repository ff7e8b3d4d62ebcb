"""Fixed-window counters in the database, so that every app server shares them."""

from __future__ import annotations

from datetime import datetime, timedelta

from mailbox.db.database import Connection


def window_start(now: datetime, window: timedelta) -> datetime:
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


async def hit(conn: Connection, *, bucket: str, now: datetime, window: timedelta) -> int:
    """Count one hit in the bucket's current window; the window's count so far."""
    hits: int = await conn.fetch_value(
        "INSERT INTO rate_limits (bucket, window_start, hits) VALUES (:bucket, :start, 1)"
        " ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1"
        " RETURNING hits",
        {"bucket": bucket, "start": window_start(now, window)},
    )
    return hits


async def refund(conn: Connection, *, bucket: str, now: datetime, window: timedelta) -> None:
    """Give one hit back (an attempt that turned out to be allowed)."""
    await conn.execute(
        "UPDATE rate_limits SET hits = hits - 1 WHERE bucket = :bucket AND window_start = :start"
        " AND hits > 0",
        {"bucket": bucket, "start": window_start(now, window)},
    )


async def count(conn: Connection, *, bucket: str, now: datetime, window: timedelta) -> int:
    hits: int | None = await conn.fetch_value(
        "SELECT hits FROM rate_limits WHERE bucket = :bucket AND window_start = :start",
        {"bucket": bucket, "start": window_start(now, window)},
    )
    return hits or 0


async def prune(conn: Connection, *, before: datetime) -> int:
    return await conn.execute(
        "DELETE FROM rate_limits WHERE window_start < :before", {"before": before}
    )

"""The rate-limit policies: which buckets, which windows, which limits."""

from __future__ import annotations

from datetime import datetime, timedelta

from mailbox.db.database import Connection
from mailbox.db.queries import ratelimits
from mailbox.services.errors import RateLimited

HOUR = timedelta(hours=1)
LOGIN_WINDOW = timedelta(minutes=15)
TRACK_PER_LETTER = 20  # per tracking number per hour, whatever the address
LOGIN_PER_USER = 10  # failed logins per user name per window, whatever the address


async def count_hit(
    conn: Connection, *, bucket: str, limit: int, now: datetime, window: timedelta = HOUR
) -> None:
    """Count this attempt; RateLimited once the window's limit is passed (0 = no limit)."""
    if limit and await ratelimits.hit(conn, bucket=bucket, now=now, window=window) > limit:
        raise RateLimited(bucket)


async def check_under(
    conn: Connection, *, bucket: str, limit: int, now: datetime, window: timedelta
) -> None:
    """RateLimited when the bucket already holds `limit` hits; counts nothing."""
    if limit and await ratelimits.count(conn, bucket=bucket, now=now, window=window) >= limit:
        raise RateLimited(bucket)

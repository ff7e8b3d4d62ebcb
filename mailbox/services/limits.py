"""The rate-limit policies: which buckets, which windows, which limits."""

from __future__ import annotations

from datetime import datetime, timedelta
from ipaddress import IPv6Address, ip_address, ip_network

from mailbox.db.database import Connection
from mailbox.db.queries import ratelimits
from mailbox.services.errors import RateLimited

HOUR = timedelta(hours=1)
LOGIN_WINDOW = timedelta(minutes=15)
TRACK_PER_LETTER = 20  # per tracking number per hour, whatever the address
LOGIN_PER_USER = 10  # failed logins per user name per window, whatever the address


def address_bucket(address: str) -> str:
    """The unit a limit counts: an IPv4 address, or an IPv6 /64 (one household or phone gets a
    whole /64, so counting single IPv6 addresses would count nothing)."""
    try:
        ip = ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ip_network(f"{ip}/64", strict=False))
    return str(ip)


async def count_hit(
    conn: Connection, *, bucket: str, limit: int, now: datetime, window: timedelta = HOUR
) -> None:
    """Count this attempt; RateLimited once the window's limit is passed (0 = no limit)."""
    if limit and await ratelimits.hit(conn, bucket=bucket, now=now, window=window) > limit:
        raise RateLimited(bucket)

"""API tokens: a hash per token, its owner, its scope, when it was last used or revoked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailbox.db.database import Connection


@dataclass(frozen=True)
class TokenRow:
    id: int
    user_id: int
    username: str
    label: str
    scope: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


_COLUMNS = (
    "t.id, t.user_id, u.username, t.label, t.scope, t.prefix, t.created_at, t.last_used_at,"
    " t.revoked_at FROM api_tokens t JOIN users u ON u.id = t.user_id"
)


async def add_token(
    conn: Connection,
    *,
    user_id: int,
    label: str,
    scope: str,
    token_hash: str,
    prefix: str,
    now: datetime,
    created_by_id: int | None,
) -> int:
    token_id: int = await conn.fetch_value(
        "INSERT INTO api_tokens (user_id, label, scope, token_hash, prefix, created_at,"
        " created_by_id) VALUES (:user_id, :label, :scope, :hash, :prefix, :now, :by)"
        " RETURNING id",
        {
            "user_id": user_id,
            "label": label,
            "scope": scope,
            "hash": token_hash,
            "prefix": prefix,
            "now": now,
            "by": created_by_id,
        },
    )
    return token_id


async def live_token(conn: Connection, *, token_hash: str) -> TokenRow | None:
    """The unrevoked token with this hash whose owner's account is active."""
    row = await conn.fetch_one(
        f"SELECT {_COLUMNS} WHERE t.token_hash = :hash AND t.revoked_at IS NULL AND u.is_active",
        {"hash": token_hash},
    )
    return TokenRow(**row) if row else None


async def all_tokens(conn: Connection) -> list[TokenRow]:
    rows = await conn.fetch_all(f"SELECT {_COLUMNS} ORDER BY t.revoked_at IS NOT NULL, t.id DESC")
    return [TokenRow(**row) for row in rows]


async def tokens_of(conn: Connection, *, user_id: int) -> list[TokenRow]:
    rows = await conn.fetch_all(
        f"SELECT {_COLUMNS} WHERE t.user_id = :user_id ORDER BY t.id", {"user_id": user_id}
    )
    return [TokenRow(**row) for row in rows]


async def revoke(conn: Connection, *, token_id: int, now: datetime) -> TokenRow | None:
    """Revoke the token; the row as it was, or None when there is no such live token."""
    row = await conn.fetch_one(
        f"SELECT {_COLUMNS} WHERE t.id = :id AND t.revoked_at IS NULL", {"id": token_id}
    )
    if row is None:
        return None
    await conn.execute(
        "UPDATE api_tokens SET revoked_at = :now WHERE id = :id", {"now": now, "id": token_id}
    )
    return TokenRow(**row)


async def mark_used(conn: Connection, *, token_id: int, now: datetime, before: datetime) -> None:
    """Record use at most once per interval: a write on every API request would cost more
    than the request."""
    await conn.execute(
        "UPDATE api_tokens SET last_used_at = :now WHERE id = :id"
        " AND (last_used_at IS NULL OR last_used_at < :before)",
        {"now": now, "id": token_id, "before": before},
    )

"""API tokens: a hash per token, its owner, its scope, when it was last used or revoked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailbox.db.database import Connection
from mailbox.db.queries.users import UserRow


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


# Every API request runs this: the token, its owner and the owner's roles in one statement
# (three trips to the database were a third of an API submission's time on SQLite).
_LIVE = (
    "SELECT t.id, t.user_id, u.username, t.label, t.scope, t.prefix, t.created_at,"
    " t.last_used_at, t.revoked_at, u.display_name, u.password_hash, u.department_id,"
    " u.is_active, (SELECT {roles} FROM user_roles r WHERE r.user_id = u.id) AS roles"
    " FROM api_tokens t JOIN users u ON u.id = t.user_id"
    " WHERE t.token_hash = :hash AND t.revoked_at IS NULL AND u.is_active"
)
_LIVE_BY_DIALECT = {
    "sqlite": _LIVE.format(roles="group_concat(r.role, ',')"),
    "postgresql": _LIVE.format(roles="string_agg(r.role, ',')"),
}


async def live_token(conn: Connection, *, token_hash: str) -> tuple[TokenRow, UserRow] | None:
    """The unrevoked token with this hash and its owner, whose account is active, with the
    owner's roles as they are now."""
    row = await conn.fetch_one(_LIVE_BY_DIALECT[conn.dialect], {"hash": token_hash})
    if row is None:
        return None
    token = TokenRow(**{name: row[name] for name in TokenRow.__dataclass_fields__})
    user = UserRow(
        id=row["user_id"],
        username=row["username"],
        display_name=row["display_name"],
        password_hash=row["password_hash"],
        department_id=row["department_id"],
        is_active=bool(row["is_active"]),
        roles=frozenset(filter(None, (row["roles"] or "").split(","))),
    )
    return token, user


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

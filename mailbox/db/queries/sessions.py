"""Server-side staff sessions: the cookie holds a token, the table only its hash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailbox.db.database import Connection


@dataclass(frozen=True)
class SessionRow:
    id: str
    user_id: int
    last_seen_at: datetime
    expires_at: datetime


async def create_session(
    conn: Connection,
    *,
    session_id: str,
    user_id: int,
    now: datetime,
    expires_at: datetime,
    client_ip: str,
    user_agent: str,
) -> None:
    await conn.execute(
        "INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at, client_ip,"
        " user_agent) VALUES (:id, :user_id, :now, :now, :expires_at, :ip, :agent)",
        {
            "id": session_id,
            "user_id": user_id,
            "now": now,
            "expires_at": expires_at,
            "ip": client_ip,
            "agent": user_agent[:200],
        },
    )


async def get_session(conn: Connection, *, session_id: str) -> SessionRow | None:
    row = await conn.fetch_one(
        "SELECT id, user_id, last_seen_at, expires_at FROM sessions WHERE id = :id",
        {"id": session_id},
    )
    return SessionRow(**row) if row else None


async def touch_session(conn: Connection, *, session_id: str, now: datetime) -> None:
    await conn.execute(
        "UPDATE sessions SET last_seen_at = :now WHERE id = :id", {"now": now, "id": session_id}
    )


async def delete_session(conn: Connection, *, session_id: str) -> None:
    await conn.execute("DELETE FROM sessions WHERE id = :id", {"id": session_id})


async def delete_expired(conn: Connection, *, idle_before: datetime, now: datetime) -> int:
    return await conn.execute(
        "DELETE FROM sessions WHERE expires_at < :now OR last_seen_at < :idle_before",
        {"now": now, "idle_before": idle_before},
    )

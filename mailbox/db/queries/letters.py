"""Letters and their events."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mailbox.db.database import Connection


@dataclass(frozen=True)
class NewLetter:
    tracking_no: str
    query_code_hash: str
    channel: str
    state: str
    source: str
    title: str
    body: str
    writer_name: str
    writer_phone: str
    writer_email: str
    writer_address: str
    publish_consent: bool
    locale: str
    challenge: str
    client_ip: str
    submitted_at: datetime


@dataclass(frozen=True)
class LetterRow:
    id: int
    tracking_no: str
    query_code_hash: str
    channel: str
    state: str
    source: str
    title: str
    body: str
    writer_name: str
    writer_phone: str
    writer_email: str
    writer_address: str
    publish_consent: bool
    locale: str
    department_id: int | None
    submitted_at: datetime
    accepted_at: datetime | None
    due_at: datetime | None
    replied_at: datetime | None
    closed_at: datetime | None
    needs_follow_up: bool
    rating_until: datetime | None
    first_replied_at: datetime | None
    published_at: datetime | None


@dataclass(frozen=True)
class EventRow:
    id: int
    kind: str
    from_state: str | None
    to_state: str
    is_public: bool
    note: str
    created_at: datetime


_LETTER_COLUMNS = ", ".join(LetterRow.__dataclass_fields__)


async def insert_letter(conn: Connection, *, letter: NewLetter) -> int | None:
    """The new letter's id, or None when the tracking number is taken (draw another)."""
    values = vars(letter) | {"updated_at": letter.submitted_at}
    columns = ", ".join(values)
    placeholders = ", ".join(f":{name}" for name in values)
    letter_id: int | None = await conn.fetch_value(
        f"INSERT INTO letters ({columns}) VALUES ({placeholders}) "
        "ON CONFLICT (tracking_no) DO NOTHING RETURNING id",
        values,
    )
    return letter_id


async def insert_event(
    conn: Connection,
    *,
    letter_id: int,
    kind: str,
    from_state: str | None,
    to_state: str,
    created_at: datetime,
    actor_user_id: int | None = None,
    is_public: bool = True,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO letter_events (letter_id, kind, from_state, to_state, actor_user_id,"
        " is_public, note, data, created_at) VALUES (:letter_id, :kind, :from_state, :to_state,"
        " :actor_user_id, :is_public, :note, :data, :created_at)",
        {
            "letter_id": letter_id,
            "kind": kind,
            "from_state": from_state,
            "to_state": to_state,
            "actor_user_id": actor_user_id,
            "is_public": is_public,
            "note": note,
            "data": json.dumps(data or {}, ensure_ascii=False),
            "created_at": created_at,
        },
    )


def _letter(row: Any) -> LetterRow:
    return LetterRow(
        **{
            **row,
            "publish_consent": bool(row["publish_consent"]),
            "needs_follow_up": bool(row["needs_follow_up"]),
        }
    )


async def get_letter_by_tracking_no(conn: Connection, *, tracking_no: str) -> LetterRow | None:
    row = await conn.fetch_one(
        f"SELECT {_LETTER_COLUMNS} FROM letters WHERE tracking_no = :tracking_no",
        {"tracking_no": tracking_no},
    )
    return _letter(row) if row else None


async def public_events(conn: Connection, *, letter_id: int) -> list[EventRow]:
    rows = await conn.fetch_all(
        "SELECT id, kind, from_state, to_state, is_public, note, created_at FROM letter_events"
        " WHERE letter_id = :letter_id AND is_public = :yes ORDER BY id",
        {"letter_id": letter_id, "yes": True},
    )
    return [EventRow(**{**row, "is_public": bool(row["is_public"])}) for row in rows]

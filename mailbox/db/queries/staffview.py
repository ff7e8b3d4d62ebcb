"""What the staff letter page shows beyond the letter: the whole timeline, notes, drafts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailbox.db.database import Connection


@dataclass(frozen=True)
class TimelineEntry:
    kind: str
    from_state: str | None
    to_state: str
    is_public: bool
    note: str
    actor: str
    created_at: datetime


async def timeline(conn: Connection, *, letter_id: int) -> list[TimelineEntry]:
    rows = await conn.fetch_all(
        "SELECT e.kind, e.from_state, e.to_state, e.is_public, e.note, e.created_at,"
        " COALESCE(u.display_name, '') AS actor FROM letter_events e"
        " LEFT JOIN users u ON u.id = e.actor_user_id WHERE e.letter_id = :letter_id"
        " ORDER BY e.id",
        {"letter_id": letter_id},
    )
    return [TimelineEntry(**{**row, "is_public": bool(row["is_public"])}) for row in rows]


@dataclass(frozen=True)
class Note:
    author: str
    body: str
    created_at: datetime


async def notes(conn: Connection, *, letter_id: int) -> list[Note]:
    rows = await conn.fetch_all(
        "SELECT u.display_name AS author, n.body, n.created_at FROM internal_notes n"
        " JOIN users u ON u.id = n.author_user_id WHERE n.letter_id = :letter_id ORDER BY n.id",
        {"letter_id": letter_id},
    )
    return [Note(**row) for row in rows]


async def add_note(
    conn: Connection, *, letter_id: int, author_user_id: int, body: str, now: datetime
) -> None:
    await conn.execute(
        "INSERT INTO internal_notes (letter_id, author_user_id, body, created_at)"
        " VALUES (:letter_id, :author, :body, :now)",
        {"letter_id": letter_id, "author": author_user_id, "body": body, "now": now},
    )


@dataclass(frozen=True)
class Department:
    id: int
    code: str
    name: str


async def departments(conn: Connection) -> list[Department]:
    rows = await conn.fetch_all(
        "SELECT id, code, name FROM departments WHERE enabled = :yes ORDER BY code", {"yes": True}
    )
    return [Department(**row) for row in rows]


@dataclass(frozen=True)
class RejectReason:
    code: str
    label: str
    label_en: str


async def reject_reasons(conn: Connection) -> list[RejectReason]:
    rows = await conn.fetch_all(
        "SELECT code, label, label_en FROM reject_reasons WHERE enabled = :yes"
        " ORDER BY sort_order, id",
        {"yes": True},
    )
    return [RejectReason(**row) for row in rows]


@dataclass(frozen=True)
class Template:
    id: int
    title: str
    body: str


async def reply_templates(
    conn: Connection, *, channel: str, department_id: int | None
) -> list[Template]:
    rows = await conn.fetch_all(
        "SELECT id, title, body FROM reply_templates WHERE (channel IS NULL OR channel = :channel)"
        " AND (department_id IS NULL OR department_id = :department_id) ORDER BY title",
        {"channel": channel, "department_id": department_id},
    )
    return [Template(**row) for row in rows]


async def pending_extension_id(conn: Connection, *, letter_id: int) -> int | None:
    request_id: int | None = await conn.fetch_value(
        "SELECT id FROM extension_requests WHERE letter_id = :id AND state = 'pending'",
        {"id": letter_id},
    )
    return request_id

"""Reply drafts and released replies; a released reply is never changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailbox.db.database import Connection


@dataclass(frozen=True)
class ReplyRow:
    id: int
    body: str
    author_user_id: int | None
    submitted_at: datetime | None
    released_at: datetime | None


_COLUMNS = "id, body, author_user_id, submitted_at, released_at"


async def current_draft(conn: Connection, *, letter_id: int) -> ReplyRow | None:
    row = await conn.fetch_one(
        f"SELECT {_COLUMNS} FROM replies WHERE letter_id = :letter_id AND released_at IS NULL"
        " ORDER BY id DESC LIMIT 1",
        {"letter_id": letter_id},
    )
    return ReplyRow(**row) if row else None


async def latest_released(conn: Connection, *, letter_id: int) -> ReplyRow | None:
    row = await conn.fetch_one(
        f"SELECT {_COLUMNS} FROM replies WHERE letter_id = :letter_id"
        " AND released_at IS NOT NULL ORDER BY released_at DESC, id DESC LIMIT 1",
        {"letter_id": letter_id},
    )
    return ReplyRow(**row) if row else None


async def released(conn: Connection, *, letter_id: int) -> list[ReplyRow]:
    rows = await conn.fetch_all(
        f"SELECT {_COLUMNS} FROM replies WHERE letter_id = :letter_id"
        " AND released_at IS NOT NULL ORDER BY id",
        {"letter_id": letter_id},
    )
    return [ReplyRow(**row) for row in rows]


async def released_reply(conn: Connection, *, letter_id: int, reply_id: int) -> ReplyRow | None:
    row = await conn.fetch_one(
        f"SELECT {_COLUMNS} FROM replies WHERE id = :id AND letter_id = :letter_id"
        " AND released_at IS NOT NULL",
        {"id": reply_id, "letter_id": letter_id},
    )
    return ReplyRow(**row) if row else None


@dataclass(frozen=True)
class RatingRow:
    rating: str
    comment: str
    created_at: datetime


async def ratings(conn: Connection, *, letter_id: int) -> list[RatingRow]:
    rows = await conn.fetch_all(
        "SELECT rating, comment, created_at FROM ratings WHERE letter_id = :letter_id ORDER BY id",
        {"letter_id": letter_id},
    )
    return [RatingRow(**row) for row in rows]


async def save_draft(
    conn: Connection, *, letter_id: int, body: str, author_user_id: int, now: datetime
) -> int:
    draft = await current_draft(conn, letter_id=letter_id)
    if draft:
        await conn.execute(
            "UPDATE replies SET body = :body, author_user_id = :author WHERE id = :id",
            {"body": body, "author": author_user_id, "id": draft.id},
        )
        return draft.id
    reply_id: int = await conn.fetch_value(
        "INSERT INTO replies (letter_id, body, author_user_id, created_at)"
        " VALUES (:letter_id, :body, :author, :now) RETURNING id",
        {"letter_id": letter_id, "body": body, "author": author_user_id, "now": now},
    )
    return reply_id


async def mark_submitted(conn: Connection, *, reply_id: int, now: datetime) -> None:
    await conn.execute(
        "UPDATE replies SET submitted_at = :now WHERE id = :id", {"now": now, "id": reply_id}
    )


async def release(
    conn: Connection, *, reply_id: int, released_by_id: int | None, now: datetime
) -> None:
    await conn.execute(
        "UPDATE replies SET released_at = :now, released_by_id = :by WHERE id = :id"
        " AND released_at IS NULL",
        {"now": now, "by": released_by_id, "id": reply_id},
    )


async def add_rating(
    conn: Connection, *, letter_id: int, reply_id: int, rating: str, comment: str, now: datetime
) -> bool:
    """False when this reply was already rated."""
    rating_id = await conn.fetch_value(
        "INSERT INTO ratings (letter_id, reply_id, rating, comment, created_at)"
        " VALUES (:letter_id, :reply_id, :rating, :comment, :now)"
        " ON CONFLICT (reply_id) DO NOTHING RETURNING id",
        {
            "letter_id": letter_id,
            "reply_id": reply_id,
            "rating": rating,
            "comment": comment,
            "now": now,
        },
    )
    return rating_id is not None

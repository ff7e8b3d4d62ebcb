"""The public copies of letters, their search index and the public archive's lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mailbox.db.database import Connection


@dataclass(frozen=True)
class PublicCopy:
    letter_id: int
    title: str
    body: str
    reply: str
    is_published: bool
    published_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True)
class PublishedLetter:
    """What the public archive shows of a letter: the public copy, never the original."""

    letter_id: int  # for the next page's keyset, not shown
    tracking_no: str
    channel: str
    department_id: int | None
    accepted_at: datetime | None
    replied_at: datetime | None
    published_at: datetime
    title: str
    body: str
    reply: str


_COPY = "letter_id, title, body, reply, is_published, published_at, updated_at"
# The department that answered, and the dates of the first reply (the figures' facts).
_PUBLISHED = (
    "p.letter_id, l.tracking_no, l.channel,"
    " COALESCE(l.reply_department_id, l.department_id) AS department_id, l.accepted_at,"
    " l.first_replied_at AS replied_at, p.published_at, p.title, p.body, p.reply"
    " FROM publications p JOIN letters l ON l.id = p.letter_id"
)


async def get_copy(conn: Connection, *, letter_id: int) -> PublicCopy | None:
    row = await conn.fetch_one(
        f"SELECT {_COPY} FROM publications WHERE letter_id = :letter_id", {"letter_id": letter_id}
    )
    return PublicCopy(**{**row, "is_published": bool(row["is_published"])}) if row else None


async def save_copy(
    conn: Connection,
    *,
    letter_id: int,
    title: str,
    body: str,
    reply: str,
    now: datetime,
    user_id: int | None,
) -> None:
    values = {
        "letter_id": letter_id,
        "title": title,
        "body": body,
        "reply": reply,
        "now": now,
        "user_id": user_id,
    }
    changed = await conn.execute(
        "UPDATE publications SET title = :title, body = :body, reply = :reply,"
        " updated_at = :now, updated_by_id = :user_id WHERE letter_id = :letter_id",
        values,
    )
    if not changed:
        await conn.execute(
            "INSERT INTO publications (letter_id, title, body, reply, updated_at, updated_by_id)"
            " VALUES (:letter_id, :title, :body, :reply, :now, :user_id)",
            values,
        )


async def set_published(
    conn: Connection, *, letter_id: int, published: bool, now: datetime
) -> None:
    await conn.execute(
        "UPDATE publications SET is_published = :published, published_at = :at"
        " WHERE letter_id = :letter_id",
        {"letter_id": letter_id, "published": published, "at": now if published else None},
    )


async def index_copy(conn: Connection, *, letter_id: int, text: str | None) -> None:
    """Keep the search index in step: `text` None takes the letter out of it. The same SQL on
    both databases (an FTS5 table on SQLite, a table with a trigram index on PostgreSQL)."""
    await conn.execute(
        "DELETE FROM publications_search WHERE rowid = :letter_id", {"letter_id": letter_id}
    )
    if text is not None:
        await conn.execute(
            "INSERT INTO publications_search (rowid, search_text) VALUES (:letter_id, :text)",
            {"letter_id": letter_id, "text": text},
        )


async def published_page(
    conn: Connection,
    *,
    channel: str | None = None,
    department_id: int | None = None,
    starts: datetime | None = None,
    ends: datetime | None = None,
    words: str = "",
    after: tuple[datetime, int] | None = None,
    limit: int = 20,
) -> list[PublishedLetter]:
    """Published letters, newest publication first, one keyset page."""
    # The bare column, not "= :yes": only then do SQLite (and PostgreSQL's generic plans)
    # see that the partial index publications_public applies; with a parameter every
    # request read and sorted all public copies (bench/load.py: 34 ms of CPU a page).
    clauses = ["p.is_published"]
    params: dict[str, Any] = {"limit": limit}
    if channel:
        clauses.append("l.channel = :channel")
        params["channel"] = channel
    if department_id is not None:
        clauses.append("COALESCE(l.reply_department_id, l.department_id) = :department_id")
        params["department_id"] = department_id
    if starts is not None and ends is not None:
        clauses.append("p.published_at >= :starts AND p.published_at < :ends")
        params.update(starts=starts, ends=ends)
    if words:
        like = "ILIKE" if conn.dialect == "postgresql" else "LIKE"
        escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append(
            "p.letter_id IN (SELECT rowid FROM publications_search"
            f" WHERE search_text {like} :pattern ESCAPE '\\')"
        )
        params["pattern"] = f"%{escaped}%"
    if after is not None:
        clauses.append(
            "p.published_at <= :after_at"
            " AND (p.published_at < :after_at OR p.letter_id < :after_id)"
        )
        params["after_at"], params["after_id"] = after
    rows = await conn.fetch_all(
        f"SELECT {_PUBLISHED} WHERE {' AND '.join(clauses)}"
        " ORDER BY p.published_at DESC, p.letter_id DESC LIMIT :limit",
        params,
    )
    return [PublishedLetter(**row) for row in rows]


async def published_letter(conn: Connection, *, tracking_no: str) -> PublishedLetter | None:
    row = await conn.fetch_one(
        f"SELECT {_PUBLISHED} WHERE l.tracking_no = :tracking_no AND p.is_published",
        {"tracking_no": tracking_no},
    )
    return PublishedLetter(**row) if row else None

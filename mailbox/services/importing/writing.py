"""Writing checked letters: each with its events at the given times, its reply and rating, and
the first-reply facts the figures count, so that imported letters are counted like any other."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from mailbox.db.database import Connection
from mailbox.db.queries import letters
from mailbox.db.queries.letters import NewLetter
from mailbox.domain.codes import hash_query_code, new_query_code, new_tracking_no
from mailbox.services.importing.checking import ANSWERED, ImportLetter

IMPORTED = {"imported": True}


class NumberTaken(RuntimeError):
    """A tracking number was taken between the check and the write (the import is undone)."""


async def write_letter(
    conn: Connection, letter: ImportLetter, *, secret_key: str, rating_days: int, tz: Any
) -> str:
    """Insert one letter and its history; its tracking number."""
    generated = letter.tracking_no is None
    for _attempt in range(20 if generated else 1):
        number = letter.tracking_no or new_tracking_no(letter.submitted_at.astimezone(tz).date())
        letter_id = await letters.insert_letter(
            conn, letter=_new_letter(letter, number, secret_key)
        )
        if letter_id is not None:
            break
    else:
        raise NumberTaken(f"line {letter.line}: tracking number {number} is taken")
    await _history(conn, letter_id, letter, rating_days)
    return number


def _new_letter(letter: ImportLetter, number: str, secret_key: str) -> NewLetter:
    # Nobody knows an imported letter's query code: the writer cannot track it online, as in
    # the old system, where codes (if any) were not exported.
    return NewLetter(
        tracking_no=number,
        query_code_hash=hash_query_code(secret_key, new_query_code()),
        channel=letter.channel,
        state="pending",
        source="import",
        title=letter.title,
        body=letter.body,
        writer_name=letter.name,
        writer_phone=letter.phone,
        writer_email=letter.email,
        writer_address="",
        publish_consent=letter.published,
        locale="zh_CN",
        challenge="off",
        client_ip="",
        submitted_at=letter.submitted_at,
    )


async def _event(
    conn: Connection,
    letter_id: int,
    kind: str,
    from_state: str | None,
    to_state: str,
    at: datetime,
    note: str = "",
    **data: Any,
) -> None:
    await letters.insert_event(
        conn,
        letter_id=letter_id,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        created_at=at,
        note=note,
        data=IMPORTED | data,
    )


async def _history(
    conn: Connection, letter_id: int, letter: ImportLetter, rating_days: int
) -> None:
    fields: dict[str, Any] = {"state": letter.status}
    submitted = letter.submitted_at
    await _event(conn, letter_id, "submitted", None, "pending", submitted, channel=letter.channel)
    if letter.status == "spam":
        await _event(conn, letter_id, "mark_spam", "pending", "spam", submitted)
    if letter.status == "rejected":
        rejected_at = letter.replied_at or submitted
        fields["closed_at"] = rejected_at
        await _event(
            conn,
            letter_id,
            "reject",
            "pending",
            "rejected",
            rejected_at,
            note=letter.reject_label,
            reason=letter.reject_code,
        )
    if letter.accepted_at is not None:
        assert letter.due_at is not None
        fields |= {
            "department_id": letter.department_id,
            "accepted_at": letter.accepted_at,
            "due_at": letter.due_at,
        }
        await _event(
            conn,
            letter_id,
            "accept",
            "pending",
            "assigned",
            letter.accepted_at,
            department_id=letter.department_id,
            due_at=letter.due_at.isoformat(),
        )
    if letter.status == "review":
        at = letter.accepted_at
        assert at is not None
        await _reply(conn, letter_id, letter.reply, at, submitted=at, released=None)
        await _event(conn, letter_id, "submit_draft", "assigned", "review", at)
    if letter.status in ANSWERED:
        await _answered(conn, letter_id, letter, fields, rating_days)
    assignments = ", ".join(f"{name} = :{name}" for name in fields)
    await conn.execute(
        f"UPDATE letters SET {assignments} WHERE id = :letter_id",
        fields | {"letter_id": letter_id},
    )


async def _answered(
    conn: Connection,
    letter_id: int,
    letter: ImportLetter,
    fields: dict[str, Any],
    rating_days: int,
) -> None:
    replied_at = letter.replied_at
    assert replied_at is not None
    reply_id = await _reply(
        conn, letter_id, letter.reply, replied_at, submitted=replied_at, released=replied_at
    )
    fields |= {
        "replied_at": replied_at,
        "first_replied_at": replied_at,
        "reply_due_at": letter.due_at,
        "reply_department_id": letter.department_id,
        "reply_working_days": letter.reply_working_days,
        "rating_until": replied_at + timedelta(days=rating_days),
    }
    await _event(conn, letter_id, "release", "assigned", "replied", replied_at, reply_id=reply_id)
    if letter.published:
        fields["published_at"] = replied_at
        await _event(conn, letter_id, "publish", "replied", "replied", replied_at)
    if letter.rating is not None:
        await conn.execute(
            "INSERT INTO ratings (letter_id, reply_id, rating, comment, created_at)"
            " VALUES (:letter_id, :reply_id, :rating, '', :at)",
            {
                "letter_id": letter_id,
                "reply_id": reply_id,
                "rating": letter.rating,
                "at": replied_at,
            },
        )
    if letter.status == "closed":
        fields["closed_at"] = replied_at
        kind = "rate" if letter.rating is not None else "expire_rating"
        await _event(conn, letter_id, kind, "replied", "closed", replied_at)


async def _reply(
    conn: Connection,
    letter_id: int,
    body: str,
    at: datetime | None,
    *,
    submitted: datetime | None,
    released: datetime | None,
) -> int:
    reply_id: int = await conn.fetch_value(
        "INSERT INTO replies (letter_id, body, created_at, submitted_at, released_at)"
        " VALUES (:letter_id, :body, :at, :submitted, :released) RETURNING id",
        {
            "letter_id": letter_id,
            "body": body,
            "at": at,
            "submitted": submitted,
            "released": released,
        },
    )
    return reply_id

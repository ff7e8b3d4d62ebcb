"""The dispatcher's decisions on new letters: accept, reject, spam, restore, merge, reassign."""

from __future__ import annotations

from datetime import datetime

from mailbox.clock import Clock
from mailbox.db.database import Connection, Database
from mailbox.db.queries import letters
from mailbox.db.queries.letters import LetterRow
from mailbox.domain.workflow import Action
from mailbox.services.calendar import office_calendar
from mailbox.services.errors import ServiceError
from mailbox.services.reminders import assigned_mails
from mailbox.services.transitions import (
    Actor,
    Change,
    load_letter,
    step,
    transition,
    writer_mail,
)
from mailbox.settings import Settings


class InvalidDecision(ServiceError):
    """A decision that cannot be taken as given (unknown department, reason, original...)."""


async def _department_name(conn: Connection, department_id: int) -> str:
    name: str | None = await conn.fetch_value(
        "SELECT name FROM departments WHERE id = :id AND enabled = :yes",
        {"id": department_id, "yes": True},
    )
    if name is None:
        raise InvalidDecision(f"no department {department_id}")
    return name


async def due_at_for(
    conn: Connection, settings: Settings, letter: LetterRow, now: datetime
) -> datetime:
    """The reply deadline that accepting the letter now would fix."""
    reply_days: int = await conn.fetch_value(
        "SELECT reply_days FROM channels WHERE code = :code", {"code": letter.channel}
    )
    calendar = await office_calendar(conn)
    return calendar.deadline(now, reply_days, settings.tz)


async def accept(
    db: Database,
    *,
    settings: Settings,
    clock: Clock,
    actor: Actor,
    tracking_no: str,
    department_id: int,
) -> datetime:
    """Accept and route to the lead department; the deadline is fixed now. Returns it."""
    now = clock.now()
    async with db.transaction() as conn:
        letter = await load_letter(conn, tracking_no)
        department = await _department_name(conn, department_id)
        due_at = await due_at_for(conn, settings, letter, now)
        staff_mails = await assigned_mails(
            conn, letter=letter, department_id=department_id, due_at=due_at
        )
        await transition(
            conn,
            letter=letter,
            action=Action.ACCEPT,
            actor=actor,
            now=now,
            change=Change(
                fields={"department_id": department_id, "accepted_at": now, "due_at": due_at},
                data={
                    "department_id": department_id,
                    "department": department,
                    "due_at": due_at.isoformat(),
                },
                mails=writer_mail(letter, "accepted", due_at=due_at.isoformat()) + staff_mails,
            ),
        )
    return due_at


async def reject(
    db: Database, *, clock: Clock, actor: Actor, tracking_no: str, reason_code: str, note: str = ""
) -> None:
    """Not accepted, with a coded reason; the writer is told why and where to turn."""
    now = clock.now()
    async with db.transaction() as conn:
        letter = await load_letter(conn, tracking_no)
        reason = await conn.fetch_one(
            "SELECT code, label, label_en, advice, advice_en FROM reject_reasons"
            " WHERE code = :code AND enabled = :yes",
            {"code": reason_code, "yes": True},
        )
        if reason is None:
            raise InvalidDecision(f"no reject reason {reason_code}")
        english = letter.locale == "en"
        label = reason["label_en"] if english else reason["label"]
        advice = reason["advice_en"] if english else reason["advice"]
        await transition(
            conn,
            letter=letter,
            action=Action.REJECT,
            actor=actor,
            now=now,
            change=Change(
                fields={"closed_at": now},
                note=label,
                data={"reason": reason["code"], "advice": advice, "staff_note": note},
                mails=writer_mail(letter, "rejected", reason=label, advice=advice, note=note),
            ),
        )


async def mark_spam(db: Database, *, clock: Clock, actor: Actor, tracking_no: str) -> None:
    """Kept, never deleted, left out of every figure; the writer is not told."""
    await step(
        db,
        tracking_no=tracking_no,
        action=Action.MARK_SPAM,
        actor=actor,
        now=clock.now(),
        change=Change(public=False),
    )


async def restore(db: Database, *, clock: Clock, actor: Actor, tracking_no: str) -> None:
    await step(
        db,
        tracking_no=tracking_no,
        action=Action.RESTORE,
        actor=actor,
        now=clock.now(),
        change=Change(public=False),
    )


async def merge(
    db: Database, *, clock: Clock, actor: Actor, tracking_no: str, original_tracking_no: str
) -> None:
    """A repeat of another letter: it leaves the figures; the writer gets the original's number."""
    now = clock.now()
    async with db.transaction() as conn:
        letter = await load_letter(conn, tracking_no)
        original = await letters.get_letter_by_tracking_no(conn, tracking_no=original_tracking_no)
        if original is None or original.id == letter.id or original.state in ("spam", "duplicate"):
            raise InvalidDecision(f"{original_tracking_no} cannot be the original")
        await transition(
            conn,
            letter=letter,
            action=Action.MERGE,
            actor=actor,
            now=now,
            change=Change(
                fields={"duplicate_of_id": original.id, "closed_at": now},
                note=original.tracking_no,
                data={"original": original.tracking_no},
                mails=writer_mail(letter, "merged", original=original.tracking_no),
            ),
        )


async def reassign(
    db: Database, *, clock: Clock, actor: Actor, tracking_no: str, department_id: int
) -> None:
    """A returned letter goes to another department; the deadline fixed at acceptance stays."""
    async with db.transaction() as conn:
        letter = await load_letter(conn, tracking_no)
        department = await _department_name(conn, department_id)
        await transition(
            conn,
            letter=letter,
            action=Action.REASSIGN,
            actor=actor,
            now=clock.now(),
            change=Change(
                fields={"department_id": department_id},
                data={"department_id": department_id, "department": department},
                mails=await assigned_mails(
                    conn, letter=letter, department_id=department_id, due_at=letter.due_at
                ),
            ),
        )

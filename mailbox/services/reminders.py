"""Deadline reminders and escalation (督办), and the mail that tells staff of their work."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from mailbox.clock import Clock
from mailbox.db.database import Connection, Database, DatabaseUnavailable
from mailbox.db.queries import outbox, replies
from mailbox.db.queries import reminders as queries
from mailbox.db.queries.letters import LetterRow
from mailbox.db.queries.reminders import DueLetter
from mailbox.domain.calendar import WorkingCalendar
from mailbox.services.calendar import office_calendar
from mailbox.services.transitions import Mail
from mailbox.settings import Settings
from mailbox.webhooks import events as webhook_events

log = logging.getLogger(__name__)

STAFF_LOCALE = "zh_CN"
ESCALATE_EVERY = 2  # working days between overdue reminders


@dataclass(frozen=True)
class ReminderReport:
    letters: int = 0  # open letters with a deadline up to the next working day
    due_soon: int = 0  # mails queued
    overdue: int = 0  # mails queued


@dataclass(frozen=True)
class _Step:
    """A reminder a letter is due: its kind, its step day and what its mail adds."""

    kind: str
    day: date
    context: dict[str, Any]


def deadline_day(due_at: datetime, tz: ZoneInfo) -> date:
    """The working day a deadline ends (due_at is the midnight after it)."""
    return (due_at - timedelta(seconds=1)).astimezone(tz).date()


def escalation_day(calendar: WorkingCalendar, last_day: date, today: date) -> date | None:
    """The latest overdue step on or before `today`: the first working day after the deadline
    day, then every ESCALATE_EVERY working days; None before the first. A day the job missed
    (workers down) is made up on the next run rather than skipped."""
    first = calendar.add_working_days(last_day, 1)
    if today < first:
        return None
    behind = calendar.working_days_between(first, today)
    return calendar.add_working_days(first, behind - behind % ESCALATE_EVERY)


async def run_reminders(db: Database, *, settings: Settings, clock: Clock) -> ReminderReport:
    """Queue today's due-soon and overdue mail. Safe to run any number of times: each
    (letter, kind, step day) is recorded once, and mail is queued only with a new record.
    Nothing happens on a day off."""
    now = clock.now()
    tz = settings.tz
    today = now.astimezone(tz).date()
    calendar = await office_calendar(db)
    if not calendar.is_working_day(today):
        return ReminderReport()
    next_day = calendar.add_working_days(today, 1)
    # Deadlines ending by the close of the next working day: due soon, or already past.
    horizon = datetime.combine(next_day + timedelta(days=1), time(0), tzinfo=tz)
    due_soon = overdue = 0
    letters = await queries.due_letters(db, until=horizon)
    for letter in letters:
        step = _step(calendar, letter, now, today, next_day, tz)
        if step is None or await queries.reminder_recorded(
            db, letter_id=letter.id, kind=step.kind, step_day=step.day
        ):
            continue  # most runs end here, without a write
        async with db.transaction() as conn:
            # Re-read: a reply released or a deadline moved meanwhile is left to the next run.
            if await queries.due_letter(conn, letter_id=letter.id) != letter:
                continue
            queued = await _remind(conn, letter, step, now)
        if step.kind == "due_soon":
            due_soon += queued
        else:
            overdue += queued
    return ReminderReport(letters=len(letters), due_soon=due_soon, overdue=overdue)


def _step(
    calendar: WorkingCalendar,
    letter: DueLetter,
    now: datetime,
    today: date,
    next_day: date,
    tz: ZoneInfo,
) -> _Step | None:
    """The reminder a letter is due today, if any."""
    last_day = deadline_day(letter.due_at, tz)
    if today < last_day <= next_day:
        return _Step("due_soon", last_day, {})
    if now > letter.due_at:
        step_day = escalation_day(calendar, last_day, today)
        if step_day is not None:
            days = calendar.working_days_between(last_day, today)
            return _Step("overdue", step_day, {"days_overdue": days})
    return None


async def _remind(conn: Connection, letter: DueLetter, step: _Step, now: datetime) -> int:
    """Record the reminder and, only if it is new, queue its mail; the number queued."""
    if not await queries.record_reminder(
        conn, letter_id=letter.id, kind=step.kind, step_day=step.day, now=now
    ):
        return 0  # another worker got there first
    if step.kind == "overdue":
        await webhook_events.overdue(
            conn, letter=letter, days_overdue=step.context["days_overdue"], now=now
        )
    recipients = await queries.staff_emails(
        conn, role="handler", department_id=letter.department_id
    )
    if step.kind == "overdue":
        recipients += await queries.staff_emails(conn, role="dispatcher")
    if not recipients:
        log.warning("reminder %s for %s: nobody to mail", step.kind, letter.tracking_no)
    context = {
        "tracking_no": letter.tracking_no,
        "title": letter.title,
        "department": letter.department,
        "due_at": letter.due_at.isoformat(),
        **step.context,
    }
    mails = _staff_mails(step.kind, recipients, context)
    for mail in mails:
        await outbox.enqueue(
            conn,
            kind=mail.kind,
            recipient=mail.recipient,
            locale=mail.locale,
            context=mail.context,
            now=now,
            letter_id=letter.id,
        )
    return len(mails)


async def run_daily(
    db: Database,
    *,
    settings: Settings,
    clock: Clock,
    hour: int = 9,
    poll: float = 300.0,
    wakeup: asyncio.Event | None = None,
) -> None:
    """Run the reminders at every poll from `hour` o'clock office time on, until cancelled.
    A repeated run sends nothing new, so restarts and several workers do no harm, and a letter
    accepted later in the day still gets its reminder."""
    while True:
        try:
            if clock.now().astimezone(settings.tz).hour >= hour:
                report = await run_reminders(db, settings=settings, clock=clock)
                if report.due_soon or report.overdue:
                    log.info(
                        "reminders: %s due-soon and %s overdue mails for %s letters",
                        report.due_soon,
                        report.overdue,
                        report.letters,
                    )
                    if wakeup is not None:
                        wakeup.set()
        except DatabaseUnavailable as error:
            log.warning("reminders: database unavailable: %s", error)
        except Exception:
            log.exception("reminders failed; retrying at the next poll")
        await asyncio.sleep(poll)


# Mail to staff about their work, queued by the transitions that create it.


def _staff_mails(kind: str, recipients: list[str], context: dict[str, Any]) -> list[Mail]:
    return [Mail(kind, email, STAFF_LOCALE, context) for email in dict.fromkeys(recipients)]


def _about(letter: LetterRow) -> dict[str, Any]:
    return {
        "tracking_no": letter.tracking_no,
        "title": letter.title,
        "due_at": letter.due_at.isoformat() if letter.due_at else None,
    }


async def _user_or_department(
    conn: Connection, user_id: int | None, department_id: int | None
) -> list[str]:
    """The person concerned; the department's handlers when they cannot be mailed."""
    email = await queries.user_email(conn, user_id=user_id) if user_id is not None else None
    if email:
        return [email]
    if department_id is None:
        return []
    return await queries.staff_emails(conn, role="handler", department_id=department_id)


async def assigned_mails(
    conn: Connection,
    *,
    letter: LetterRow,
    department_id: int,
    due_at: datetime | None,
    note: str = "",
) -> list[Mail]:
    """To the handlers of the department a letter was just given (accept, reassign, reopen);
    `note` is the office's word on a reopened letter."""
    handlers = await queries.staff_emails(conn, role="handler", department_id=department_id)
    context = {
        **_about(letter),
        "department": await queries.department_name(conn, department_id=department_id),
        "due_at": due_at.isoformat() if due_at else None,
        "note": note,
    }
    return _staff_mails("assigned", handlers, context)


async def review_requested_mails(conn: Connection, *, letter: LetterRow) -> list[Mail]:
    """To the reviewers of the letter's department."""
    reviewers = await queries.staff_emails(
        conn, role="reviewer", department_id=letter.department_id
    )
    return _staff_mails("review_requested", reviewers, _about(letter))


async def sent_back_mails(conn: Connection, *, letter: LetterRow, comment: str) -> list[Mail]:
    """To the draft's author (or the department's handlers), with the reviewer's comment."""
    draft = await replies.current_draft(conn, letter_id=letter.id)
    recipients = await _user_or_department(
        conn, draft.author_user_id if draft else None, letter.department_id
    )
    return _staff_mails("sent_back", recipients, {**_about(letter), "comment": comment})


async def extension_decided_mails(
    conn: Connection,
    *,
    letter: LetterRow,
    requested_by_id: int,
    granted: bool,
    due_at: datetime | None,
    note: str,
) -> list[Mail]:
    """To whoever asked (or the department's handlers): granted with the new deadline, or
    refused with the deadline that stands."""
    recipients = await _user_or_department(conn, requested_by_id, letter.department_id)
    context = {**_about(letter), "granted": granted, "note": note}
    if due_at is not None:
        context["due_at"] = due_at.isoformat()
    return _staff_mails("extension_decided", recipients, context)

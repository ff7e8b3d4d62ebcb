"""Reminders already sent, the staff they go to, and the dashboard's unanswered-age flags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from mailbox.db.database import Connection

# Waiting for an answer: not yet replied, rejected, merged, marked spam or closed.
_UNANSWERED = "state IN ('pending', 'assigned', 'returned', 'review')"
FLAG_LIST_LIMIT = 100


@dataclass(frozen=True)
class DueLetter:
    """An open letter with a deadline, as the reminder job reads it."""

    id: int
    tracking_no: str
    title: str
    channel: str
    state: str
    department_id: int
    department: str
    submitted_at: datetime
    due_at: datetime


@dataclass(frozen=True)
class FlaggedLetter:
    tracking_no: str
    title: str
    state: str
    submitted_at: datetime
    over_60: bool


@dataclass(frozen=True)
class AgeFlags:
    """Open letters unanswered for more than 30 (including those over 60) and 60 calendar
    days since submission; `oldest` lists the first of them, oldest first."""

    over_30: int
    over_60: int
    oldest: tuple[FlaggedLetter, ...]


_DUE_LETTER = (
    "SELECT l.id, l.tracking_no, l.title, l.channel, l.state, l.department_id,"
    " d.name AS department, l.submitted_at, l.due_at"
    " FROM letters l JOIN departments d ON d.id = l.department_id"
    " WHERE l.state IN ('assigned', 'review') AND l.due_at IS NOT NULL"
)


async def due_letters(conn: Connection, *, until: datetime) -> list[DueLetter]:
    """Open letters whose deadline ends at or before `until` (overdue ones included)."""
    rows = await conn.fetch_all(
        f"{_DUE_LETTER} AND l.due_at <= :until ORDER BY l.due_at, l.id", {"until": until}
    )
    return [DueLetter(**row) for row in rows]


async def due_letter(conn: Connection, *, letter_id: int) -> DueLetter | None:
    """The letter as it is now; None once it is no longer open or has no deadline."""
    row = await conn.fetch_one(f"{_DUE_LETTER} AND l.id = :id", {"id": letter_id})
    return DueLetter(**row) if row else None


async def department_name(conn: Connection, *, department_id: int) -> str:
    name: str | None = await conn.fetch_value(
        "SELECT name FROM departments WHERE id = :id", {"id": department_id}
    )
    return name or ""


async def staff_emails(
    conn: Connection, *, role: str, department_id: int | None = None
) -> list[str]:
    """Addresses of the active staff with `role` (in `department_id`, when given)."""
    department = " AND u.department_id = :department_id" if department_id is not None else ""
    rows = await conn.fetch_all(
        "SELECT DISTINCT u.email FROM users u JOIN user_roles r ON r.user_id = u.id"
        f" WHERE r.role = :role AND u.is_active = :yes AND u.email <> ''{department}"
        " ORDER BY u.email",
        {"role": role, "yes": True, "department_id": department_id},
    )
    return [row["email"] for row in rows]


async def user_email(conn: Connection, *, user_id: int) -> str | None:
    """An active user's address; None when inactive, unknown or without one."""
    email: str | None = await conn.fetch_value(
        "SELECT email FROM users WHERE id = :id AND is_active = :yes AND email <> ''",
        {"id": user_id, "yes": True},
    )
    return email


async def reminder_recorded(conn: Connection, *, letter_id: int, kind: str, step_day: date) -> bool:
    found = await conn.fetch_value(
        "SELECT 1 FROM reminders WHERE letter_id = :letter_id AND kind = :kind"
        " AND step_day = :step_day",
        {"letter_id": letter_id, "kind": kind, "step_day": step_day},
    )
    return found is not None


async def record_reminder(
    conn: Connection, *, letter_id: int, kind: str, step_day: date, now: datetime
) -> bool:
    """True when this reminder is new; False when it was already sent (then send nothing)."""
    inserted = await conn.fetch_value(
        "INSERT INTO reminders (letter_id, kind, step_day, sent_at)"
        " VALUES (:letter_id, :kind, :step_day, :now)"
        " ON CONFLICT (letter_id, kind, step_day) DO NOTHING RETURNING letter_id",
        {"letter_id": letter_id, "kind": kind, "step_day": step_day, "now": now},
    )
    return inserted is not None


async def unanswered_age_flags(conn: Connection, *, now: datetime) -> AgeFlags:
    """The dashboard's warning: open letters older than 30 and 60 days (the inspection rules
    treat a letter unanswered after 3 months as a failure of the site)."""
    month, two_months = now - timedelta(days=30), now - timedelta(days=60)
    params = {"month": month, "two_months": two_months}
    counts = await conn.fetch_one(
        "SELECT COUNT(*) AS over_30,"
        " COALESCE(SUM(CASE WHEN submitted_at < :two_months THEN 1 ELSE 0 END), 0) AS over_60"
        f" FROM letters WHERE {_UNANSWERED} AND submitted_at < :month",
        params,
    )
    assert counts is not None
    rows = await conn.fetch_all(
        "SELECT tracking_no, title, state, submitted_at FROM letters"
        f" WHERE {_UNANSWERED} AND submitted_at < :month"
        " ORDER BY submitted_at, id LIMIT :limit",
        {**params, "limit": FLAG_LIST_LIMIT},
    )
    return AgeFlags(
        over_30=int(counts["over_30"]),
        over_60=int(counts["over_60"]),
        oldest=tuple(
            FlaggedLetter(**row, over_60=row["submitted_at"] < two_months) for row in rows
        ),
    )

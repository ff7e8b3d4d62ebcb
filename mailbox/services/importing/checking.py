"""Checking every row of an import before anything is written: each value against the
columns' rules, the office's channels, departments and reject reasons, and the letters
already there. The result is either clean letters or the list of every problem."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from mailbox.db.database import Connection
from mailbox.domain.calendar import WorkingCalendar
from mailbox.domain.validation import EMAIL_MAX, NAME_MAX, clean_text, normalise_phone
from mailbox.i18n import _
from mailbox.services.importing.reading import REQUIRED, Problem, RawRow

STATUSES = ("pending", "rejected", "assigned", "review", "replied", "closed", "spam")
ACCEPTED = ("assigned", "review", "replied", "closed")
ANSWERED = ("replied", "closed")
RATINGS = {
    "satisfied": "satisfied",
    "满意": "satisfied",
    "basically_satisfied": "basically_satisfied",
    "基本满意": "basically_satisfied",
    "unsatisfied": "unsatisfied",
    "不满意": "unsatisfied",
}
TITLE_MAX, BODY_MAX, REPLY_MAX = 200, 50_000, 50_000
_TRACKING = re.compile(r"^[0-9A-Za-z-]{4,32}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


@dataclass(frozen=True)
class Lookups:
    """What the rows refer to, read once before checking."""

    channels: dict[str, tuple[str, int]]  # code, name or English name → (code, reply days)
    departments: dict[str, int]  # code or name → id
    reasons: dict[str, tuple[str, str]]  # code or label → (code, label)
    taken_numbers: set[str]
    calendar: WorkingCalendar
    tz: ZoneInfo


@dataclass(frozen=True)
class ImportLetter:
    line: int
    tracking_no: str | None
    channel: str
    title: str
    body: str
    name: str
    phone: str
    email: str
    status: str
    submitted_at: datetime
    department_id: int | None
    accepted_at: datetime | None
    due_at: datetime | None
    replied_at: datetime | None
    reply: str
    reject_code: str
    reject_label: str
    rating: str | None
    published: bool
    reply_working_days: int | None


async def read_lookups(conn: Connection, tz: ZoneInfo, calendar: WorkingCalendar) -> Lookups:
    channels: dict[str, tuple[str, int]] = {}
    for row in await conn.fetch_all("SELECT code, name, name_en, reply_days FROM channels", {}):
        for key in (row["code"], row["name"], row["name_en"]):
            channels[key] = (row["code"], row["reply_days"])
    departments: dict[str, int] = {}
    for row in await conn.fetch_all("SELECT id, code, name FROM departments", {}):
        departments[row["code"]] = departments[row["name"]] = row["id"]
    reasons: dict[str, tuple[str, str]] = {}
    for row in await conn.fetch_all("SELECT code, label, label_en FROM reject_reasons", {}):
        for key in (row["code"], row["label"], row["label_en"]):
            reasons[key] = (row["code"], row["label"])
    return Lookups(channels, departments, reasons, set(), calendar, tz)


async def taken_numbers(conn: Connection, numbers: list[str]) -> set[str]:
    """Which of these tracking numbers the database already has (asked in chunks)."""
    taken: set[str] = set()
    for start in range(0, len(numbers), 500):
        chunk = numbers[start : start + 500]
        params = {f"n{i}": number for i, number in enumerate(chunk)}
        marks = ", ".join(f":{name}" for name in params)
        rows = await conn.fetch_all(
            f"SELECT tracking_no FROM letters WHERE tracking_no IN ({marks})", params
        )
        taken.update(row["tracking_no"] for row in rows)
    return taken


class _Row:
    """One row being checked: its values, and the problems found so far."""

    def __init__(self, raw: RawRow, problems: list[Problem]) -> None:
        self.line = raw.line
        self.values = {key: value.strip() for key, value in raw.values.items()}
        self.problems = problems

    def get(self, column: str) -> str:
        return self.values.get(column, "")

    def bad(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.line, column, message))

    def text(self, column: str, limit: int, *, multiline: bool = False) -> str:
        value = clean_text(self.get(column), multiline=multiline)
        if len(value) > limit:
            self.bad(column, _("longer than %(limit)d characters") % {"limit": limit})
        return value

    def moment(self, column: str, tz: ZoneInfo) -> datetime | None:
        raw = self.get(column)
        if not raw:
            return None
        try:
            if len(raw) == 10:
                return datetime.combine(date.fromisoformat(raw), time(0), tz)
            moment = datetime.fromisoformat(raw.replace(" ", "T", 1))
        except ValueError:
            self.bad(column, _("not an ISO 8601 date or date and time: %(value)s") % {"value": raw})
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def check_rows(rows: list[RawRow], lookups: Lookups) -> tuple[list[ImportLetter], list[Problem]]:
    problems: list[Problem] = []
    letters = []
    numbers_seen: dict[str, int] = {}
    for raw in rows:
        row = _Row(raw, problems)
        before = len(problems)
        letter = _check(row, lookups, numbers_seen)
        if letter is not None and len(problems) == before:
            letters.append(letter)
    return letters, problems


def _check(row: _Row, lookups: Lookups, numbers_seen: dict[str, int]) -> ImportLetter | None:
    for column in REQUIRED:
        if not row.get(column):
            row.bad(column, _("required"))
    tz = lookups.tz
    channel = lookups.channels.get(row.get("channel"))
    if row.get("channel") and channel is None:
        row.bad("channel", _("no such channel: %(value)s") % {"value": row.get("channel")})
    status = row.get("status").lower()
    if status and status not in STATUSES:
        row.bad("status", _("must be one of %(choices)s") % {"choices": ", ".join(STATUSES)})
    title = row.text("title", TITLE_MAX)
    body = row.text("body", BODY_MAX, multiline=True)
    name = row.text("name", NAME_MAX)
    phone = normalise_phone(row.get("phone"))
    if len(phone) > 30:
        row.bad("phone", _("longer than %(limit)d characters") % {"limit": 30})
    email = row.get("email")
    if email and (len(email) > EMAIL_MAX or not _EMAIL.match(email)):
        row.bad("email", _("not an email address"))
    submitted_at = row.moment("submitted_at", tz)
    accepted_at = row.moment("accepted_at", tz)
    due_at = row.moment("due_at", tz)
    replied_at = row.moment("replied_at", tz)

    department_id = None
    if row.get("department"):
        department_id = lookups.departments.get(row.get("department"))
        if department_id is None:
            row.bad(
                "department", _("no such department: %(value)s") % {"value": row.get("department")}
            )

    tracking_no = row.get("tracking_no") or None
    if tracking_no:
        if not _TRACKING.match(tracking_no):
            row.bad("tracking_no", _("4 to 32 letters, digits or hyphens"))
        elif tracking_no in lookups.taken_numbers:
            row.bad("tracking_no", _("a letter with this number exists already"))
        elif tracking_no in numbers_seen:
            row.bad(
                "tracking_no",
                _("the same number as line %(line)d") % {"line": numbers_seen[tracking_no]},
            )
        else:
            numbers_seen[tracking_no] = row.line

    rating = None
    if row.get("rating"):
        rating = RATINGS.get(row.get("rating").lower())
        if rating is None:
            row.bad("rating", _("must be satisfied, basically_satisfied or unsatisfied"))
        elif status not in ANSWERED:
            row.bad("rating", _("only a replied or closed letter can have a rating"))
    published = row.get("published").lower() in ("1", "true", "yes")
    if row.get("published").lower() not in ("", "0", "1", "true", "false", "yes", "no"):
        row.bad("published", _("must be 0 or 1"))
    elif published and status not in ANSWERED:
        row.bad("published", _("only a replied or closed letter can be published"))

    reply = row.text("reply", REPLY_MAX, multiline=True)
    if status == "review" and not reply:
        row.bad("reply", _("a letter in review needs the draft reply"))
    reject_code, reject_label = "", ""
    if row.get("reject_reason"):
        reason = lookups.reasons.get(row.get("reject_reason"))
        # A reason the office's list does not have is kept as the rejection's note.
        reject_code, reject_label = reason or ("", clean_text(row.get("reject_reason"))[:500])
        if status != "rejected":
            row.bad("reject_reason", _("only a rejected letter has a reject reason"))

    if status in ACCEPTED:
        accepted_at = accepted_at or submitted_at
    elif accepted_at is not None:
        row.bad("accepted_at", _("only an accepted letter has an acceptance time"))
    if status in ANSWERED and row.get("replied_at") == "":
        row.bad("replied_at", _("required for a replied or closed letter"))
    if submitted_at and accepted_at and accepted_at < submitted_at:
        row.bad("accepted_at", _("earlier than submitted_at"))
    if accepted_at and replied_at and replied_at < accepted_at:
        row.bad("replied_at", _("earlier than accepted_at"))
    if status not in ANSWERED and status != "rejected" and replied_at is not None:
        row.bad("replied_at", _("only a replied, closed or rejected letter has a reply time"))

    if channel is None or submitted_at is None or not status or not title or not body:
        return None
    if accepted_at is not None and due_at is None:
        due_at = lookups.calendar.deadline(accepted_at, channel[1], tz)
    working_days = None
    if replied_at is not None and status in ANSWERED:
        working_days = lookups.calendar.working_days_between(
            submitted_at.astimezone(tz).date(), replied_at.astimezone(tz).date()
        )
    return ImportLetter(
        line=row.line,
        tracking_no=tracking_no,
        channel=channel[0],
        title=title,
        body=body,
        name=name,
        phone=phone,
        email=email,
        status=status,
        submitted_at=submitted_at,
        department_id=department_id,
        accepted_at=accepted_at,
        due_at=due_at,
        replied_at=replied_at,
        reply=reply,
        reject_code=reject_code,
        reject_label=reject_label,
        rating=rating,
        published=published,
        reply_working_days=working_days,
    )

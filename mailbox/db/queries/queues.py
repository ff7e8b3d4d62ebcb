"""The staff lists: the dispatcher's queue, search, a department's inbox, the review queue.

Every list is keyset-paginated on an indexed order, so a deep page costs what the first does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from mailbox.db.database import Connection
from mailbox.domain.codes import TRACKING_NO_LENGTH

PAGE_SIZE = 50
OPEN_STATES = ("assigned", "review")


@dataclass(frozen=True)
class ListedLetter:
    id: int
    tracking_no: str
    channel: str
    state: str
    title: str
    writer_name: str
    department_id: int | None
    submitted_at: datetime
    due_at: datetime | None
    needs_follow_up: bool


_COLUMNS = (
    "l.id, l.tracking_no, l.channel, l.state, l.title, l.writer_name, l.department_id,"
    " l.submitted_at, l.due_at, l.needs_follow_up"
)


def _listed(rows: list[Any]) -> list[ListedLetter]:
    return [
        ListedLetter(**{**row, "needs_follow_up": bool(row["needs_follow_up"])}) for row in rows
    ]


async def by_state(conn: Connection, *, state: str, limit: int = PAGE_SIZE) -> list[ListedLetter]:
    rows = await conn.fetch_all(
        f"SELECT {_COLUMNS} FROM letters l WHERE l.state = :state"
        " ORDER BY l.submitted_at, l.id LIMIT :limit",
        {"state": state, "limit": limit},
    )
    return _listed(rows)


async def needing_follow_up(conn: Connection, *, limit: int = PAGE_SIZE) -> list[ListedLetter]:
    # A literal, not a parameter: SQLite uses the partial index only for a literal.
    rows = await conn.fetch_all(
        f"SELECT {_COLUMNS} FROM letters l WHERE l.needs_follow_up"
        " ORDER BY l.submitted_at, l.id LIMIT :limit",
        {"limit": limit},
    )
    return _listed(rows)


async def overdue(
    conn: Connection, *, now: datetime, department_id: int | None = None, limit: int = PAGE_SIZE
) -> list[ListedLetter]:
    where = " AND l.department_id = :department_id" if department_id is not None else ""
    rows = await conn.fetch_all(
        f"SELECT {_COLUMNS} FROM letters l WHERE l.state IN ('assigned', 'review')"
        f" AND l.due_at < :now{where} ORDER BY l.due_at, l.id LIMIT :limit",
        {"now": now, "department_id": department_id, "limit": limit},
    )
    return _listed(rows)


@dataclass(frozen=True)
class ExtensionRequest:
    id: int
    tracking_no: str
    title: str
    working_days: int
    reason: str
    due_at: datetime | None
    created_at: datetime


async def pending_extensions(conn: Connection, *, limit: int = PAGE_SIZE) -> list[ExtensionRequest]:
    rows = await conn.fetch_all(
        "SELECT r.id, l.tracking_no, l.title, r.working_days, r.reason, l.due_at, r.created_at"
        " FROM extension_requests r JOIN letters l ON l.id = r.letter_id"
        " WHERE r.state = 'pending' ORDER BY r.id LIMIT :limit",
        {"limit": limit},
    )
    return [ExtensionRequest(**row) for row in rows]


@dataclass(frozen=True)
class Filters:
    channel: str = ""
    state: str = ""
    department_id: int | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None  # inclusive, office dates turned into moments by the caller
    words: str = ""  # tracking number, name, phone, or words of the title or body
    overdue_at: datetime | None = None  # open letters whose deadline had passed at this moment


async def search(
    conn: Connection,
    *,
    filters: Filters,
    from_moment: datetime | None,
    to_moment: datetime | None,
    after: tuple[datetime, int] | None = None,
    limit: int = PAGE_SIZE,
) -> list[ListedLetter]:
    """Newest first; `after` is the (submitted_at, id) of the last row of the previous page."""
    clauses: list[str] = []
    params: dict[str, Any] = {"limit": limit}
    if filters.channel:
        clauses.append("l.channel = :channel")
        params["channel"] = filters.channel
    if filters.state:
        clauses.append("l.state = :state")
        params["state"] = filters.state
    if filters.department_id is not None:
        clauses.append("l.department_id = :department_id")
        params["department_id"] = filters.department_id
    if filters.overdue_at:
        clauses.append("l.state IN ('assigned', 'review') AND l.due_at < :overdue_at")
        params["overdue_at"] = filters.overdue_at
    if from_moment:
        clauses.append("l.submitted_at >= :from_moment")
        params["from_moment"] = from_moment
    if to_moment:
        clauses.append("l.submitted_at < :to_moment")
        params["to_moment"] = to_moment
    if filters.words:
        words = filters.words.strip()
        digits = "".join(ch for ch in words if ch.isdigit())
        if digits and len(digits) == len(words.replace(" ", "").replace("-", "")):
            if len(digits) == TRACKING_NO_LENGTH:
                # A tracking number: one index look-up instead of a scan of every phone.
                clauses.append("l.tracking_no = :digits")
            else:
                clauses.append("l.writer_phone LIKE :digits_like")
                params["digits_like"] = f"%{digits}%"
            params["digits"] = digits
        else:
            clauses.append(
                "(l.writer_name = :words OR l.title LIKE :like ESCAPE '\\'"
                " OR l.body LIKE :like ESCAPE '\\')"
            )
            escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params["words"] = words
            params["like"] = f"%{escaped}%"
    if after:
        # The leading bound lets both databases read the index as a range from the last row.
        clauses.append(
            "l.submitted_at <= :after_at AND (l.submitted_at < :after_at OR l.id < :after_id)"
        )
        params["after_at"], params["after_id"] = after
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = await conn.fetch_all(
        f"SELECT {_COLUMNS} FROM letters l {where}"
        " ORDER BY l.submitted_at DESC, l.id DESC LIMIT :limit",
        params,
    )
    return _listed(rows)


async def department_inbox(
    conn: Connection,
    *,
    department_id: int,
    states: tuple[str, ...] = OPEN_STATES,
    after: tuple[datetime, int] | None = None,
    limit: int = PAGE_SIZE,
) -> list[ListedLetter]:
    """The department's open letters, earliest deadline first."""
    placeholders = ", ".join(f":s{i}" for i in range(len(states)))
    params: dict[str, Any] = {f"s{i}": state for i, state in enumerate(states)}
    params.update(department_id=department_id, limit=limit)
    # The literal open-state test lets both databases use the partial index
    # letters_open_department; the parameters then pick among those states.
    keyset = ""
    if after:
        keyset = " AND l.due_at >= :after_at AND (l.due_at > :after_at OR l.id > :after_id)"
        params["after_at"], params["after_id"] = after
    rows = await conn.fetch_all(
        f"SELECT {_COLUMNS} FROM letters l WHERE l.department_id = :department_id"
        " AND l.state IN ('assigned', 'review', 'returned')"
        f" AND l.state IN ({placeholders}){keyset} ORDER BY l.due_at, l.id LIMIT :limit",
        params,
    )
    return _listed(rows)

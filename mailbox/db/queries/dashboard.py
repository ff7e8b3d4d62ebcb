"""Counts for the dashboard: open letters by state and department, deadlines, replies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailbox.db.database import Connection


@dataclass(frozen=True)
class OpenCount:
    department_id: int | None
    state: str
    letters: int


async def open_by_state(conn: Connection, *, department_id: int | None) -> list[OpenCount]:
    scope = " AND department_id = :department_id" if department_id is not None else ""
    rows = await conn.fetch_all(
        "SELECT department_id, state, COUNT(*) AS letters FROM letters"
        f" WHERE state IN ('pending', 'assigned', 'returned', 'review'){scope}"
        " GROUP BY department_id, state ORDER BY department_id, state",
        {"department_id": department_id},
    )
    return [OpenCount(**row) for row in rows]


@dataclass(frozen=True)
class Deadlines:
    due_this_week: int
    overdue: int
    replied_this_month: int


async def deadlines(
    conn: Connection,
    *,
    now: datetime,
    week_ends: datetime,
    month_starts: datetime,
    department_id: int | None,
) -> Deadlines:
    scope = " AND department_id = :department_id" if department_id is not None else ""
    params = {
        "now": now,
        "week_ends": week_ends,
        "month_starts": month_starts,
        "department_id": department_id,
    }
    due = await conn.fetch_value(
        "SELECT COUNT(*) FROM letters WHERE state IN ('assigned', 'review')"
        f" AND due_at >= :now AND due_at <= :week_ends{scope}",
        params,
    )
    overdue = await conn.fetch_value(
        "SELECT COUNT(*) FROM letters WHERE state IN ('assigned', 'review')"
        f" AND due_at < :now{scope}",
        params,
    )
    if department_id is None:
        # Every event has its letter: the office's count is read from the index alone.
        replied = await conn.fetch_value(
            "SELECT COUNT(*) FROM letter_events"
            " WHERE kind IN ('approve', 'release') AND created_at >= :month_starts",
            params,
        )
    else:
        replied = await conn.fetch_value(
            "SELECT COUNT(*) FROM letter_events e JOIN letters l ON l.id = e.letter_id"
            " WHERE e.kind IN ('approve', 'release') AND e.created_at >= :month_starts"
            " AND l.department_id = :department_id",
            params,
        )
    return Deadlines(int(due), int(overdue), int(replied))

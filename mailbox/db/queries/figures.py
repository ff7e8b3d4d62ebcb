"""The figures' one aggregation: the period's letters grouped by channel, department and
month, each column a count or sum of DESIGN §5 as of a moment."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from mailbox.db.database import Connection, Row

# The department that counts a letter: the one that answered it, once answered by the moment;
# before that, the one that has it now (none for letters not accepted).
_DEPARTMENT = (
    "COALESCE(CASE WHEN l.first_replied_at <= :as_of THEN l.reply_department_id END,"
    " l.department_id)"
)
_ACCEPTED = "l.accepted_at <= :as_of"
_REPLIED = f"{_ACCEPTED} AND l.first_replied_at <= :as_of"
_NOT_REPLIED = "(l.first_replied_at IS NULL OR l.first_replied_at > :as_of)"
# The deadline in force: at the first reply if there was one (a reopened letter's new
# deadline is not the one it was answered against), else the current one.
_DEADLINE = "COALESCE(l.reply_due_at, l.due_at)"
# Whole seconds from submission to the first reply, the same on both databases.
_SECONDS = {
    "sqlite": "(CAST(strftime('%s', l.first_replied_at) AS INTEGER)"
    " - CAST(strftime('%s', l.submitted_at) AS INTEGER))",
    "postgresql": "(CAST(EXTRACT(EPOCH FROM date_trunc('second', l.first_replied_at)) AS BIGINT)"
    " - CAST(EXTRACT(EPOCH FROM date_trunc('second', l.submitted_at)) AS BIGINT))",
}
# Spam and merged duplicates are never letters of the cohort, whenever they were marked.
_COHORT = (
    "l.submitted_at >= :starts AND l.submitted_at < :ends AND l.state NOT IN ('spam', 'duplicate')"
)


def _month_case(month_starts: list[datetime], params: dict[str, Any]) -> str:
    """The index of the month a letter was submitted in (0 = the period's first month)."""
    whens = []
    for index, starts in enumerate(month_starts[1:], start=1):
        params[f"m{index}"] = starts
        whens.append(f"WHEN l.submitted_at < :m{index} THEN {index - 1}")
    return f"CASE {' '.join(whens)} ELSE {len(month_starts) - 1} END" if whens else "0"


def _sum(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


async def letter_counts(
    conn: Connection,
    *,
    starts: datetime,
    ends: datetime,
    as_of: datetime,
    month_starts: list[datetime],
) -> list[Row]:
    """One row per (channel, department_id, month) with the letter counts and sums."""
    params: dict[str, Any] = {"starts": starts, "ends": ends, "as_of": as_of}
    month = _month_case(month_starts, params)
    seconds = _SECONDS[conn.dialect]
    sql = f"""
        SELECT l.channel AS channel, {_DEPARTMENT} AS department_id, {month} AS month,
            COUNT(*) AS received,
            {_sum(_ACCEPTED)} AS accepted,
            {_sum("l.state = 'rejected' AND l.closed_at <= :as_of")} AS rejected,
            {_sum(_REPLIED)} AS replied,
            {_sum(f"{_REPLIED} AND l.first_replied_at <= l.reply_due_at")} AS on_time,
            {_sum(f"{_ACCEPTED} AND {_NOT_REPLIED} AND {_DEADLINE} < :as_of")} AS overdue_open,
            {_sum(f"{_REPLIED} AND l.published_at <= :as_of")} AS published,
            COALESCE(SUM(CASE WHEN {_REPLIED} THEN {seconds} END), 0) AS reply_seconds,
            COALESCE(SUM(CASE WHEN {_REPLIED} THEN l.reply_working_days END), 0)
                AS reply_working_days,
            {_sum(f"{_REPLIED} AND l.reply_working_days IS NOT NULL")} AS with_working_days
        FROM letters l
        WHERE {_COHORT}
        GROUP BY 1, 2, 3
    """
    return await conn.fetch_all(sql, params)


async def rating_counts(
    conn: Connection,
    *,
    starts: datetime,
    ends: datetime,
    as_of: datetime,
    month_starts: list[datetime],
) -> list[Row]:
    """Ratings given by the moment to the period's letters, grouped like letter_counts: each
    rating counts (a reopened letter may be rated twice)."""
    params: dict[str, Any] = {"starts": starts, "ends": ends, "as_of": as_of}
    month = _month_case(month_starts, params)
    sql = f"""
        SELECT l.channel AS channel, {_DEPARTMENT} AS department_id, {month} AS month,
            COUNT(*) AS rated,
            {_sum("r.rating IN ('satisfied', 'basically_satisfied')")} AS satisfied
        FROM ratings r JOIN letters l ON l.id = r.letter_id
        WHERE {_COHORT} AND r.created_at <= :as_of
        GROUP BY 1, 2, 3
    """
    return await conn.fetch_all(sql, params)


async def submission_years(conn: Connection, *, tz: ZoneInfo) -> list[int]:
    """The years (office time zone) that have letters, newest first: two index lookups for
    the first and last letter, then one for each year between."""
    first = await conn.fetch_value("SELECT submitted_at FROM letters ORDER BY submitted_at LIMIT 1")
    last = await conn.fetch_value(
        "SELECT submitted_at FROM letters ORDER BY submitted_at DESC LIMIT 1"
    )
    if first is None or last is None:
        return []
    years = []
    for year in range(last.astimezone(tz).year, first.astimezone(tz).year - 1, -1):
        found = await conn.fetch_value(
            "SELECT 1 FROM letters l WHERE l.submitted_at >= :starts AND l.submitted_at < :ends"
            " AND l.state NOT IN ('spam', 'duplicate') LIMIT 1",
            {
                "starts": datetime(year, 1, 1, tzinfo=tz),
                "ends": datetime(year + 1, 1, 1, tzinfo=tz),
            },
        )
        if found:
            years.append(year)
    return years

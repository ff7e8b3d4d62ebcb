"""Letters as Open311 service requests. Only what the public may see is read: the letter's
facts and its published copy; never the original text or anything about the writer."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mailbox.db.database import Connection
from mailbox.domain.states import LetterState

ANSWERED = frozenset({LetterState.REPLIED, LetterState.CLOSED})


@dataclass(frozen=True)
class RequestRow:
    tracking_no: str
    channel: str
    state: str
    department: str  # the lead department's name, or ''
    submitted_at: datetime
    updated_at: datetime
    due_at: datetime | None
    replied_at: datetime | None
    closed_at: datetime | None
    public_title: str  # the published copy, or '' while it is not public
    public_body: str
    public_reply: str


_SELECT = (
    "SELECT l.tracking_no, l.channel, l.state, COALESCE(d.name, '') AS department,"
    " l.submitted_at, l.updated_at, l.due_at, l.replied_at, l.closed_at,"
    " CASE WHEN p.is_published THEN p.title ELSE '' END AS public_title,"
    " CASE WHEN p.is_published THEN p.body ELSE '' END AS public_body,"
    " CASE WHEN p.is_published THEN p.reply ELSE '' END AS public_reply"
    " FROM letters l"
    " LEFT JOIN departments d ON d.id = l.department_id"
    " LEFT JOIN publications p ON p.letter_id = l.id"
)
# Newest first: the listing's order, and the order the letters_submitted index is read in.
_ORDER = " ORDER BY l.submitted_at DESC, l.id DESC"


def _one_of(conn: Connection, column: str, name: str, values: Sequence[str]) -> tuple[str, Any]:
    """`column` is one of `values`, as one statement whatever their number (a JSON array on
    SQLite, an array on PostgreSQL), so that each shape is prepared once."""
    if conn.dialect == "postgresql":
        return f"{column} = ANY(:{name})", list(values)
    return f"{column} IN (SELECT value FROM json_each(:{name}))", json.dumps(list(values))


def _state_clause(conn: Connection, states: Sequence[str]) -> tuple[str, Any]:
    """Open letters are few (the office answers them): the state index finds them, and the
    sort is small. Answered ones are most letters: naming the states left out keeps the state
    index out, so the submission index is read newest first and stops at the limit (on a
    million letters, the last 90 days: 300 ms with the state index, 3 ms so)."""
    if not set(states) & ANSWERED:
        return _one_of(conn, "l.state", "states", states)
    left_out = [str(state) for state in LetterState if state not in states]
    if conn.dialect == "postgresql":
        return "l.state <> ALL(:states)", left_out
    return "l.state NOT IN (SELECT value FROM json_each(:states))", json.dumps(left_out)


async def requests_between(
    conn: Connection,
    *,
    starts: datetime,
    ends: datetime,
    states: Sequence[str],
    channels: Sequence[str] | None,
    limit: int,
) -> list[RequestRow]:
    """Letters submitted in [starts, ends] in one of the states (and channels), newest first."""
    state_clause, state_values = _state_clause(conn, states)
    clauses = ["l.submitted_at >= :starts", "l.submitted_at <= :ends", state_clause]
    params: dict[str, Any] = {
        "starts": starts,
        "ends": ends,
        "states": state_values,
        "limit": limit,
    }
    if channels is not None:
        channel_clause, params["channels"] = _one_of(conn, "l.channel", "channels", channels)
        clauses.append(channel_clause)
    rows = await conn.fetch_all(
        f"{_SELECT} WHERE {' AND '.join(clauses)}{_ORDER} LIMIT :limit", params
    )
    return [RequestRow(**row) for row in rows]


async def requests_numbered(conn: Connection, *, tracking_nos: Sequence[str]) -> list[RequestRow]:
    """The letters with these tracking numbers, in any state, newest first."""
    if not tracking_nos:
        return []
    clause, values = _one_of(conn, "l.tracking_no", "numbers", tracking_nos)
    rows = await conn.fetch_all(f"{_SELECT} WHERE {clause}{_ORDER}", {"numbers": values})
    return [RequestRow(**row) for row in rows]

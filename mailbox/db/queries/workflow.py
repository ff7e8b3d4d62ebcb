"""Writing a transition: the letter's new state and fields, guarded by the state it left."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mailbox.db.database import Connection

# Letter columns a transition may set; anything else is a programming error.
SETTABLE = frozenset(
    {
        "department_id",
        "accepted_at",
        "due_at",
        "replied_at",
        "closed_at",
        "duplicate_of_id",
        "needs_follow_up",
        "rating_until",
        "first_replied_at",
        "reply_due_at",
        "reply_department_id",
        "reply_working_days",
        "published_at",
    }
)


async def move_letter(
    conn: Connection,
    *,
    letter_id: int,
    from_state: str,
    to_state: str,
    now: datetime,
    fields: dict[str, Any],
) -> bool:
    """Set the state (and fields) only if the letter is still in `from_state`: two people
    acting on one letter at once cannot both succeed."""
    unknown = set(fields) - SETTABLE
    if unknown:
        raise ValueError(f"not settable by a transition: {sorted(unknown)}")
    assignments = "".join(f", {name} = :{name}" for name in fields)
    changed = await conn.execute(
        f"UPDATE letters SET state = :to_state, updated_at = :now{assignments}"
        " WHERE id = :letter_id AND state = :from_state",
        {
            **fields,
            "to_state": to_state,
            "now": now,
            "letter_id": letter_id,
            "from_state": from_state,
        },
    )
    return changed == 1


async def holiday_overrides(conn: Connection) -> dict[Any, bool]:
    rows = await conn.fetch_all("SELECT day, kind FROM holidays")
    return {row["day"]: row["kind"] == "workday" for row in rows}

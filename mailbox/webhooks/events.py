"""The letter events that webhooks are told of, queued in the transaction of the change.

Each hook point calls one function here; when no webhook is subscribed, the one statement
it runs inserts nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mailbox.db.database import Connection
from mailbox.db.queries import webhooks
from mailbox.db.queries.letters import LetterRow
from mailbox.db.queries.reminders import DueLetter
from mailbox.domain.states import LetterState
from mailbox.domain.workflow import Action
from mailbox.webhooks.payload import Event, context, letter_facts

# The workflow actions that are events for webhooks; the others are internal steps.
EVENT_OF_ACTION = {
    Action.ACCEPT: Event.ACCEPTED,
    Action.APPROVE: Event.REPLIED,
    Action.RELEASE: Event.REPLIED,
    Action.RATE: Event.RATED,
}


async def _queue(
    conn: Connection,
    event: Event,
    *,
    letter_id: int,
    department_id: int | None,
    letter: dict[str, Any],
    now: datetime,
    data: dict[str, Any] | None = None,
) -> None:
    await webhooks.queue_event(
        conn,
        event=event,
        letter_id=letter_id,
        department_id=department_id,
        context=context(event, occurred_at=now, letter=letter, data=data or {}),
        now=now,
    )


async def submitted(
    conn: Connection, *, letter_id: int, tracking_no: str, channel: str, now: datetime
) -> None:
    """A new letter, from the form, the API or staff entering a letter by post or phone."""
    facts = letter_facts(
        tracking_no=tracking_no,
        channel=channel,
        state=LetterState.PENDING,
        submitted_at=now,
        due_at=None,
    )
    await _queue(
        conn, Event.SUBMITTED, letter_id=letter_id, department_id=None, letter=facts, now=now
    )


async def transitioned(
    conn: Connection,
    *,
    letter: LetterRow,
    action: Action,
    state: LetterState,
    fields: dict[str, Any],
    data: dict[str, Any],
    now: datetime,
) -> None:
    """After a workflow step: the letter as the step left it (`fields` are what it changed)."""
    event = EVENT_OF_ACTION.get(action)
    if event is None:
        return
    department_id = fields.get("department_id", letter.department_id)
    facts = letter_facts(
        tracking_no=letter.tracking_no,
        channel=letter.channel,
        state=state,
        submitted_at=letter.submitted_at,
        due_at=fields.get("due_at", letter.due_at),
    )
    extra = {"rating": data["rating"]} if event is Event.RATED else {}
    await _queue(
        conn,
        event,
        letter_id=letter.id,
        department_id=department_id,
        letter=facts,
        now=now,
        data=extra,
    )


async def overdue(conn: Connection, *, letter: DueLetter, days_overdue: int, now: datetime) -> None:
    """An escalation (督办): on the first working day after the deadline, then every few."""
    facts = letter_facts(
        tracking_no=letter.tracking_no,
        channel=letter.channel,
        state=letter.state,
        submitted_at=letter.submitted_at,
        due_at=letter.due_at,
    )
    await _queue(
        conn,
        Event.OVERDUE,
        letter_id=letter.id,
        department_id=letter.department_id,
        letter=facts,
        now=now,
        data={"due_at": letter.due_at.isoformat(), "days_overdue": days_overdue},
    )

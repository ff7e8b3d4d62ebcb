"""The one place a letter changes state: the letter, its event, its mail and its webhook
deliveries in one write."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mailbox.db.database import Connection, Database
from mailbox.db.queries import letters, outbox
from mailbox.db.queries.letters import LetterRow
from mailbox.db.queries.workflow import move_letter
from mailbox.domain.states import LetterState
from mailbox.domain.workflow import TRANSITIONS, Action, TransitionRefused, may, next_state
from mailbox.services.errors import NotFound
from mailbox.webhooks import events as webhook_events


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff member, or nobody (the writer, or the system's own jobs)."""

    user_id: int | None
    roles: frozenset[str] = frozenset()
    department_id: int | None = None


WRITER = Actor(user_id=None)
SYSTEM = Actor(user_id=None)


class NotPermitted(TransitionRefused):
    """The action exists for this letter, but not for this person."""


@dataclass(frozen=True)
class Mail:
    kind: str
    recipient: str
    locale: str
    context: dict[str, Any]


def writer_mail(letter: LetterRow, kind: str, **context: object) -> list[Mail]:
    """The mail that tells the writer of a step, if they gave an address."""
    if not letter.writer_email:
        return []
    base = {"name": letter.writer_name, "title": letter.title, "tracking_no": letter.tracking_no}
    return [Mail(kind, letter.writer_email, letter.locale, {**base, **context})]


async def load_letter(conn: Connection, tracking_no: str) -> LetterRow:
    """The letter inside the step's transaction, or NotFound."""
    letter = await letters.get_letter_by_tracking_no(conn, tracking_no=tracking_no)
    if letter is None:
        raise NotFound(tracking_no)
    return letter


@dataclass(frozen=True)
class Change:
    """What a transition writes besides the state."""

    fields: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    public: bool = True
    mails: list[Mail] = field(default_factory=list)


async def transition(
    conn: Connection,
    *,
    letter: LetterRow,
    action: Action,
    actor: Actor,
    now: datetime,
    change: Change | None = None,
) -> LetterState:
    """Check the table and the actor, then write the letter, the event and the mail together.
    Raises TransitionRefused (or NotPermitted) and writes nothing when the move is not allowed."""
    change = change or Change()
    current = LetterState(letter.state)
    target = next_state(action, current)
    staff_action = bool(TRANSITIONS[action].roles)
    permitted = (
        may(
            action,
            actor.roles,
            user_department_id=actor.department_id,
            letter_department_id=letter.department_id,
        )
        if staff_action
        else not actor.roles  # the writer's and the system's own actions
    )
    if not permitted:
        raise NotPermitted(f"{action} is not allowed for this actor on {letter.tracking_no}")
    moved = await move_letter(
        conn,
        letter_id=letter.id,
        from_state=current,
        to_state=target,
        now=now,
        fields=change.fields,
    )
    if not moved:
        raise TransitionRefused(f"letter {letter.tracking_no} changed meanwhile")
    await letters.insert_event(
        conn,
        letter_id=letter.id,
        kind=action,
        from_state=current,
        to_state=target,
        created_at=now,
        actor_user_id=actor.user_id,
        is_public=change.public,
        note=change.note,
        data=change.data,
    )
    await webhook_events.transitioned(
        conn,
        letter=letter,
        action=action,
        state=target,
        fields=change.fields,
        data=change.data,
        now=now,
    )
    for mail in change.mails:
        await outbox.enqueue(
            conn,
            kind=mail.kind,
            recipient=mail.recipient,
            locale=mail.locale,
            context=mail.context,
            now=now,
            letter_id=letter.id,
        )
    return target


ChangeFor = Callable[[Connection, LetterRow], Awaitable[Change]]


async def step(
    db: Database,
    *,
    tracking_no: str,
    action: Action,
    actor: Actor,
    now: datetime,
    change: Change | ChangeFor | None = None,
) -> LetterState:
    """A transition in a transaction of its own: load the letter, work out the change (a
    callable gets the connection and the letter, e.g. to address the department's mail), move."""
    async with db.transaction() as conn:
        letter = await load_letter(conn, tracking_no)
        made = await change(conn, letter) if callable(change) else change
        return await transition(
            conn, letter=letter, action=action, actor=actor, now=now, change=made
        )

"""The department's and the reviewer's work: drafts, review, release, returns, extensions,
and what follows a reply: the writer's rating, the rating window, reopening, corrections."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum

from mailbox.auth.tokens import rating_token
from mailbox.clock import Clock
from mailbox.db.database import Connection, Database
from mailbox.db.queries import attachments, letters, replies
from mailbox.db.queries.attachments import NewAttachment
from mailbox.db.queries.letters import LetterRow
from mailbox.domain.states import LetterState
from mailbox.domain.workflow import Action, TransitionRefused, next_state
from mailbox.services.calendar import office_calendar
from mailbox.services.errors import NotFound, ServiceError
from mailbox.services.intake import due_at_for
from mailbox.services.reminders import (
    assigned_mails,
    extension_decided_mails,
    review_requested_mails,
    sent_back_mails,
)
from mailbox.services.transitions import (
    SYSTEM,
    WRITER,
    Actor,
    Change,
    load_letter,
    step,
    transition,
    writer_mail,
)
from mailbox.settings import Settings

REPLY_MIN, REPLY_MAX = 10, 10_000


class Rating(StrEnum):
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    UNSATISFIED = "unsatisfied"


class InvalidWork(ServiceError):
    pass


def _clean_reply(body: str) -> str:
    text = body.replace("\r\n", "\n").strip()
    if not REPLY_MIN <= len(text) <= REPLY_MAX:
        raise InvalidWork(f"a reply has {REPLY_MIN} to {REPLY_MAX} characters")
    return text


def _drafting(letter: LetterRow, actor: Actor) -> None:
    if letter.state != LetterState.ASSIGNED or letter.department_id != actor.department_id:
        raise TransitionRefused("only the department's open letters take drafts")


async def save_draft(
    db: Database,
    *,
    clock: Clock,
    actor: Actor,
    tracking_no: str,
    body: str,
    files: Sequence[NewAttachment] = (),
) -> None:
    """Keep the handler's text, and the documents attached to it (already on disk; their
    rows commit with the draft or not at all); no state changes until it is submitted."""
    text = _clean_reply(body)
    now = clock.now()
    async with db.transaction() as conn:
        letter = await load_letter(conn, tracking_no)
        _drafting(letter, actor)
        assert actor.user_id is not None
        reply_id = await replies.save_draft(
            conn, letter_id=letter.id, body=text, author_user_id=actor.user_id, now=now
        )
        await attachments.insert(
            conn,
            letter_id=letter.id,
            files=files,
            now=now,
            reply_id=reply_id,
            uploaded_by_id=actor.user_id,
        )
        for file in files:
            await letters.insert_event(
                conn,
                letter_id=letter.id,
                kind="attach",
                from_state=letter.state,
                to_state=letter.state,
                created_at=now,
                actor_user_id=actor.user_id,
                is_public=False,
                note=file.filename,
            )


async def detach(
    db: Database, *, clock: Clock, actor: Actor, tracking_no: str, attachment_id: int
) -> str:
    """Take a document off the draft; the stored name, for removing the file after commit."""
    async with db.transaction() as conn:
        letter = await load_letter(conn, tracking_no)
        _drafting(letter, actor)
        draft = await _draft(conn, letter)
        row = await attachments.get(conn, letter_id=letter.id, attachment_id=attachment_id)
        if row is None or row.reply_id != draft.id:
            raise NotFound(f"attachment {attachment_id} of the draft")
        await attachments.delete(conn, attachment_id=row.id)
        await letters.insert_event(
            conn,
            letter_id=letter.id,
            kind="detach",
            from_state=letter.state,
            to_state=letter.state,
            created_at=clock.now(),
            actor_user_id=actor.user_id,
            is_public=False,
            note=row.filename,
        )
    return row.stored_name


async def _draft(conn: Connection, letter: LetterRow) -> replies.ReplyRow:
    draft = await replies.current_draft(conn, letter_id=letter.id)
    if draft is None:
        raise InvalidWork("there is no draft reply")
    return draft


async def submit_for_review(db: Database, *, clock: Clock, actor: Actor, tracking_no: str) -> None:
    now = clock.now()
    async with db.transaction() as conn:
        letter = await load_letter(conn, tracking_no)
        draft = await _draft(conn, letter)
        await transition(
            conn,
            letter=letter,
            action=Action.SUBMIT_DRAFT,
            actor=actor,
            now=now,
            change=Change(
                public=False,
                data={"reply_id": draft.id},
                mails=await review_requested_mails(conn, letter=letter),
            ),
        )
        await replies.mark_submitted(conn, reply_id=draft.id, now=now)


async def _release(
    conn: Connection,
    *,
    settings: Settings,
    letter: LetterRow,
    action: Action,
    actor: Actor,
    now: datetime,
) -> None:
    next_state(action, LetterState(letter.state))  # refuse before looking for a draft
    draft = await _draft(conn, letter)
    fields: dict[str, object] = {
        "replied_at": now,
        "rating_until": now + timedelta(days=settings.rating_days),
    }
    if letter.first_replied_at is None:
        fields |= await first_reply_facts(conn, settings, letter, now)
    await transition(
        conn,
        letter=letter,
        action=action,
        actor=actor,
        now=now,
        change=Change(
            fields=fields,
            data={"reply_id": draft.id},
            mails=writer_mail(
                letter,
                "replied",
                rating_token=rating_token(settings.secret_key, letter.tracking_no, draft.id),
                # Named in the mail, fetched through its link: no file travels by mail.
                documents=[
                    row.filename
                    for row in await attachments.of_letter(conn, letter_id=letter.id)
                    if row.reply_id == draft.id
                ],
            ),
        ),
    )
    await replies.release(conn, reply_id=draft.id, released_by_id=actor.user_id, now=now)


async def first_reply_facts(
    conn: Connection, settings: Settings, letter: LetterRow, now: datetime
) -> dict[str, object]:
    """What the figures count of a letter's first reply (DESIGN §5), fixed when it goes out:
    a reopened letter's second reply changes none of them."""
    calendar = await office_calendar(conn)
    return {
        "first_replied_at": now,
        "reply_due_at": letter.due_at,
        "reply_department_id": letter.department_id,
        "reply_working_days": calendar.working_days_between(
            letter.submitted_at.astimezone(settings.tz).date(), now.astimezone(settings.tz).date()
        ),
    }


async def approve(
    db: Database, *, settings: Settings, clock: Clock, actor: Actor, tracking_no: str
) -> None:
    """The reviewer releases the reply; the writer is mailed a link to read and rate it."""
    async with db.transaction() as conn:
        letter = await load_letter(conn, tracking_no)
        await _release(
            conn,
            settings=settings,
            letter=letter,
            action=Action.APPROVE,
            actor=actor,
            now=clock.now(),
        )


async def release_directly(
    db: Database, *, settings: Settings, clock: Clock, actor: Actor, tracking_no: str
) -> None:
    """For a channel without review, the handler's reply goes out at once."""
    async with db.transaction() as conn:
        letter = await load_letter(conn, tracking_no)
        review = await conn.fetch_value(
            "SELECT review_required FROM channels WHERE code = :code", {"code": letter.channel}
        )
        if review:
            raise TransitionRefused("this channel's replies are reviewed first")
        await _release(
            conn,
            settings=settings,
            letter=letter,
            action=Action.RELEASE,
            actor=actor,
            now=clock.now(),
        )


async def send_back(
    db: Database, *, clock: Clock, actor: Actor, tracking_no: str, comment: str
) -> None:
    comment = comment.strip()
    if not comment:
        raise InvalidWork("say what to change")

    async def change(conn: Connection, letter: LetterRow) -> Change:
        mails = await sent_back_mails(conn, letter=letter, comment=comment)
        return Change(public=False, note=comment, mails=mails)

    await step(
        db,
        tracking_no=tracking_no,
        action=Action.SEND_BACK,
        actor=actor,
        now=clock.now(),
        change=change,
    )


async def return_to_office(
    db: Database, *, clock: Clock, actor: Actor, tracking_no: str, reason: str
) -> None:
    """Not this department's letter: back to the dispatcher, with the reason."""
    if not reason.strip():
        raise InvalidWork("give the reason")
    await step(
        db,
        tracking_no=tracking_no,
        action=Action.RETURN,
        actor=actor,
        now=clock.now(),
        change=Change(public=False, note=reason.strip()),
    )


async def request_extension(
    db: Database, *, clock: Clock, actor: Actor, tracking_no: str, working_days: int, reason: str
) -> int:
    if not 1 <= working_days <= 60 or not reason.strip():
        raise InvalidWork("1 to 60 working days, with a reason")
    now = clock.now()
    async with db.transaction() as conn:
        letter = await load_letter(conn, tracking_no)
        pending = await conn.fetch_value(
            "SELECT id FROM extension_requests WHERE letter_id = :id AND state = 'pending'",
            {"id": letter.id},
        )
        if pending:
            raise InvalidWork("an extension request is already waiting")
        await transition(
            conn,
            letter=letter,
            action=Action.REQUEST_EXTENSION,
            actor=actor,
            now=now,
            change=Change(public=False, note=reason.strip(), data={"working_days": working_days}),
        )
        request_id: int = await conn.fetch_value(
            "INSERT INTO extension_requests (letter_id, requested_by_id, working_days, reason,"
            " created_at) VALUES (:letter_id, :by, :days, :reason, :now) RETURNING id",
            {
                "letter_id": letter.id,
                "by": actor.user_id,
                "days": working_days,
                "reason": reason.strip(),
                "now": now,
            },
        )
    return request_id


async def decide_extension(
    db: Database,
    *,
    settings: Settings,
    clock: Clock,
    actor: Actor,
    request_id: int,
    grant: bool,
    note: str = "",
) -> datetime | None:
    """The deadline moves only on grant; returns the new deadline then."""
    now = clock.now()
    async with db.transaction() as conn:
        request = await conn.fetch_one(
            "SELECT r.working_days, r.requested_by_id, l.tracking_no FROM extension_requests r"
            " JOIN letters l ON l.id = r.letter_id WHERE r.id = :id AND r.state = 'pending'",
            {"id": request_id},
        )
        if request is None:
            raise NotFound(f"extension request {request_id}")
        letter = await load_letter(conn, request["tracking_no"])
        new_due: datetime | None = None
        change = Change(public=False, note=note)
        if grant:
            assert letter.due_at is not None
            calendar = await office_calendar(conn)
            last_day = (letter.due_at - timedelta(seconds=1)).astimezone(settings.tz).date()
            new_day = calendar.add_working_days(last_day, request["working_days"])
            new_due = calendar.deadline(
                datetime.combine(new_day, datetime.min.time(), settings.tz), 0, settings.tz
            )
            change = Change(
                fields={"due_at": new_due},
                note=note,
                data={"due_at": new_due.isoformat(), "working_days": request["working_days"]},
            )
        mails = await extension_decided_mails(
            conn,
            letter=letter,
            requested_by_id=request["requested_by_id"],
            granted=grant,
            due_at=new_due,
            note=note,
        )
        await transition(
            conn,
            letter=letter,
            action=Action.GRANT_EXTENSION if grant else Action.REFUSE_EXTENSION,
            actor=actor,
            now=now,
            change=replace(change, mails=mails),
        )
        await conn.execute(
            "UPDATE extension_requests SET state = :state, decided_by_id = :by, decided_at = :now"
            " WHERE id = :id",
            {
                "state": "granted" if grant else "refused",
                "by": actor.user_id,
                "now": now,
                "id": request_id,
            },
        )
    return new_due


async def rate(
    db: Database,
    *,
    clock: Clock,
    tracking_no: str,
    rating: Rating,
    comment: str = "",
    reply_id: int | None = None,
) -> None:
    """The writer rates the released reply once; the letter closes. 不满意 waits for the office."""
    now = clock.now()
    async with db.transaction() as conn:
        letter = await load_letter(conn, tracking_no)
        if letter.state != LetterState.REPLIED or (
            letter.rating_until and now > letter.rating_until
        ):
            raise TransitionRefused("this reply can no longer be rated")
        reply = await replies.latest_released(conn, letter_id=letter.id)
        if reply is None or (reply_id is not None and reply.id != reply_id):
            raise TransitionRefused("that reply has been replaced by a newer one")
        if not await replies.add_rating(
            conn,
            letter_id=letter.id,
            reply_id=reply.id,
            rating=rating,
            comment=comment.strip()[:500],
            now=now,
        ):
            raise TransitionRefused("already rated")
        await transition(
            conn,
            letter=letter,
            action=Action.RATE,
            actor=WRITER,
            now=now,
            change=Change(
                fields={"closed_at": now, "needs_follow_up": rating is Rating.UNSATISFIED},
                data={"rating": str(rating)},
            ),
        )


async def close_unrated(db: Database, *, clock: Clock) -> int:
    """Close replied letters whose rating window has ended; how many."""
    now = clock.now()
    closed = 0
    async with db.transaction() as conn:
        rows = await conn.fetch_all(
            "SELECT tracking_no FROM letters WHERE state = 'replied' AND rating_until < :now",
            {"now": now},
        )
        for row in rows:
            letter = await load_letter(conn, row["tracking_no"])
            await transition(
                conn,
                letter=letter,
                action=Action.EXPIRE_RATING,
                actor=SYSTEM,
                now=now,
                change=Change(fields={"closed_at": now}),
            )
            closed += 1
    return closed


async def reopen(
    db: Database, *, settings: Settings, clock: Clock, actor: Actor, tracking_no: str, note: str
) -> datetime:
    """After 不满意: the department gets the letter back with a new deadline."""
    if not note.strip():
        raise InvalidWork("tell the department what is still missing")
    now = clock.now()
    async with db.transaction() as conn:
        letter = await load_letter(conn, tracking_no)
        if not letter_needs_follow_up(letter):
            raise TransitionRefused("only an unsatisfied letter is reopened")
        due_at = await due_at_for(conn, settings, letter, now)
        await transition(
            conn,
            letter=letter,
            action=Action.REOPEN,
            actor=actor,
            now=now,
            change=Change(
                fields={
                    "due_at": due_at,
                    "closed_at": None,
                    "needs_follow_up": False,
                    "rating_until": None,
                },
                note=note,
                data={"due_at": due_at.isoformat()},
                mails=writer_mail(letter, "reopened", due_at=due_at.isoformat())
                + (
                    await assigned_mails(
                        conn,
                        letter=letter,
                        department_id=letter.department_id,
                        due_at=due_at,
                        note=note.strip(),
                    )
                    if letter.department_id is not None
                    else []
                ),
            ),
        )
    return due_at


async def close_with_note(
    db: Database, *, clock: Clock, actor: Actor, tracking_no: str, note: str
) -> None:
    if not note.strip():
        raise InvalidWork("a note is needed")
    async with db.transaction() as conn:
        letter = await load_letter(conn, tracking_no)
        if not letter_needs_follow_up(letter):
            raise TransitionRefused("nothing to follow up")
        await transition(
            conn,
            letter=letter,
            action=Action.CLOSE_UNSATISFIED,
            actor=actor,
            now=clock.now(),
            change=Change(
                fields={"needs_follow_up": False},
                note=note.strip(),
                mails=writer_mail(letter, "follow_up_closed", note=note.strip()),
            ),
        )


def letter_needs_follow_up(letter: LetterRow) -> bool:
    return letter.state == LetterState.CLOSED and letter.needs_follow_up


async def correct_reply(
    db: Database, *, clock: Clock, actor: Actor, tracking_no: str, body: str, note: str
) -> None:
    """A released reply is frozen: a correction is a new released reply and a public event."""
    text = _clean_reply(body)
    now = clock.now()
    async with db.transaction() as conn:
        letter = await load_letter(conn, tracking_no)
        assert actor.user_id is not None
        await transition(
            conn,
            letter=letter,
            action=Action.CORRECT_REPLY,
            actor=actor,
            now=now,
            change=Change(note=note.strip()),
        )
        reply_id = await replies.save_draft(
            conn, letter_id=letter.id, body=text, author_user_id=actor.user_id, now=now
        )
        await replies.release(conn, reply_id=reply_id, released_by_id=actor.user_id, now=now)

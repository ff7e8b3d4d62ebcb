"""The writer's view of a letter, given its tracking number and query code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailbox.auth.tokens import rating_token
from mailbox.clock import Clock
from mailbox.db.database import Database
from mailbox.db.queries import attachments, letters, replies
from mailbox.db.queries.attachments import AttachmentRow
from mailbox.db.queries.letters import EventRow
from mailbox.domain.codes import (
    hash_query_code,
    normalise_query_code,
    normalise_tracking_no,
    query_code_matches,
)
from mailbox.domain.states import PUBLIC_STATE, LetterState
from mailbox.services.limits import TRACK_PER_LETTER, address_bucket, count_hit
from mailbox.settings import Settings


@dataclass(frozen=True)
class TrackedLetter:
    tracking_no: str
    channel: str
    title: str
    body: str
    state: LetterState
    submitted_at: datetime
    due_at: datetime | None
    events: list[EventRow]
    reply: str | None
    replied_at: datetime | None
    rating_token: str  # set while the writer may rate the reply
    files: list[AttachmentRow]  # the writer's own, and the released replies' documents


async def look_up(
    db: Database,
    *,
    settings: Settings,
    clock: Clock,
    tracking_no: str,
    query_code: str,
    client_ip: str,
) -> TrackedLetter | None:
    """The letter, or None for an unknown number and a wrong code alike (no enumeration)."""
    number, code = normalise_tracking_no(tracking_no), normalise_query_code(query_code)
    now = clock.now()
    if settings.track_limit:  # off: no write transaction for every look-up
        async with db.transaction() as conn:
            await count_hit(
                conn,
                bucket=f"track:{address_bucket(client_ip)}",
                limit=settings.track_limit,
                now=now,
            )
    letter = await letters.get_letter_by_tracking_no(db, tracking_no=number) if number else None
    # Hash even when the number is unknown, so both answers take the same time.
    stored = letter.query_code_hash if letter else hash_query_code(settings.secret_key, "-")
    if not query_code_matches(settings.secret_key, code, stored) or letter is None:
        # Only failures count per number: tracking numbers are public (the archive, Open311),
        # and counting every look-up would let anyone lock a writer out of their own letter.
        # Guessing stays hopeless: the per-address limit against 31^8 codes.
        async with db.transaction() as conn:
            await count_hit(conn, bucket=f"track-no:{number}", limit=TRACK_PER_LETTER, now=now)
        return None
    return await writer_view(db, settings=settings, clock=clock, letter=letter)


async def writer_view(
    db: Database, *, settings: Settings, clock: Clock, letter: letters.LetterRow
) -> TrackedLetter:
    """The letter as its writer sees it; only after the query code was checked."""
    now = clock.now()
    reply = await replies.latest_released(db, letter_id=letter.id)
    rating_open = (
        letter.state == LetterState.REPLIED
        and reply is not None
        and (letter.rating_until is None or now <= letter.rating_until)
    )
    return TrackedLetter(
        tracking_no=letter.tracking_no,
        channel=letter.channel,
        title=letter.title,
        body=letter.body,
        # The writer is not told of internal steps, nor that a letter was marked as spam.
        state=PUBLIC_STATE[LetterState(letter.state)],
        submitted_at=letter.submitted_at,
        due_at=letter.due_at if letter.accepted_at else None,
        events=await letters.public_events(db, letter_id=letter.id),
        reply=reply.body if reply else None,
        replied_at=reply.released_at if reply else None,
        rating_token=rating_token(settings.secret_key, letter.tracking_no, reply.id)
        if rating_open and reply
        else "",
        files=await writer_files(db, letter_id=letter.id),
    )


async def writer_files(db: Database, *, letter_id: int) -> list[AttachmentRow]:
    """What the writer may download: what they sent, and documents of released replies
    (a draft's documents stay inside the office)."""
    released = {reply.id for reply in await replies.released(db, letter_id=letter_id)}
    return [
        row
        for row in await attachments.of_letter(db, letter_id=letter_id)
        if row.reply_id is None or row.reply_id in released
    ]

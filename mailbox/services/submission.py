"""Submitting a letter: the letter, its first event and its receipt mail in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mailbox.clock import Clock
from mailbox.db.database import Database
from mailbox.db.queries import attachments, letters, outbox
from mailbox.db.queries.channels import ChannelRow
from mailbox.domain.codes import hash_query_code, new_query_code, new_tracking_no
from mailbox.domain.states import LetterState, Source
from mailbox.domain.validation import LetterInput
from mailbox.services.limits import address_bucket, count_hit
from mailbox.settings import Settings
from mailbox.webhooks import events as webhook_events

TRACKING_NO_TRIES = 8


@dataclass(frozen=True)
class Receipt:
    letter_id: int
    tracking_no: str
    query_code: str
    outbox_id: int | None


async def submit_letter(
    db: Database,
    *,
    settings: Settings,
    clock: Clock,
    channel: ChannelRow,
    letter: LetterInput,
    source: Source,
    locale: str,
    client_ip: str,
    challenge: str,
    files: Sequence[attachments.NewAttachment] = (),
) -> Receipt:
    """Store the letter; it is acknowledged only once this returns (after the commit).
    `files` are already on disk; their rows commit with the letter or not at all."""
    now = clock.now()
    query_code = new_query_code()
    for _attempt in range(TRACKING_NO_TRIES):
        tracking_no = new_tracking_no(now.astimezone(settings.tz).date())
        async with db.transaction() as conn:
            if source is Source.WEB:
                await count_hit(
                    conn,
                    bucket=f"submit:{address_bucket(client_ip)}",
                    limit=settings.submit_limit,
                    now=now,
                )
            letter_id = await letters.insert_letter(
                conn,
                letter=letters.NewLetter(
                    tracking_no=tracking_no,
                    query_code_hash=hash_query_code(settings.secret_key, query_code),
                    channel=channel.code,
                    state=LetterState.PENDING,
                    source=source,
                    title=letter.title,
                    body=letter.body,
                    writer_name=letter.name,
                    writer_phone=letter.phone,
                    writer_email=letter.email,
                    writer_address=letter.address,
                    publish_consent=letter.publish_consent,
                    locale=locale,
                    challenge=challenge,
                    client_ip=client_ip,
                    submitted_at=now,
                ),
            )
            if letter_id is None:
                continue  # tracking number taken: draw again
            await letters.insert_event(
                conn,
                letter_id=letter_id,
                kind="submitted",
                from_state=None,
                to_state=LetterState.PENDING,
                created_at=now,
                data={"source": str(source), "channel": channel.code}
                | ({"attachments": len(files)} if files else {}),
            )
            await attachments.insert(conn, letter_id=letter_id, files=files, now=now)
            await webhook_events.submitted(
                conn, letter_id=letter_id, tracking_no=tracking_no, channel=channel.code, now=now
            )
            outbox_id = None
            if letter.email:
                outbox_id = await outbox.enqueue(
                    conn,
                    kind="receipt",
                    recipient=letter.email,
                    locale=locale,
                    context={
                        "name": letter.name,
                        "title": letter.title,
                        "channel_name": channel.display_name(locale),
                        "tracking_no": tracking_no,
                        "query_code": query_code,
                    },
                    now=now,
                    letter_id=letter_id,
                )
        return Receipt(letter_id, tracking_no, query_code, outbox_id)
    raise RuntimeError("no free tracking number after several tries")

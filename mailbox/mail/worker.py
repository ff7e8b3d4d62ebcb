"""The outbox worker: claims due mail, sends it, retries with exponential backoff."""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import datetime, timedelta
from typing import Protocol

from mailbox.clock import Clock
from mailbox.db.database import Database, DatabaseUnavailable
from mailbox.db.queries import outbox
from mailbox.db.queries.outbox import OutgoingMail

log = logging.getLogger(__name__)

BATCH = 20
# Renewed just before each send, and longer than one send can take (aiosmtplib gives up
# after 30 s per step): a worker that died mid-batch frees its claims after this.
CLAIM_FOR = timedelta(minutes=15)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
MAX_ATTEMPTS = 40  # about a day and a half of retrying before giving up visibly


class Transport(Protocol):
    async def send(self, mail: OutgoingMail) -> None: ...


def retry_at(attempts: int, now: datetime) -> datetime | None:
    """When to try again after `attempts` failures; None once we give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + min(FIRST_RETRY * (1 << max(attempts - 1, 0)), LONGEST_WAIT)


async def deliver_due(db: Database, transport: Transport, clock: Clock, batch: int = BATCH) -> int:
    """Send what is due now; the number sent. Each mail's claim is renewed just before it is
    sent, so a slow batch cannot let a second worker send the same mail."""
    token = secrets.token_hex(8)
    now = clock.now()
    async with db.transaction() as conn:
        claimed = await outbox.claim_due(
            conn, now=now, until=now + CLAIM_FOR, limit=batch, token=token
        )
    sent = 0
    for mail in claimed:
        async with db.transaction() as conn:
            still_ours = await outbox.start_attempt(
                conn,
                outbox_id=mail.id,
                token=token,
                now=clock.now(),
                until=clock.now() + CLAIM_FOR,
            )
        if not still_ours:
            continue
        attempts = mail.attempts + 1
        try:
            await transport.send(mail)
        except Exception as error:  # any SMTP or network failure: keep it, retry later
            log.warning("mail %s failed (attempt %s): %s", mail.id, attempts, error)
            async with db.transaction() as conn:
                await outbox.mark_failed(
                    conn,
                    outbox_id=mail.id,
                    token=token,
                    error=f"{type(error).__name__}: {error}",
                    retry_at=retry_at(attempts, clock.now()),
                    now=clock.now(),
                )
        else:
            async with db.transaction() as conn:
                await outbox.mark_sent(conn, outbox_id=mail.id, token=token, now=clock.now())
            sent += 1
    return sent


async def run_worker(
    db: Database, transport: Transport, clock: Clock, wakeup: asyncio.Event, poll: float = 5.0
) -> None:
    """Deliver until cancelled; woken at once when a request queues mail."""
    while True:
        try:
            while await deliver_due(db, transport, clock) == BATCH:
                pass
        except DatabaseUnavailable as error:
            log.warning("outbox worker: database unavailable: %s", error)
        except Exception:
            log.exception("outbox worker failed; retrying")
        try:
            await asyncio.wait_for(wakeup.wait(), timeout=poll)
        except TimeoutError:
            pass
        wakeup.clear()

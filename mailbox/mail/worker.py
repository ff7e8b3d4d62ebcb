"""The outbox worker: claims what is due, per medium (mail, webhooks), sends it through that
medium's transport, and retries with exponential backoff."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Protocol

from mailbox.clock import Clock
from mailbox.db.database import Database, DatabaseUnavailable
from mailbox.db.queries import outbox
from mailbox.db.queries.outbox import Medium, Outgoing

log = logging.getLogger(__name__)

BATCH = 20
# Renewed just before each send, and longer than one send can take (aiosmtplib gives up
# after 30 s per step): a worker that died mid-batch frees its claims after this.
CLAIM_FOR = timedelta(minutes=15)
# A batch is held only briefly: after a crash, the rows a dead worker had claimed but not
# started are free again within a minute (each send renews its own claim to CLAIM_FOR; a row
# whose brief claim ran out before its turn is skipped, never sent twice).
CLAIM_BATCH_FOR = timedelta(minutes=1)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
MAX_ATTEMPTS = 40  # about a day and a half of retrying before giving up visibly


class Transport(Protocol):
    async def send(self, item: Outgoing) -> None: ...


class Refused(Exception):
    """The other end answered, but did not take it (e.g. HTTP 503); the message says how."""


def retry_at(attempts: int, now: datetime) -> datetime | None:
    """When to try again after `attempts` failures; None once we give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + min(FIRST_RETRY * (1 << max(attempts - 1, 0)), LONGEST_WAIT)


def _describe(error: Exception) -> str:
    return str(error) if isinstance(error, Refused) else f"{type(error).__name__}: {error}"


async def deliver_due(
    db: Database,
    transport: Transport,
    clock: Clock,
    batch: int = BATCH,
    *,
    medium: Medium = Medium.MAIL,
) -> int:
    """Send what of `medium` is due now; the number sent. Each item's claim is renewed just
    before it is sent, so a slow batch cannot let a second worker send the same item."""
    token = secrets.token_hex(8)
    now = clock.now()
    async with db.transaction() as conn:
        claimed = await outbox.claim_due(
            conn, now=now, until=now + CLAIM_BATCH_FOR, limit=batch, token=token, medium=medium
        )
    sent = 0
    for item in claimed:
        async with db.transaction() as conn:
            still_ours = await outbox.start_attempt(
                conn,
                outbox_id=item.id,
                token=token,
                now=clock.now(),
                until=clock.now() + CLAIM_FOR,
            )
        if not still_ours:
            continue
        attempts = item.attempts + 1
        try:
            await transport.send(item)
        except Exception as error:  # any SMTP, HTTP or network failure: keep it, retry later
            log.warning("%s %s failed (attempt %s): %s", medium, item.id, attempts, error)
            async with db.transaction() as conn:
                await outbox.mark_failed(
                    conn,
                    outbox_id=item.id,
                    token=token,
                    error=_describe(error),
                    retry_at=retry_at(attempts, clock.now()),
                    now=clock.now(),
                )
        else:
            async with db.transaction() as conn:
                await outbox.mark_sent(conn, outbox_id=item.id, token=token, now=clock.now())
            sent += 1
    return sent


async def run_worker(
    db: Database,
    transports: Mapping[Medium, Transport],
    clock: Clock,
    wakeup: asyncio.Event,
    poll: float = 5.0,
) -> None:
    """Deliver every medium until cancelled; woken at once when a request queues something.
    Each medium runs on its own, so a slow webhook receiver never holds up the mail."""
    woken = {medium: asyncio.Event() for medium in transports}

    async def relay() -> None:
        # One wake-up for all: each medium clears only its own, so none misses one.
        while True:
            await wakeup.wait()
            wakeup.clear()
            for event in woken.values():
                event.set()

    async def drain(medium: Medium, transport: Transport) -> None:
        while True:
            try:
                while await deliver_due(db, transport, clock, medium=medium) == BATCH:
                    pass
            except DatabaseUnavailable as error:
                log.warning("outbox worker (%s): database unavailable: %s", medium, error)
            except Exception:
                log.exception("outbox worker (%s) failed; retrying", medium)
            try:
                await asyncio.wait_for(woken[medium].wait(), timeout=poll)
            except TimeoutError:
                pass
            woken[medium].clear()

    await asyncio.gather(relay(), *(drain(medium, sender) for medium, sender in transports.items()))

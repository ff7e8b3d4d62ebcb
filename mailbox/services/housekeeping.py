"""Periodic tidying: old rate-limit windows, dead sessions, orphaned attachment files."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from mailbox.attachments.store import AttachmentStore
from mailbox.clock import Clock
from mailbox.db.database import Database, DatabaseUnavailable
from mailbox.db.queries import outbox, ratelimits, sessions
from mailbox.services.accounts import SESSION_IDLE
from mailbox.services.attachments import sweep_orphans

log = logging.getLogger(__name__)
KEEP_COUNTERS = timedelta(days=2)  # longer than the longest window
KEEP_GIVEN_UP_MAIL = timedelta(days=30)  # time to mend SMTP and send again from the admin page


async def tidy(db: Database, clock: Clock) -> tuple[int, int]:
    """Delete expired counters and sessions; how many of each."""
    now = clock.now()
    async with db.transaction() as conn:
        counters = await ratelimits.prune(conn, before=now - KEEP_COUNTERS)
        dead = await sessions.delete_expired(conn, idle_before=now - SESSION_IDLE, now=now)
        await conn.execute("DELETE FROM spent_challenges WHERE expires_at < :now", {"now": now})
        await outbox.forget_given_up(conn, before=now - KEEP_GIVEN_UP_MAIL)
    return counters, dead


async def run_housekeeping(
    db: Database, clock: Clock, every: float = 3600.0, store: AttachmentStore | None = None
) -> None:
    while True:
        try:
            await tidy(db, clock)
            if store is not None:
                await sweep_orphans(db, store)
        except DatabaseUnavailable as error:
            log.warning("housekeeping: database unavailable: %s", error)
        except OSError as error:  # the data folder, e.g. a network share gone for a while
            log.warning("housekeeping: attachments not swept: %s", error)
        await asyncio.sleep(every)

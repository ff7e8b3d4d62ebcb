"""The demo's public archive: about half of the consented, answered letters published a
working day or so after their reply, one edited first and one withdrawn again."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from mailbox.clock import FixedClock
from mailbox.db.database import Database
from mailbox.db.queries.letters import get_letter_by_tracking_no
from mailbox.services import publication
from mailbox.services.transitions import Actor


async def publish_some(db: Database, dispatcher: Actor, now: datetime, seed: int) -> int:
    rows = await db.fetch_all(
        "SELECT tracking_no, first_replied_at FROM letters WHERE publish_consent = :yes"
        " AND state IN ('replied', 'closed') ORDER BY first_replied_at, id",
        {"yes": True},
    )
    rng = random.Random(seed * 7919)
    chosen = [row for row in rows if rng.random() < 0.5]
    for index, row in enumerate(chosen):
        moment = min(row["first_replied_at"] + timedelta(days=1, hours=2), now)
        clock = FixedClock(moment)
        number = row["tracking_no"]
        if index == 0:  # the dispatcher shortens the first one's public copy
            letter = await get_letter_by_tracking_no(db, tracking_no=number)
            draft = await publication.draft_for(db, letter) if letter else None
            if draft is not None:
                await publication.save_copy(
                    db,
                    clock=clock,
                    actor=dispatcher,
                    tracking_no=number,
                    title=draft.title,
                    body=draft.body[:60],
                    reply=draft.reply,
                )
        await publication.publish(db, clock=clock, actor=dispatcher, tracking_no=number)
        if index == 1:  # and withdraws the second one after a complaint
            await publication.unpublish(
                db, clock=clock, actor=dispatcher, tracking_no=number, note="来信人要求撤下"
            )
    return len(chosen)

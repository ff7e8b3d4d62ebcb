"""The demo's public archive: about half of the consented, answered letters published a
working day or so after their reply, one edited first and one withdrawn again; the first
comes with a photo, published and then withdrawn (a number plate was visible)."""

from __future__ import annotations

import io
import random
from datetime import datetime, timedelta

from PIL import Image

from mailbox.attachments.inspect import check
from mailbox.attachments.store import AttachmentStore
from mailbox.clock import FixedClock
from mailbox.db.database import Database
from mailbox.db.queries import attachments
from mailbox.db.queries.letters import get_letter_by_tracking_no
from mailbox.services import publication
from mailbox.services.attachments import store_files
from mailbox.services.transitions import Actor


async def _photo(db: Database, store: AttachmentStore, number: str, clock: FixedClock) -> int:
    """A writer's photo of the site, stored as an upload would be."""
    image = Image.new("RGB", (640, 480), (96, 128, 160))
    image.paste((70, 70, 70), (0, 320, 640, 480))  # a road under a grey sky
    out = io.BytesIO()
    image.save(out, "JPEG")
    checked = check("现场照片.jpg", out.getvalue(), len(out.getvalue()))
    (stored,) = await store_files(store, [checked])
    letter = await get_letter_by_tracking_no(db, tracking_no=number)
    assert letter is not None
    async with db.transaction() as conn:
        await attachments.insert(conn, letter_id=letter.id, files=[stored], now=clock.now())
        (row,) = await attachments.of_letter(conn, letter_id=letter.id)
    return row.id


async def publish_some(
    db: Database, dispatcher: Actor, now: datetime, seed: int, store: AttachmentStore
) -> int:
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
        if index == 0:
            photo = await _photo(db, store, number, clock)
            for publish in (True, False):
                await publication.publish_file(
                    db,
                    clock=clock,
                    actor=dispatcher,
                    tracking_no=number,
                    attachment_id=photo,
                    publish=publish,
                    checked=True,
                )
        if index == 1:  # and withdraws the second one after a complaint
            await publication.unpublish(
                db, clock=clock, actor=dispatcher, tracking_no=number, note="来信人要求撤下"
            )
    return len(chosen)

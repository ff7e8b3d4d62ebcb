"""Filling an empty database: the office, the letters' stories in time order, the outbox."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from mailbox.clock import FixedClock
from mailbox.db.database import Database
from mailbox.db.queries.channels import list_channels
from mailbox.demo.office import OfficeHours
from mailbox.demo.plan import plan_letters
from mailbox.demo.publishing import publish_some
from mailbox.demo.scheduler import Scheduler
from mailbox.demo.staff import Account, new_password, set_up_office
from mailbox.demo.stories import Demo, LetterStory, next_daily_job, rating_windows
from mailbox.services.attachments import store_for
from mailbox.services.calendar import office_calendar
from mailbox.settings import Settings


class DemoRefused(Exception):
    """The database is not empty; the message says what it holds."""


@dataclass(frozen=True)
class DemoResult:
    accounts: list[Account]
    password: str
    departments: int
    letters: int
    first_day: date
    last_day: date
    states: dict[str, int]
    mails: int
    seconds: float


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


async def check_empty(db: Database) -> None:
    letters: int = await db.fetch_value("SELECT COUNT(*) FROM letters")
    staff: int = await db.fetch_value("SELECT COUNT(*) FROM users")
    if letters or staff:
        held = " and ".join(
            _count(number, noun)
            for number, noun in ((letters, "letter"), (staff, "staff account"))
            if number
        )
        raise DemoRefused(
            f"the database is not empty: it holds {held}. The demo only fills an empty"
            " database; point MAILBOX_DATABASE_URL at a new one."
        )


async def fill(
    db: Database, *, settings: Settings, now: datetime, seed: int = 1, letters_a_year: int = 600
) -> DemoResult:
    """Departments, staff, and letters from 1 January of last year until `now`."""
    started = time.perf_counter()
    await check_empty(db)
    tz = settings.tz
    first_day = date(now.astimezone(tz).year - 1, 1, 1)
    clock = FixedClock(datetime.combine(first_day - timedelta(days=1), datetime.min.time(), tz))
    password = new_password()
    staff = await set_up_office(db, clock=clock, password=password)
    hours = OfficeHours(await office_calendar(db), tz)
    plans = plan_letters(
        seed=seed, letters_a_year=letters_a_year, start=first_day, end=now, hours=hours
    )
    scheduler = Scheduler(now, closes=partial(next_daily_job, tz=tz))
    channels = {row.code: row for row in await list_channels(db)}
    demo = Demo(db, settings, scheduler, hours, staff, channels, seed)
    for plan in plans:
        scheduler.spawn(LetterStory(demo, plan).run())
    scheduler.spawn(rating_windows(demo, first_day))
    await scheduler.run()
    await publish_some(db, staff.dispatcher, now, seed, store_for(settings))
    mails = await _mark_mail_sent(db)
    rows = await db.fetch_all("SELECT state, COUNT(*) AS n FROM letters GROUP BY state")
    states = {row["state"]: row["n"] for row in rows}
    return DemoResult(
        accounts=staff.accounts,
        password=password,
        departments=len(staff.department_ids),
        letters=sum(states.values()),
        first_day=first_day,
        last_day=now.astimezone(tz).date(),
        states=states,
        mails=mails,
        seconds=time.perf_counter() - started,
    )


async def _mark_mail_sent(db: Database) -> int:
    # The services queued thousands of mails to the demo's fictional writers and staff
    # (example.com): marked as sent when queued, in one statement, their context emptied as
    # the worker does, so that no worker ever tries to send them. The database held no letter
    # before, so every mail about a letter is the demo's.
    async with db.transaction() as conn:
        return await conn.execute(
            "UPDATE outbox SET sent_at = created_at, context = '{}'"
            " WHERE letter_id IS NOT NULL AND sent_at IS NULL AND failed_at IS NULL"
        )

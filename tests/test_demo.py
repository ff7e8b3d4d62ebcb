"""`python -m mailbox demo`: an empty database filled through the real services."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mailbox.clock import FixedClock
from mailbox.db.database import Database, open_database
from mailbox.demo.fill import DemoRefused, DemoResult, fill
from mailbox.demo.office import OfficeHours
from mailbox.demo.plan import plan_letters
from mailbox.demo.scheduler import Scheduler
from mailbox.domain.calendar import WorkingCalendar
from mailbox.domain.states import LetterState
from mailbox.domain.workflow import Action
from mailbox.figures.period import Period
from mailbox.services import accounts
from mailbox.services.reports import make_report
from mailbox.settings import Settings
from tests.live import run_cli, server_environment

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 16, 0, tzinfo=TZ)  # a Friday afternoon
TABLES = ("letters", "letter_events", "users", "departments", "outbox", "replies", "ratings")


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    """The test's database without an app: nothing else writes to it meanwhile."""
    db = open_database(settings.database_url)
    await db.connect()
    yield db
    await db.close()


async def small_demo(db: Database, settings: Settings) -> DemoResult:
    return await fill(db, settings=settings, now=NOW, seed=7, letters_a_year=120)


async def values(db: Database, sql: str) -> set[str]:
    return {next(iter(row.values())) for row in await db.fetch_all(sql)}


async def counts(db: Database) -> dict[str, int]:
    return {table: await db.fetch_value(f"SELECT COUNT(*) FROM {table}") for table in TABLES}


async def test_the_demo_takes_every_path(database: Database, settings: Settings) -> None:
    result = await small_demo(database, settings)

    assert await values(database, "SELECT state FROM letters") == set(LetterState)
    assert result.states == {
        row["state"]: row["n"]
        for row in await database.fetch_all(
            "SELECT state, COUNT(*) AS n FROM letters GROUP BY state"
        )
    }
    kinds = await values(database, "SELECT kind FROM letter_events")
    assert kinds == {action.value for action in Action} | {"submitted"}
    ratings = await values(database, "SELECT rating FROM ratings")
    assert ratings == {"satisfied", "basically_satisfied", "unsatisfied"}
    rejections = await values(database, "SELECT data FROM letter_events WHERE kind = 'reject'")
    assert len({json.loads(data)["reason"] for data in rejections}) >= 4
    assert await database.fetch_value("SELECT COUNT(*) FROM letters WHERE needs_follow_up") >= 1
    assert await database.fetch_value("SELECT COUNT(*) FROM letters WHERE publish_consent") > 0
    assert await values(database, "SELECT source FROM letters") == {"web", "post", "phone", "visit"}
    # Letters stand for a year and more: last year's and this year's, up to today.
    submitted = await database.fetch_all("SELECT submitted_at FROM letters")
    assert {row["submitted_at"].astimezone(TZ).year for row in submitted} == {2025, 2026}

    report = (await make_report(database, Period.of_year(2025, as_of=NOW, tz=TZ))).report.total
    for figure in ("received", "accepted", "replied", "rejected", "on_time", "rated"):
        assert getattr(report, figure) > 0, figure
    assert report.on_time < report.replied  # some replies came late

    # Fictional people only, and no mail left for a worker to send to them.
    assert all(
        re.fullmatch(r"1380000\d{4}", phone)
        for phone in await values(database, "SELECT writer_phone FROM letters")
    )
    emails = await values(database, "SELECT writer_email FROM letters") | await values(
        database, "SELECT recipient FROM outbox"
    )
    assert all(email == "" or email.endswith("@example.com") for email in emails)
    assert await database.fetch_value("SELECT COUNT(*) FROM outbox") == result.mails > 0
    assert await database.fetch_value("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL") == 0


async def test_a_second_run_refuses_and_the_staff_log_in(
    database: Database, settings: Settings
) -> None:
    result = await small_demo(database, settings)
    before = await counts(database)

    with pytest.raises(DemoRefused, match=rf"{before['letters']} letters and 19 staff accounts"):
        await small_demo(database, settings)
    assert await counts(database) == before

    clock = FixedClock(NOW)
    names = {account.username for account in result.accounts}
    assert {"admin", "dispatcher", "reporter", "radio-handler", "sme-reviewer"} <= names
    for username, role in (
        ("admin", "admin"),
        ("reporter", "reporter"),
        ("radio-handler", "handler"),
    ):
        session = await accounts.log_in(
            database,
            settings=settings,
            clock=clock,
            username=username,
            password=result.password,
            client_ip="203.0.113.9",
            user_agent="test",
        )
        assert session.user.roles == {role}
    with pytest.raises(accounts.LoginFailed):
        await accounts.log_in(
            database,
            settings=settings,
            clock=clock,
            username="dispatcher",
            password=result.password + "x",
            client_ip="203.0.113.9",
            user_agent="test",
        )


async def test_a_database_with_staff_is_left_alone(database: Database, settings: Settings) -> None:
    await accounts.create_user(
        database, clock=FixedClock(NOW), username="li", password="a long password", roles=["admin"]
    )
    before = await counts(database)
    with pytest.raises(DemoRefused, match="1 staff account\\b"):
        await small_demo(database, settings)
    assert await counts(database) == before


async def test_the_scheduler_tells_stories_in_time_order() -> None:
    told: list[tuple[str, datetime]] = []

    async def story(scheduler: Scheduler, name: str, hours_before: list[int]) -> None:
        clock = FixedClock(NOW - timedelta(days=1))
        for hours in hours_before:
            await scheduler.at(clock, NOW - timedelta(hours=hours))
            told.append((name, clock.now()))

    scheduler = Scheduler(NOW, closes=lambda moment: moment + timedelta(minutes=1))
    scheduler.spawn(story(scheduler, "a", [5, 3, 1, -1]))  # the last step lies after the end
    scheduler.spawn(story(scheduler, "b", [4, 2]))
    await scheduler.run()
    assert told == [
        (name, NOW - timedelta(hours=hours))
        for name, hours in (("a", 5), ("b", 4), ("a", 3), ("b", 2), ("a", 1))
    ]

    backwards = Scheduler(NOW, closes=lambda moment: moment + timedelta(minutes=1))
    backwards.spawn(story(backwards, "c", [1, 2]))
    with pytest.raises(ValueError, match="back in time"):
        await backwards.run()


def test_the_same_seed_plans_the_same_letters() -> None:
    hours = OfficeHours(WorkingCalendar(), TZ)
    start = date(2025, 1, 1)

    def plan(seed: int) -> list[object]:
        return list(plan_letters(seed=seed, letters_a_year=100, start=start, end=NOW, hours=hours))

    assert plan(3) == plan(3)
    assert plan(3) != plan(4)
    assert 180 <= len(plan(3)) <= 200  # 100 a year, for a year and eleven months


def test_the_command_fills_a_new_database(tmp_path: Path) -> None:
    env = server_environment(f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}", tmp_path)
    env["MAILBOX_BASE_URL"] = "https://mailbox.example.com"

    made = run_cli(env, "demo", "--letters", "60")
    assert made.returncode == 0, made.stderr
    assert "https://mailbox.example.com/staff/login" in made.stdout
    for username in ("admin", "dispatcher", "reporter", "radio-handler", "radio-reviewer"):
        assert re.search(rf"^\s+{username}\s", made.stdout, re.MULTILINE), username
    assert "https://mailbox.example.com/staff/reports" in made.stdout

    again = run_cli(env, "demo", "--letters", "60")
    assert again.returncode == 1
    assert "not empty" in again.stderr and "staff accounts" in again.stderr
    assert run_cli(env, "demo", "--letters", "10").returncode == 2

"""Deadline reminders, escalation, the unanswered-age flags and staff mail, on both databases."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.applications import Starlette

from mailbox.clock import FixedClock
from mailbox.db.database import Database, DatabaseUnavailable
from mailbox.db.queries import letters, users
from mailbox.db.queries.reminders import unanswered_age_flags
from mailbox.domain.calendar import WorkingCalendar
from mailbox.mail.render import SUBJECTS, render_mail
from mailbox.services import handling, intake
from mailbox.services.reminders import (
    ReminderReport,
    assigned_mails,
    escalation_day,
    extension_decided_mails,
    review_requested_mails,
    run_daily,
    run_reminders,
    sent_back_mails,
)
from mailbox.services.transitions import Actor
from mailbox.settings import Settings
from mailbox.templating import create_environment
from tests.conftest import SECRET, START
from tests.services.conftest import new_letter
from tests.services.test_handling import REPLY
from tests.services.test_intake import mails

BEIJING = ZoneInfo("Asia/Shanghai")
HANDLERS = ["h1@example.gov.cn", "h2@example.gov.cn"]
DISPATCHERS = ["d1@example.gov.cn", "d2@example.gov.cn"]


def at(day: int, hour: int = 9, minute: int = 30, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BEIJING)


async def add_staff(
    db: Database,
    username: str,
    roles: list[str],
    department_id: int | None,
    email: str,
    active: bool = True,
) -> Actor:
    async with db.transaction() as conn:
        user_id = await users.create_user(
            conn,
            username=username,
            display_name=username,
            password_hash="x",
            roles=roles,
            department_id=department_id,
            now=datetime(2026, 1, 1, tzinfo=UTC),
        )
        await conn.execute(
            "UPDATE users SET email = :email, is_active = :active WHERE id = :id",
            {"email": email, "active": active, "id": user_id},
        )
    return Actor(user_id=user_id, roles=frozenset(roles), department_id=department_id)


@dataclass(frozen=True)
class Team:
    handler: Actor
    reviewer: Actor
    dispatcher: Actor
    mute_handler: Actor  # in the department, but without an address


@pytest.fixture
async def team(db: Database, departments: dict[str, int]) -> Team:
    radio, policy = departments["radio"], departments["policy"]
    handler = await add_staff(db, "h1", ["handler"], radio, HANDLERS[0])
    await add_staff(db, "h2", ["handler"], radio, HANDLERS[1])
    mute = await add_staff(db, "h3", ["handler"], radio, "")
    await add_staff(db, "gone", ["handler"], radio, "gone@example.gov.cn", active=False)
    await add_staff(db, "other", ["handler"], policy, "policy@example.gov.cn")
    reviewer = await add_staff(db, "r1", ["reviewer"], radio, "r1@example.gov.cn")
    await add_staff(db, "r2", ["reviewer"], policy, "r2@example.gov.cn")
    dispatcher = await add_staff(db, "d1", ["dispatcher"], None, DISPATCHERS[0])
    # A dispatcher who also handles for the department is mailed once.
    await add_staff(db, "d2", ["dispatcher", "handler"], radio, DISPATCHERS[1])
    await add_staff(db, "d3", ["dispatcher"], None, "old@example.gov.cn", active=False)
    return Team(handler=handler, reviewer=reviewer, dispatcher=dispatcher, mute_handler=mute)


async def accepted(app: Starlette, team: Team, department_id: int, **fields: str) -> str:
    number = await new_letter(app, "consult", **fields)
    await intake.accept(
        app.state.db,
        settings=app.state.settings,
        clock=app.state.clock,
        actor=team.dispatcher,
        tracking_no=number,
        department_id=department_id,
    )
    return number


async def run_at(app: Starlette, moment: datetime) -> ReminderReport:
    clock: FixedClock = app.state.clock
    clock.moment = moment
    return await run_reminders(app.state.db, settings=app.state.settings, clock=clock)


def recipients(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(str(row["recipient"]) for row in rows)


async def test_due_soon_then_overdue_every_two_working_days(
    app: Starlette, db: Database, team: Team, departments: dict[str, int]
) -> None:
    # Accepted 2026-09-30 10:00; consult, 5 working days → due at the end of Tue 13 October.
    number = await accepted(app, team, departments["radio"])
    other = await accepted(app, team, departments["policy"])  # due too, another department
    events = await db.fetch_value("SELECT COUNT(*) FROM letter_events")

    assert await run_at(app, at(10)) == ReminderReport()  # 调休 Saturday: 13 Oct is not next
    report = await run_at(app, at(12))  # Monday, the working day before the deadline
    assert report == ReminderReport(letters=2, due_soon=3 + 1, overdue=0)
    due_soon = await mails(db, "due_soon")
    ours = [m for m in due_soon if m["context"]["tracking_no"] == number]
    # Not the inactive handler, not the one without an address, not another department's.
    assert recipients(ours) == sorted([*HANDLERS, DISPATCHERS[1]])
    theirs = [m for m in due_soon if m["context"]["tracking_no"] == other]
    assert recipients(theirs) == ["policy@example.gov.cn"]
    assert ours[0]["locale"] == "zh_CN"
    assert ours[0]["context"]["department"] == "无线电管理处"
    assert ours[0]["context"]["due_at"] == datetime(2026, 10, 13, 16, tzinfo=UTC).isoformat()
    assert await run_at(app, at(12, hour=15)) == ReminderReport(letters=2)  # nothing new
    assert await run_at(app, at(13)) == ReminderReport(letters=2)  # the deadline day itself

    report = await run_at(app, at(14))  # the first working day after the deadline
    assert report == ReminderReport(letters=2, due_soon=0, overdue=4 + 3)
    overdue = await mails(db, "overdue")
    ours = [m for m in overdue if m["context"]["tracking_no"] == number]
    assert recipients(ours) == sorted([*HANDLERS, *DISPATCHERS])  # 督办: the dispatchers too
    theirs = [m for m in overdue if m["context"]["tracking_no"] == other]
    assert recipients(theirs) == sorted(["policy@example.gov.cn", *DISPATCHERS])
    assert {m["context"]["days_overdue"] for m in overdue} == {1}
    assert await run_at(app, at(14, hour=17)) == ReminderReport(letters=2)
    assert await run_at(app, at(15)) == ReminderReport(letters=2)
    assert (await run_at(app, at(16))).overdue == 7  # two working days later
    assert await run_at(app, at(17)) == ReminderReport()  # Saturday: the job does nothing
    assert await run_at(app, at(19)) == ReminderReport(letters=2)
    assert (await run_at(app, at(20))).overdue == 7
    ours = [m for m in await mails(db, "overdue") if m["context"]["tracking_no"] == number]
    assert [m["context"]["days_overdue"] for m in ours[::4]] == [1, 3, 5]
    days = await db.fetch_all(
        "SELECT step_day FROM reminders r JOIN letters l ON l.id = r.letter_id"
        " WHERE l.tracking_no = :t AND r.kind = 'overdue' ORDER BY step_day",
        {"t": number},
    )
    assert [row["step_day"] for row in days] == [date(2026, 10, d) for d in (14, 16, 20)]
    # Reminders are not state changes: the timeline is untouched.
    assert await db.fetch_value("SELECT COUNT(*) FROM letter_events") == events


async def test_every_queued_reminder_renders(
    app: Starlette, db: Database, team: Team, departments: dict[str, int]
) -> None:
    await accepted(app, team, departments["radio"])
    await run_at(app, at(12))
    await run_at(app, at(14))
    env = create_environment()
    for kind in ("due_soon", "overdue"):
        [mail, *_] = await mails(db, kind)
        rendered = render_mail(
            env, app.state.settings, kind=kind, locale="en", context=mail["context"]
        )
        assert str(mail["context"]["tracking_no"]) in rendered.subject
        assert "2026-10-13" in rendered.body_text  # the deadline day, not the midnight after
        assert f"/staff/letters/{mail['context']['tracking_no']}" in rendered.body_html


async def test_answered_letters_get_no_reminders(
    app: Starlette, db: Database, team: Team, departments: dict[str, int]
) -> None:
    clock, settings = app.state.clock, app.state.settings
    answered = await accepted(app, team, departments["radio"])
    in_review = await accepted(app, team, departments["radio"])
    for number in (answered, in_review):
        await handling.save_draft(
            db, clock=clock, actor=team.handler, tracking_no=number, body=REPLY
        )
        await handling.submit_for_review(db, clock=clock, actor=team.handler, tracking_no=number)
    await handling.approve(
        db, settings=settings, clock=clock, actor=team.reviewer, tracking_no=answered
    )
    report = await run_at(app, at(12))
    assert report.letters == 1  # a letter in review is still open
    assert {m["context"]["tracking_no"] for m in await mails(db, "due_soon")} == {in_review}
    await handling.approve(
        db, settings=settings, clock=clock, actor=team.reviewer, tracking_no=in_review
    )
    assert await run_at(app, at(14)) == ReminderReport()
    assert await mails(db, "overdue") == []


async def test_a_granted_extension_moves_the_reminders(
    app: Starlette, db: Database, team: Team, departments: dict[str, int]
) -> None:
    number = await accepted(app, team, departments["radio"])
    assert (await run_at(app, at(12))).due_soon == 3
    request_id = await handling.request_extension(
        db,
        clock=app.state.clock,
        actor=team.handler,
        tracking_no=number,
        working_days=3,
        reason="需要现场检测",
    )
    await handling.decide_extension(  # now due at the end of Fri 16 October
        db,
        settings=app.state.settings,
        clock=app.state.clock,
        actor=team.dispatcher,
        request_id=request_id,
        grant=True,
    )
    assert await run_at(app, at(14)) == ReminderReport(letters=0)  # not overdue any more
    assert (await run_at(app, at(15))).due_soon == 3  # a new deadline, a new reminder
    assert (await run_at(app, at(19))).overdue == 4


async def test_two_runs_at_once_send_once(
    app: Starlette, db: Database, team: Team, departments: dict[str, int]
) -> None:
    await accepted(app, team, departments["radio"])
    clock: FixedClock = app.state.clock
    clock.moment = at(12)
    settings = app.state.settings
    first, second = await asyncio.gather(
        run_reminders(db, settings=settings, clock=clock),
        run_reminders(db, settings=settings, clock=clock),
    )
    assert first.due_soon + second.due_soon == 3
    assert len(await mails(db, "due_soon")) == 3


def test_escalation_days() -> None:
    calendar = WorkingCalendar()
    deadline = date(2026, 10, 13)
    assert escalation_day(calendar, deadline, date(2026, 10, 13)) is None
    assert escalation_day(calendar, deadline, date(2026, 10, 14)) == date(2026, 10, 14)
    assert escalation_day(calendar, deadline, date(2026, 10, 15)) == date(2026, 10, 14)
    assert escalation_day(calendar, deadline, date(2026, 10, 19)) == date(2026, 10, 16)
    # Across 国庆: due 30 September, first step 8 October, then the 调休 Saturday 10 October.
    assert escalation_day(calendar, date(2026, 9, 30), date(2026, 10, 9)) == date(2026, 10, 8)
    assert escalation_day(calendar, date(2026, 9, 30), date(2026, 10, 10)) == date(2026, 10, 10)


async def test_unanswered_age_flags(
    app: Starlette, db: Database, team: Team, departments: dict[str, int]
) -> None:
    clock: FixedClock = app.state.clock
    submitted: dict[str, str] = {}
    for label, moment in {
        "july": at(1, month=7),
        "august": at(15, month=8),
        "edge": START - timedelta(days=30),
        "just_over": START - timedelta(days=30, seconds=1),
        "recent": at(20, month=9),
        "rejected": at(2, month=7),
        "assigned": at(20, month=7),
    }.items():
        clock.moment = moment
        submitted[label] = await new_letter(app, "consult")
    await intake.reject(
        db,
        clock=clock,
        actor=team.dispatcher,
        tracking_no=submitted["rejected"],
        reason_code="unclear",
    )
    await intake.accept(
        db,
        settings=app.state.settings,
        clock=clock,
        actor=team.dispatcher,
        tracking_no=submitted["assigned"],
        department_id=departments["radio"],
    )
    flags = await unanswered_age_flags(db, now=START)
    assert (flags.over_30, flags.over_60) == (4, 2)
    assert [letter.tracking_no for letter in flags.oldest] == [
        submitted[label] for label in ("july", "assigned", "august", "just_over")
    ]
    assert [letter.over_60 for letter in flags.oldest] == [True, True, False, False]
    assert flags.oldest[1].state == "assigned"
    nothing = await unanswered_age_flags(db, now=at(1, month=7))
    assert (nothing.over_30, nothing.over_60, nothing.oldest) == (0, 0, ())


async def test_staff_mail_for_assignment_review_send_back_and_extensions(
    app: Starlette, db: Database, team: Team, departments: dict[str, int]
) -> None:
    clock = app.state.clock
    number = await accepted(app, team, departments["radio"])
    await handling.save_draft(db, clock=clock, actor=team.handler, tracking_no=number, body=REPLY)
    due = datetime(2026, 10, 13, 16, tzinfo=UTC)
    async with db.transaction() as conn:
        letter = await letters.get_letter_by_tracking_no(conn, tracking_no=number)
        assert letter is not None
        assigned = await assigned_mails(
            conn,
            letter=letter,
            department_id=departments["radio"],
            due_at=due,
        )
        review = await review_requested_mails(conn, letter=letter)
        back = await sent_back_mails(conn, letter=letter, comment="请补充检测机构名称")
        granted = await extension_decided_mails(
            conn,
            letter=letter,
            requested_by_id=team.handler.user_id or 0,
            granted=True,
            due_at=due + timedelta(days=3),
            note="",
        )
        refused = await extension_decided_mails(
            conn,
            letter=letter,
            requested_by_id=team.mute_handler.user_id or 0,  # no address: the department
            granted=False,
            due_at=None,
            note="请按期办结",
        )
    assert sorted(m.recipient for m in assigned) == sorted([*HANDLERS, DISPATCHERS[1]])
    assert assigned[0].context["department"] == "无线电管理处"
    assert [m.recipient for m in review] == ["r1@example.gov.cn"]
    assert [m.recipient for m in back] == [HANDLERS[0]]  # the draft's author
    assert back[0].context["comment"] == "请补充检测机构名称"
    assert [m.recipient for m in granted] == [HANDLERS[0]]
    assert granted[0].context["due_at"] == (due + timedelta(days=3)).isoformat()
    assert sorted(m.recipient for m in refused) == sorted([*HANDLERS, DISPATCHERS[1]])
    assert refused[0].context["due_at"] == due.isoformat()  # the deadline that stands
    env = create_environment()
    for mail in [*assigned, *review, *back, *granted, *refused]:
        assert mail.locale == "zh_CN"
        for locale in ("zh_CN", "en"):
            render_mail(
                env, app.state.settings, kind=mail.kind, locale=locale, context=mail.context
            )


STAFF_CONTEXTS: dict[str, dict[str, Any]] = {
    "due_soon": {"department": "无线电管理处"},
    "overdue": {"department": "无线电管理处", "days_overdue": 3},
    "assigned": {"department": "无线电管理处"},
    "review_requested": {},
    "sent_back": {"comment": "请补充检测机构名称。\n第二行 <b>"},
    "extension_decided": {"granted": False, "note": "请按期办结"},
}


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
@pytest.mark.parametrize("kind", sorted(STAFF_CONTEXTS))
def test_staff_mail_renders(kind: str, locale: str) -> None:
    settings = Settings(secret_key=SECRET, org_name="测试厅", base_url="https://xx.example.gov.cn")
    context = {
        "tracking_no": "X20261012000001",
        "title": "关于 <基站> 辐射",
        "due_at": datetime(2026, 10, 13, 16, tzinfo=UTC).isoformat(),
        **STAFF_CONTEXTS[kind],
    }
    assert kind in SUBJECTS
    mail = render_mail(create_environment(), settings, kind=kind, locale=locale, context=context)
    assert "X20261012000001" in mail.subject
    link = "https://xx.example.gov.cn/staff/letters/X20261012000001"
    assert link in mail.body_text and f'href="{link}"' in mail.body_html
    assert "关于 <基站> 辐射" in mail.body_text
    assert "关于 &lt;基站&gt; 辐射" in mail.body_html and "<基站>" not in mail.body_html
    assert ("2026-10-13" if locale == "en" else "2026年10月13日") in mail.body_text


async def test_run_daily_waits_for_the_hour(
    app: Starlette, db: Database, team: Team, departments: dict[str, int]
) -> None:
    await accepted(app, team, departments["radio"])
    clock: FixedClock = app.state.clock
    clock.moment = at(12, hour=8, minute=59)
    wakeup = asyncio.Event()
    task = asyncio.create_task(
        run_daily(db, settings=app.state.settings, clock=clock, poll=0.01, wakeup=wakeup)
    )
    try:
        await asyncio.sleep(0.1)
        assert await mails(db, "due_soon") == [] and not wakeup.is_set()
        clock.moment = at(12, hour=9, minute=0)
        await asyncio.wait_for(wakeup.wait(), timeout=5)
        await asyncio.sleep(0.1)  # further polls send nothing new
        assert len(await mails(db, "due_soon")) == 3
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


class DownDatabase:
    dialect = "sqlite"

    def __init__(self) -> None:
        self.calls = 0

    async def fetch_all(self, sql: str, params: object = None) -> list[object]:
        self.calls += 1
        raise DatabaseUnavailable("database is locked")


async def test_run_daily_survives_an_unavailable_database(
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = DownDatabase()
    settings = Settings(secret_key=SECRET)
    clock = FixedClock(at(12))
    caplog.set_level(logging.WARNING, logger="mailbox.services.reminders")
    task = asyncio.create_task(
        run_daily(down, settings=settings, clock=clock, poll=0.01)  # type: ignore[arg-type]
    )
    try:
        for _ in range(500):
            if down.calls >= 3:
                break
            await asyncio.sleep(0.01)
        assert down.calls >= 3 and not task.done()
        assert "database unavailable" in caplog.text
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

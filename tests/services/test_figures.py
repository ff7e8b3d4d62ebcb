"""The figures of DESIGN §5, hand-computed, on both databases: letters made by the import
(dates as given) and by the real workflow (reopening, extensions, merging)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from starlette.applications import Starlette

from mailbox.clock import FixedClock
from mailbox.db.database import Database
from mailbox.figures.counts import percent
from mailbox.figures.period import Period, end_of_day
from mailbox.services import handling, intake
from mailbox.services.handling import Rating
from mailbox.services.importing import import_letters
from mailbox.services.reports import make_report
from mailbox.services.transitions import Actor
from tests.services.conftest import add_department, new_letter
from tests.services.test_handling import replied

BEIJING = ZoneInfo("Asia/Shanghai")
SEED = Path(__file__).parent.parent / "data" / "seed-2018.csv"
SEED_SENTENCE = (
    "全年收到厅长信箱46件、网上咨询24件、在线投诉6件、意见建议1件,全年共受理信件77封,回复率100%。"
)
HEADER = "channel,title,body,submitted_at,status,department,accepted_at,due_at,replied_at,rating"


async def load(app: Starlette, text: str) -> None:
    data = text.strip().encode()
    await import_letters(app.state.db, settings=app.state.settings, data=data, jsonl=False)


async def year(db: Database, number: int, as_of: datetime) -> dict[str, object]:
    period = Period.of_year(number, as_of=as_of, tz=BEIJING)
    return (await make_report(db, period)).as_json()


async def seed_departments(db: Database) -> None:
    for code, name in [
        ("office", "办公室"),
        ("radio", "无线电管理处"),
        ("electronics", "电子信息处"),
        ("planning", "规划投资处"),
        ("policy", "产业政策处"),
        ("sme", "中小企业处"),
    ]:
        await add_department(db, code, name)


async def test_the_seed_year_gives_the_annual_reports_sentence(
    app: Starlette, db: Database
) -> None:
    await seed_departments(db)
    await load(app, SEED.read_text(encoding="utf-8-sig"))
    report = await year(db, 2018, datetime(2019, 3, 1, tzinfo=UTC))
    assert report["summary"] == SEED_SENTENCE
    total = report["total"]
    assert isinstance(total, dict)
    assert (total["received"], total["accepted"], total["replied"]) == (77, 77, 77)
    assert total["reply_rate"] == 1.0 and total["awaiting_intake"] == 0
    assert [(c["code"], c["received"]) for c in report["channels"]] == [  # type: ignore[attr-defined]
        ("director", 46),
        ("consult", 24),
        ("complaint", 6),
        ("suggestion", 1),
    ]
    form = report["website_yearly_form"]
    assert isinstance(form, dict)
    assert form["收到留言数量"] == 77 and form["办结留言数量"] == 77
    assert form["公开答复数量"] == 15  # every fifth row of the file is published
    months = report["months"]
    assert isinstance(months, list) and len(months) == 12
    assert sum(month["received"] for month in months) == 77
    departments = report["departments"]
    assert isinstance(departments, list)
    assert sum(line["replied"] for line in departments) == 77


async def test_a_letter_of_31_december_replied_in_january(app: Starlette, db: Database) -> None:
    await add_department(db, "radio", "无线电管理处")
    await load(
        app,
        f"""{HEADER}
consult,年底的咨询,十二月三十一日晚上提交的咨询。,2025-12-31 23:30,closed,radio,2026-01-04 09:00,,2026-01-06 10:00,
""",
    )
    before = await year(db, 2025, end_of_day(datetime(2026, 1, 3).date(), BEIJING))
    total = before["total"]
    assert isinstance(total, dict)
    assert (total["received"], total["accepted"], total["replied"]) == (1, 0, 0)
    assert total["awaiting_intake"] == 1 and total["reply_rate"] is None
    after = (await year(db, 2025, datetime(2026, 2, 1, tzinfo=UTC)))["total"]
    assert isinstance(after, dict)
    assert (after["received"], after["accepted"], after["replied"]) == (1, 1, 1)
    # Submitted 31 Dec 23:30, replied 6 Jan 10:00: 5.44 calendar days. Working days after 31
    # Dec up to 6 Jan: 元旦 is 1–3 Jan 2026, Sunday 4 Jan is a make-up working day → 4, 5, 6.
    assert after["avg_days"] == 5.4
    assert after["avg_working_days"] == 3.0
    nothing = (await year(db, 2026, datetime(2026, 2, 1, tzinfo=UTC)))["total"]
    assert isinstance(nothing, dict) and nothing["received"] == 0


async def test_rejected_spam_and_ratings(app: Starlette, db: Database) -> None:
    await add_department(db, "radio", "无线电管理处")
    await load(
        app,
        f"""{HEADER}
director,不予受理的来信,内容不属于本部门职责范围。,2024-03-01 10:00,rejected,,,,,
director,垃圾信件,广告广告广告广告广告。,2024-03-01 11:00,spam,,,,,
director,待受理的来信,还没有受理的来信内容。,2024-03-02 10:00,pending,,,,,
complaint,满意的投诉,投诉内容已经解决了。,2024-03-04 10:00,closed,radio,2024-03-04 11:00,,2024-03-05 10:00,满意
complaint,基本满意的投诉,投诉内容基本解决了。,2024-03-04 10:00,closed,radio,2024-03-04 11:00,,2024-03-05 10:00,basically_satisfied
complaint,不满意的投诉,投诉内容没有解决。,2024-03-04 10:00,closed,radio,2024-03-04 11:00,,2024-03-05 10:00,不满意
complaint,没有评价的投诉,投诉内容等待答复。,2024-03-04 10:00,assigned,radio,2024-03-04 11:00,2024-03-08 16:00,,
""",
    )
    report = await year(db, 2024, datetime(2024, 12, 31, tzinfo=UTC))
    total = report["total"]
    assert isinstance(total, dict)
    assert total["received"] == 6  # spam is never a letter of the cohort
    assert (total["accepted"], total["rejected"], total["awaiting_intake"]) == (4, 1, 1)
    assert total["replied"] == 3 and total["reply_rate"] == 0.75
    assert total["response_rate"] == 4 / 6
    assert (total["rated"], total["satisfied"]) == (3, 2)
    assert total["satisfaction_rate"] == 2 / 3
    assert total["overdue_open"] == 1  # due 8 March, not answered by the end of the year
    assert total["on_time"] == 3  # due dates from the calendar: 10 working days


async def test_rounding_17_of_19_is_89_5_percent(app: Starlette, db: Database) -> None:
    await add_department(db, "radio", "无线电管理处")
    rows = [
        "consult,按时答复的咨询,这是一封按时答复的咨询。,2023-05-08 09:00,replied,radio,"
        f"2023-05-08 10:00,2023-05-10 16:00,2023-05-{9 if n < 17 else 11:02d} 10:00,"
        for n in range(19)
    ]
    await load(app, "\n".join([HEADER, *rows]))
    report = await make_report(
        db, Period.of_year(2023, as_of=datetime(2024, 1, 1, tzinfo=UTC), tz=BEIJING)
    )
    total = report.report.total
    assert (total.replied, total.on_time) == (19, 17)
    assert total.on_time_rate == Fraction(17, 19)
    assert percent(total.on_time_rate) == "89.5%"
    assert report.as_json()["total"]["on_time_rate"] == 17 / 19


@pytest.mark.parametrize(
    ("rate", "decimals", "shown"),
    [
        (Fraction(17, 19), 1, "89.5%"),
        (Fraction(1), 1, "100%"),
        (Fraction(1, 8), 1, "12.5%"),
        (Fraction(1, 8), 0, "13%"),  # half up, not to even
        (Fraction(5, 10_000), 1, "0.1%"),
        (Fraction(0), 1, "0%"),
        (Fraction(2, 3), 2, "66.67%"),
        (None, 1, "–"),
    ],
)
def test_rates_are_shown_rounded_half_up(rate: Fraction | None, decimals: int, shown: str) -> None:
    assert percent(rate, decimals) == shown


async def test_a_period_that_is_not_a_year_names_its_dates(app: Starlette, db: Database) -> None:
    await seed_departments(db)
    await load(app, SEED.read_text(encoding="utf-8-sig"))
    period = Period.between(
        datetime(2018, 1, 1).date(),
        datetime(2018, 6, 30).date(),
        as_of=datetime(2019, 1, 1, tzinfo=UTC),
        tz=BEIJING,
    )
    report = await make_report(db, period)
    assert report.summaries["zh_CN"].startswith("2018年1月1日至2018年6月30日收到厅长信箱")
    assert report.summaries["en"].startswith("In 1 January 2018 to 30 June 2018 we received")
    assert len(report.report.months) == 6


async def test_workflow_cases_reopened_extended_and_merged(
    app: Starlette,
    db: Database,
    departments: dict[str, int],
    dispatcher: Actor,
    handler: Actor,
    reviewer: Actor,
) -> None:
    """Through the real services: a reopened letter counts once (by its first reply), an
    extension turns a late reply into an on-time one, a merged duplicate disappears."""
    clock: FixedClock = app.state.clock  # 30 Sep 2026 10:00 Beijing
    settings = app.state.settings
    radio, office = departments["radio"], dispatcher
    reopened, extended, original, repeat = [await new_letter(app) for _ in range(4)]
    for number in (reopened, extended, original):
        await intake.accept(
            db,
            settings=settings,
            clock=clock,
            actor=office,
            tracking_no=number,
            department_id=radio,
        )
    await intake.merge(
        db, clock=clock, actor=office, tracking_no=repeat, original_tracking_no=original
    )
    # consult: 5 working days after 30 Sep → due at the end of 13 Oct (国庆 in between).
    request_id = await handling.request_extension(
        db, clock=clock, actor=handler, tracking_no=extended, working_days=3, reason="需要现场核查"
    )
    await handling.decide_extension(
        db, settings=settings, clock=clock, actor=office, request_id=request_id, grant=True
    )
    await replied(app, db, reopened, handler, reviewer)
    await handling.rate(db, clock=clock, tracking_no=reopened, rating=Rating.UNSATISFIED)
    clock.advance(days=14)  # 14 Oct: past the first deadline, within the extended one (16 Oct)
    await replied(app, db, extended, handler, reviewer)
    await handling.reopen(
        db, settings=settings, clock=clock, actor=office, tracking_no=reopened, note="请补充"
    )
    await replied(app, db, reopened, handler, reviewer)  # answered again, after its old deadline
    await handling.rate(db, clock=clock, tracking_no=reopened, rating=Rating.SATISFIED)

    report = await year(db, 2026, clock.now() + timedelta(hours=1))
    total = report["total"]
    assert isinstance(total, dict)
    assert total["received"] == 3  # the merged repeat is not counted
    assert (total["accepted"], total["replied"], total["on_time"]) == (3, 2, 2)
    assert total["overdue_open"] == 1  # the original, due 13 Oct, never answered
    assert (total["rated"], total["satisfied"]) == (2, 1)  # each rating counts
    first_reply = await db.fetch_value(
        "SELECT first_replied_at FROM letters WHERE tracking_no = :n", {"n": reopened}
    )
    assert first_reply == datetime(2026, 9, 30, 2, tzinfo=UTC)  # not moved by the second reply
    by_department = {line["code"]: line for line in report["departments"]}  # type: ignore[attr-defined]
    assert by_department["radio"]["replied"] == 2 and by_department["policy"]["received"] == 0

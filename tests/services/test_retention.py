"""Retention on both databases: letters of 2015 and 2016 (imported, and through the real
workflow) lose every trace of their writers, recent and unfinished ones keep theirs, and the
figures do not move."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from starlette.applications import Starlette

from mailbox.clock import FixedClock
from mailbox.db.database import Connection, Database
from mailbox.db.queries import staffview
from mailbox.figures.period import Period
from mailbox.services import handling, intake, publication
from mailbox.services.handling import Rating
from mailbox.services.importing import import_letters
from mailbox.services.reports import make_report
from mailbox.services.retention import (
    MASK,
    REMOVED,
    LetterCount,
    PurgeReport,
    RetentionOff,
    purge,
    years_before,
)
from mailbox.services.transitions import Actor
from mailbox.settings import Settings
from tests.conftest import START, with_settings
from tests.services.conftest import new_letter

BEIJING = ZoneInfo("Asia/Shanghai")
HEADER = (
    "channel,title,body,name,phone,email,submitted_at,status,department,accepted_at,due_at,"
    "replied_at,reply,reject_reason,rating,published"
)
# Writers whose letters are due (closed before 2021-09-30, five years before 2026-09-30).
GONE = {
    "欧阳明远": ("13912345678", "ouyang@example.org"),
    "司马青云": ("13700001111", "sima@example.org"),
    "东方未明": ("13600002222", "dongfang@example.org"),
    "皇甫嵩山": ("13500003333", "huangfu@example.org"),
    "夏侯惇厚": ("13400004444", "xiahou@example.org"),
    "张三丰": ("13812345678", "zhang@example.com"),  # through the real workflow in 2016
    "慕容复兴": ("13698765432", "murong@example.net"),
    "独孤求败": ("13211112222", "dugu@example.net"),
}
# Writers whose letters stay as they are: recent, unfinished, or closed on the cutoff day.
KEPT = {
    "上官婉儿": ("13300005555", "shangguan@example.org"),  # replied in 2015, never closed
    "诸葛孔明": ("13100006666", "zhuge@example.org"),  # closed in 2024
    "公孙胜利": ("13000007777", "gongsun@example.org"),  # closed 2021-09-30 00:30
    "令狐冲天": ("15000008888", "linghu@example.com"),  # written today
    "尉迟敬德": ("13900009999", "yuchi@example.net"),  # 2016, unsatisfied, not followed up
}
OLD_REPLY = "欧阳明远同志：您好！来信收悉。经核查，您反映的问题已解决。联系电话13912345678。"


def row(name: str, channel: str, submitted: str, status: str, *later: str) -> str:
    """One CSV line: accepted, replied, reply, reject reason, rating, published (if given)."""
    accepted, replied, reply, reason, rating, published = (*later, "", "", "", "", "", "")[:6]
    phone, email = (GONE | KEPT)[name]
    department = "radio" if accepted else ""
    return ",".join(
        [channel, f"{name}的来信", f"我叫{name}，来信反映问题。", name, phone, email, submitted]
        + [status, department, accepted, "", replied, reply, reason, rating, published or "0"]
    )


CSV = "\n".join(
    [
        HEADER,
        row(
            "欧阳明远",
            "consult",
            "2015-03-02 10:00",
            "closed",
            "2015-03-02 11:00",
            "2015-03-04 10:00",
            OLD_REPLY,
            "",
            "满意",
            "1",
        ),
        row(
            "司马青云",
            "director",
            "2015-04-01 10:00",
            "rejected",
            "",
            "2015-04-02 10:00",
            "",
            "not_ours",
        ),
        row("东方未明", "director", "2015-05-01 10:00", "spam"),
        row(
            "皇甫嵩山",
            "complaint",
            "2015-06-01 10:00",
            "closed",
            "2015-06-01 11:00",
            "2015-06-03 10:00",
            "已处理。",
            "",
            "",
            "1",
        ),
        row(
            "夏侯惇厚",
            "suggestion",
            "2021-09-25 10:00",
            "closed",
            "2021-09-26 10:00",
            "2021-09-29 23:30",
            "感谢建议。",
        ),
        row(
            "上官婉儿",
            "consult",
            "2015-07-01 10:00",
            "replied",
            "2015-07-01 11:00",
            "2015-07-02 10:00",
            "已答复。",
        ),
        row(
            "诸葛孔明",
            "consult",
            "2024-03-01 10:00",
            "closed",
            "2024-03-01 11:00",
            "2024-03-02 10:00",
            "已答复。",
            "",
            "基本满意",
        ),
        row(
            "公孙胜利",
            "consult",
            "2021-09-27 10:00",
            "closed",
            "2021-09-27 11:00",
            "2021-09-30 00:30",
            "已答复。",
        ),
    ]
)
REPLY = "张三丰先生：您好！经核查，该基站已依法办理审批手续。"
MASKED_REPLY = f"{MASK}先生：您好！经核查，该基站已依法办理审批手续。"
PUBLIC = ("关于无线电执照的咨询", "欧阳**咨询执照办理。", "欧阳**同志：您好！来信收悉。")


async def dump(db: Database) -> dict[str, list[str]]:
    """Every row of every table as text (SQLite's FTS5 index blobs aside: the table itself
    is read through the virtual table)."""
    if db.dialect == "sqlite":
        rows = await db.fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name NOT LIKE 'publications_search_%'"
        )
    else:
        rows = await db.fetch_all(
            "SELECT table_name AS name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
    tables = sorted(row["name"] for row in rows)
    assert {"letters", "letter_events", "replies", "outbox", "publications"} <= set(tables)
    return {
        table: sorted(
            repr(sorted(row.items())) for row in await db.fetch_all(f"SELECT * FROM {table}")
        )
        for table in tables
    }


def text_of(tables: dict[str, list[str]]) -> str:
    return "\n".join(line for rows in tables.values() for line in rows)


async def figures(db: Database) -> dict[int, object]:
    as_of = datetime(2026, 9, 30, tzinfo=UTC)
    return {
        year: (await make_report(db, Period.of_year(year, as_of=as_of, tz=BEIJING))).as_json()
        for year in (2015, 2016, 2021, 2024, 2026)
    }


async def through_the_workflow_in_2016(
    app: Starlette, db: Database, dispatcher: Actor, handler: Actor, reviewer: Actor, radio: int
) -> None:
    clock: FixedClock = app.state.clock
    settings = app.state.settings
    clock.moment = datetime(2016, 3, 1, 10, tzinfo=BEIJING)
    number = await new_letter(app, publish_consent="1")  # 张三丰, as in tests.helpers
    await intake.accept(
        db,
        settings=settings,
        clock=clock,
        actor=dispatcher,
        tracking_no=number,
        department_id=radio,
    )
    request = await handling.request_extension(
        db,
        clock=clock,
        actor=handler,
        tracking_no=number,
        working_days=3,
        reason="张三丰要求现场查看基站",
    )
    await handling.decide_extension(
        db, settings=settings, clock=clock, actor=dispatcher, request_id=request, grant=True
    )
    await handling.save_draft(db, clock=clock, actor=handler, tracking_no=number, body=REPLY)
    await handling.submit_for_review(db, clock=clock, actor=handler, tracking_no=number)
    await handling.approve(db, settings=settings, clock=clock, actor=reviewer, tracking_no=number)
    await handling.rate(
        db, clock=clock, tracking_no=number, rating=Rating.SATISFIED, comment="张三丰很满意，谢谢"
    )
    letter_id = await db.fetch_value("SELECT id FROM letters WHERE tracking_no = :n", {"n": number})
    async with db.transaction() as conn:
        assert dispatcher.user_id is not None
        await staffview.add_note(
            conn,
            letter_id=letter_id,
            author_user_id=dispatcher.user_id,
            body="张三丰来电催办，电话13812345678",
            now=clock.now(),
        )

    # Published by the real service, with a phone number the dispatcher left in the copy.
    await publication.save_copy(
        db,
        clock=clock,
        actor=dispatcher,
        tracking_no=number,
        title="基站审批",
        body="张**询问基站，留了电话13812345678。",
        reply=REPLY,
    )
    await publication.publish(db, clock=clock, actor=dispatcher, tracking_no=number)

    rejected = await new_letter(
        app, name="慕容复兴", phone="13698765432", email="murong@example.net"
    )
    await intake.reject(
        db,
        clock=clock,
        actor=dispatcher,
        tracking_no=rejected,
        reason_code="not_ours",
        note="慕容复兴您好，请向市场监管部门反映。",
    )
    repeat = await new_letter(app, name="慕容复兴", phone="13698765432", email="murong@example.net")
    await intake.merge(
        db, clock=clock, actor=dispatcher, tracking_no=repeat, original_tracking_no=number
    )
    spam = await new_letter(app, name="独孤求败", phone="13211112222", email="dugu@example.net")
    await intake.mark_spam(db, clock=clock, actor=dispatcher, tracking_no=spam)
    unsatisfied = await new_letter(
        app, name="尉迟敬德", phone="13900009999", email="yuchi@example.net"
    )
    await intake.accept(
        db,
        settings=settings,
        clock=clock,
        actor=dispatcher,
        tracking_no=unsatisfied,
        department_id=radio,
    )
    await handling.save_draft(
        db,
        clock=clock,
        actor=handler,
        tracking_no=unsatisfied,
        body=REPLY.replace("张三丰", "尉迟敬德"),
    )
    await handling.submit_for_review(db, clock=clock, actor=handler, tracking_no=unsatisfied)
    await handling.approve(
        db, settings=settings, clock=clock, actor=reviewer, tracking_no=unsatisfied
    )
    # Closed, but the office still owes the writer an answer to 不满意: not due.
    await handling.rate(db, clock=clock, tracking_no=unsatisfied, rating=Rating.UNSATISFIED)
    clock.moment = START


async def publish_copy(
    conn: Connection, letter_id: int, texts: tuple[str, str, str], public: bool
) -> None:
    title, body, reply = texts
    params = {"id": letter_id, "title": title, "body": body, "reply": reply, "public": public}
    at = datetime(2016, 4, 1, tzinfo=UTC)
    await conn.execute(
        "INSERT INTO publications (letter_id, title, body, reply, is_published, published_at,"
        " updated_at) VALUES (:id, :title, :body, :reply, :public, :at, :at)",
        params | {"at": at},
    )
    if public:
        await conn.execute(
            "INSERT INTO publications_search (rowid, search_text) VALUES (:id, :text)",
            {"id": letter_id, "text": f"{title}\n{body}\n{reply}"},
        )


@pytest.fixture
async def archive(
    app: Starlette,
    db: Database,
    departments: dict[str, int],
    dispatcher: Actor,
    handler: Actor,
    reviewer: Actor,
) -> Settings:
    """The letters above, and the settings that keep letters five years."""
    await import_letters(db, settings=app.state.settings, data=CSV.encode(), jsonl=False)
    await through_the_workflow_in_2016(app, db, dispatcher, handler, reviewer, departments["radio"])
    by_name = {
        row["writer_name"]: row["id"]
        for row in await db.fetch_all("SELECT id, writer_name FROM letters")
    }
    # Letters imported as published have no public copy: as a dispatcher would make them.
    async with db.transaction() as conn:
        await publish_copy(conn, by_name["欧阳明远"], PUBLIC, True)
        # An unpublished copy, half edited: it still names the writer.
        await publish_copy(
            conn, by_name["皇甫嵩山"], ("投诉", "皇甫嵩山投诉噪音", "已处理。"), False
        )
    await new_letter(app, name="令狐冲天", phone="15000008888", email="linghu@example.com")
    settings: Settings = with_settings(app.state.settings, retention_years=5)
    return settings


async def test_a_dry_run_changes_nothing_and_counts_what_the_run_does(
    app: Starlette, db: Database, archive: Settings
) -> None:
    before = await dump(db)
    dry = await purge(db, settings=archive, clock=app.state.clock, dry_run=True, batch=3)
    assert await dump(db) == before
    assert dry.dry_run and dry.cutoff == date(2021, 9, 30) and dry.retention_years == 5
    assert dry.letters == (
        LetterCount("closed", 2015, 2),
        LetterCount("rejected", 2015, 1),
        LetterCount("spam", 2015, 1),
        LetterCount("closed", 2016, 1),
        LetterCount("duplicate", 2016, 1),
        LetterCount("rejected", 2016, 1),
        LetterCount("spam", 2016, 1),
        LetterCount("closed", 2021, 1),  # 29 September 23:30, the day before the cutoff
    )
    rows = dry.rows
    assert rows.replies_masked == 2  # 欧阳明远's imported reply, 张三丰's reply
    assert rows.rating_comments_cleared == 1 and rows.internal_notes_cleared == 1
    assert rows.extension_reasons_masked == 1
    assert rows.events_masked == 2  # the extension request's note, the rejection's staff note
    assert rows.unpublished_copies_deleted == 1
    assert (rows.public_copies_kept, rows.public_copies_masked) == (2, 1)
    assert rows.mails_deleted > 0

    done = await purge(db, settings=archive, clock=app.state.clock, dry_run=False, batch=2)
    assert done == PurgeReport(5, dry.cutoff, False, dry.letters, dry.rows)
    assert done.total == 9


async def test_purged_letters_keep_no_trace_of_their_writers(
    app: Starlette, db: Database, archive: Settings
) -> None:
    everything = text_of(await dump(db))
    for name, (phone, email) in (GONE | KEPT).items():
        assert name in everything and phone in everything and email in everything, name

    await purge(db, settings=archive, clock=app.state.clock, dry_run=False)

    everything = text_of(await dump(db))
    for name, (phone, email) in GONE.items():
        for value in (name, phone, email):
            assert value not in everything, value
    gone = await db.fetch_all(
        "SELECT title, body, writer_address, client_ip, anonymised_at, locale FROM letters"
        " WHERE anonymised_at IS NOT NULL"
    )
    assert len(gone) == 9
    for letter in gone:
        assert letter["title"] == letter["body"] == REMOVED["zh_CN"]
        assert letter["writer_address"] == letter["client_ip"] == ""
        assert letter["anonymised_at"] == START
    events = await db.fetch_all(
        "SELECT is_public, data FROM letter_events WHERE kind = 'anonymise'"
    )
    assert len(events) == 9 and not any(event["is_public"] for event in events)
    replies = [row["body"] for row in await db.fetch_all("SELECT body FROM replies")]
    assert OLD_REPLY.replace("欧阳明远", MASK).replace("13912345678", MASK) in replies
    assert MASKED_REPLY in replies


async def test_the_public_copy_stays_and_only_loses_what_names_the_writer(
    app: Starlette, db: Database, archive: Settings
) -> None:
    await purge(db, settings=archive, clock=app.state.clock, dry_run=False)
    copies = await db.fetch_all(
        "SELECT p.title, p.body, p.reply, p.is_published FROM publications p ORDER BY p.letter_id"
    )
    assert [(c["title"], c["body"], c["reply"], bool(c["is_published"])) for c in copies] == [
        (*PUBLIC, True),
        ("基站审批", f"张**询问基站，留了电话{MASK}。", MASKED_REPLY, True),
    ]
    search = [
        row["search_text"]
        for row in await db.fetch_all("SELECT search_text FROM publications_search ORDER BY rowid")
    ]
    assert search[0] == "\n".join(PUBLIC)
    assert "13812345678" not in search[1] and MASK in search[1]


async def test_the_figures_are_the_same_after_purging(
    app: Starlette, db: Database, archive: Settings
) -> None:
    before = await figures(db)
    total = before[2015]["total"]  # type: ignore[index]
    assert (total["received"], total["replied"], total["rated"]) == (4, 3, 1)
    total = before[2016]["total"]  # type: ignore[index]
    assert (total["received"], total["rejected"], total["rated"]) == (3, 1, 2)
    await purge(db, settings=archive, clock=app.state.clock, dry_run=False)
    assert await figures(db) == before


async def test_recent_and_unfinished_letters_are_untouched(
    app: Starlette, db: Database, archive: Settings
) -> None:
    names = ", ".join(f"'{name}'" for name in KEPT)
    kept = f"SELECT * FROM letters WHERE writer_name IN ({names}) ORDER BY id"
    before = await db.fetch_all(kept)
    await purge(db, settings=archive, clock=app.state.clock, dry_run=False)
    assert await db.fetch_all(kept) == before and len(before) == len(KEPT)
    everything = text_of(await dump(db))
    for name, (phone, email) in KEPT.items():
        assert name in everything and phone in everything and email in everything


async def test_a_second_run_finds_nothing_to_do(
    app: Starlette, db: Database, archive: Settings
) -> None:
    await purge(db, settings=archive, clock=app.state.clock, dry_run=False)
    after = await dump(db)
    again = await purge(db, settings=archive, clock=app.state.clock, dry_run=False)
    assert again.total == 0 and again.letters == ()
    assert await dump(db) == after


async def test_a_longer_period_reaches_fewer_letters(
    app: Starlette, db: Database, archive: Settings
) -> None:
    ten = with_settings(archive, retention_years=10)
    report = await purge(db, settings=ten, clock=app.state.clock, dry_run=True)
    assert report.cutoff == date(2016, 9, 30)
    assert {(c.state, c.year) for c in report.letters} == {
        ("closed", 2015),
        ("rejected", 2015),
        ("spam", 2015),
        ("closed", 2016),
        ("duplicate", 2016),
        ("rejected", 2016),
        ("spam", 2016),
    }


async def test_retention_off_refuses(app: Starlette, db: Database) -> None:
    with pytest.raises(RetentionOff):
        await purge(db, settings=app.state.settings, clock=app.state.clock, dry_run=True)


@pytest.mark.parametrize(
    ("today", "years", "cutoff"),
    [
        (date(2026, 9, 30), 5, date(2021, 9, 30)),
        (date(2028, 2, 29), 1, date(2027, 2, 28)),  # never a day early
        (date(2028, 2, 29), 4, date(2024, 2, 29)),
        (date(2018, 12, 31), 3, date(2015, 12, 31)),
    ],
)
def test_the_cutoff_is_the_same_day_years_before(today: date, years: int, cutoff: date) -> None:
    assert years_before(today, years) == cutoff

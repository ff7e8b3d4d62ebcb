"""Importing letters from an old system: all or nothing, every problem named by line and
column, and imported letters with the history the figures count."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from starlette.applications import Starlette

from mailbox.db.database import Database, open_database
from mailbox.figures.period import Period
from mailbox.i18n import set_locale
from mailbox.services.importing import ImportRefused, import_letters
from mailbox.services.reports import make_report
from mailbox.settings import Settings
from tests.conftest import POSTGRES_URL, SECRET, _guard, _pg_admin, _server_url
from tests.services.conftest import add_department
from tests.services.test_figures import seed_departments

SEED = Path(__file__).parent.parent / "data" / "seed-2018.csv"
BEIJING = ZoneInfo("Asia/Shanghai")


async def refused(app: Starlette, text: str, *, jsonl: bool = False) -> list[str]:
    set_locale("en")
    with pytest.raises(ImportRefused) as caught:
        await import_letters(
            app.state.db, settings=app.state.settings, data=text.encode(), jsonl=jsonl
        )
    count = await app.state.db.fetch_value("SELECT COUNT(*) FROM letters")
    assert count == 0  # nothing written
    return [str(problem) for problem in caught.value.problems]


async def test_every_problem_is_listed_and_nothing_is_imported(app: Starlette) -> None:
    problems = await refused(
        app,
        "channel,title,body,submitted_at,status,tracking_no,rating,department\n"
        "consult,好的一行,内容没有问题。,2018-03-01 10:00,pending,A1001,,\n"
        "letters,标题,内容,2018-03-01,pending,A1002,,\n"
        "consult,,内容,2018-13-01,closed,A1001,很好,nowhere\n",
    )
    assert problems == [
        "line 3, column channel: no such channel: letters",
        "line 4, column title: required",
        "line 4, column submitted_at: not an ISO 8601 date or date and time: 2018-13-01",
        "line 4, column department: no such department: nowhere",
        "line 4, column tracking_no: the same number as line 2",
        "line 4, column rating: must be satisfied, basically_satisfied or unsatisfied",
        "line 4, column replied_at: required for a replied or closed letter",
    ]


async def test_the_header_and_the_encoding_are_checked_first(app: Starlette) -> None:
    assert await refused(app, "channel,title,body,status,colour\n") == [
        "line 1, column colour: unknown column (known: channel, title, body, name, phone, "
        "email, submitted_at, status, department, accepted_at, due_at, replied_at, reply, "
        "reject_reason, rating, published, tracking_no)",
        "line 1, column submitted_at: the column is missing from the header",
    ]
    set_locale("en")
    with pytest.raises(ImportRefused) as caught:
        await import_letters(
            app.state.db,
            settings=app.state.settings,
            data="channel,title\n".encode("gb18030") + "中文".encode("gb18030"),
            jsonl=False,
        )
    assert [str(p) for p in caught.value.problems] == ["line 2: the file is not UTF-8 text"]


async def test_a_number_already_in_the_database_is_refused(app: Starlette, db: Database) -> None:
    line = "consult,标题,内容,2018-03-01 10:00,pending,B2001\n"
    header = "channel,title,body,submitted_at,status,tracking_no\n"
    await import_letters(
        db, settings=app.state.settings, data=(header + line).encode(), jsonl=False
    )
    set_locale("en")
    with pytest.raises(ImportRefused) as caught:
        await import_letters(
            db, settings=app.state.settings, data=(header + line).encode(), jsonl=False
        )
    assert [str(p) for p in caught.value.problems] == [
        "line 2, column tracking_no: a letter with this number exists already"
    ]
    assert await db.fetch_value("SELECT COUNT(*) FROM letters") == 1


async def test_jsonl_letters_get_their_history_at_the_given_times(
    app: Starlette, db: Database
) -> None:
    await add_department(db, "radio", "无线电管理处")
    rows = [
        {
            "channel": "complaint",
            "title": "投诉无线电干扰",
            "body": "夜间对讲机干扰严重。",
            "name": "王五",
            "submitted_at": "2018-06-01T09:00:00",
            "status": "closed",
            "department": "无线电管理处",
            "accepted_at": "2018-06-01T10:00:00",
            "replied_at": "2018-06-05T15:00:00+08:00",
            "reply": "已派员监测并查处。",
            "rating": "satisfied",
            "published": True,
            "tracking_no": "201806010001",
        },
        {
            "channel": "director",
            "title": "不属于职责的来信",
            "body": "请求调解邻里纠纷。",
            "submitted_at": "2018-06-02",
            "status": "rejected",
            "reject_reason": "not_ours",
        },
    ]
    data = "\n".join(json.dumps(row, ensure_ascii=False) for row in rows).encode()
    imported = await import_letters(db, settings=app.state.settings, data=data, jsonl=True)
    assert imported.letters == 2 and imported.tracking_numbers[0] == "201806010001"
    events = await db.fetch_all(
        "SELECT e.kind, e.created_at FROM letter_events e JOIN letters l ON l.id = e.letter_id"
        " WHERE l.tracking_no = '201806010001' ORDER BY e.id"
    )
    shanghai = [(e["kind"], e["created_at"].astimezone(BEIJING).isoformat()) for e in events]
    assert shanghai == [
        ("submitted", "2018-06-01T09:00:00+08:00"),
        ("accept", "2018-06-01T10:00:00+08:00"),
        ("release", "2018-06-05T15:00:00+08:00"),
        ("publish", "2018-06-05T15:00:00+08:00"),
        ("rate", "2018-06-05T15:00:00+08:00"),
    ]
    letter = await db.fetch_one(
        "SELECT state, source, due_at, reply_working_days, publish_consent FROM letters"
        " WHERE tracking_no = '201806010001'"
    )
    assert letter is not None
    assert (letter["state"], letter["source"]) == ("closed", "import")
    # complaint: 10 working days after 1 June 2018 (端午 was 18 June) → end of 15 June.
    assert letter["due_at"] == datetime(2018, 6, 15, 16, tzinfo=UTC)
    assert letter["reply_working_days"] == 2  # Fri 1 June → Tue 5 June: Monday and Tuesday
    rejected = await db.fetch_one(
        "SELECT l.state, e.note FROM letters l JOIN letter_events e ON e.letter_id = l.id"
        " WHERE l.state = 'rejected' AND e.kind = 'reject'"
    )
    assert rejected is not None and rejected["note"] == "不属于本部门职责"


async def _report_json(url: str, settings: Settings) -> dict[str, object]:
    db = open_database(url)
    await db.connect()
    try:
        await seed_departments(db)
        await import_letters(db, settings=settings, data=SEED.read_bytes(), jsonl=False)
        period = Period.of_year(2018, as_of=datetime(2019, 3, 25, tzinfo=UTC), tz=BEIJING)
        return (await make_report(db, period)).as_json()
    finally:
        await db.close()


@pytest.mark.postgresql
def test_sqlite_and_postgresql_give_identical_json(
    sqlite_template: Path, postgres_template: str, tmp_path: Path
) -> None:
    path = tmp_path / "same.sqlite3"
    shutil.copy(sqlite_template, path)
    name = _guard(f"mailbox_{uuid.uuid4().hex[:12]}_test")
    asyncio.run(_pg_admin(f"CREATE DATABASE {name} TEMPLATE {postgres_template}"))
    try:
        urls = [f"sqlite+aiosqlite:///{path}", _server_url(POSTGRES_URL, name)]
        documents = [
            asyncio.run(_report_json(url, Settings(database_url=url, secret_key=SECRET)))
            for url in urls
        ]
    finally:
        asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    assert documents[0]["summary"].startswith("全年收到厅长信箱46件")  # type: ignore[union-attr]
    assert json.dumps(documents[0], sort_keys=True) == json.dumps(documents[1], sort_keys=True)

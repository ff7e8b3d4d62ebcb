"""/stats: a year's counts per channel and month for everyone, no personal data, cached."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import httpx
import pytest
from starlette.applications import Starlette

from mailbox.clock import FixedClock
from mailbox.db.database import Database
from mailbox.db.queries import users
from mailbox.services import handling, intake
from mailbox.services.transitions import Actor
from tests.helpers import GOOD_LETTER
from tests.services.conftest import add_department, new_letter

REPLY = "您好，经核查，该基站已依法办理审批手续，辐射检测结果符合国家标准。"
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef]")


class Tables(HTMLParser):
    """Each table of a page by its caption: rows of cell texts (th and td alike)."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._rows: list[list[str]] = []
        self._name = ""
        self._caption: list[str] | None = None
        self._cell: list[str] | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._rows, self._name = [], ""
        elif tag == "caption":
            self._caption = []
        elif tag == "tr":
            self._rows.append([])
        elif tag in ("th", "td"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption" and self._caption is not None:
            self._name = "".join(self._caption).strip()
            self._caption = None
        elif tag in ("th", "td") and self._cell is not None:
            self._rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self.tables[self._name] = self._rows

    def handle_data(self, data: str) -> None:
        for collecting in (self._caption, self._cell):
            if collecting is not None:
                collecting.append(data)


def rows(page: str, caption: str) -> dict[str, list[str]]:
    """A table's rows by their first cell (the header row under its first heading)."""
    table = Tables(page).tables[caption]
    return {row[0]: row[1:] for row in table}


def main_of(page: str) -> str:
    return page[page.index("<main") : page.index("</main>")]


async def staff(db: Database, username: str, role: str, department_id: int | None) -> Actor:
    async with db.transaction() as conn:
        user_id = await users.create_user(
            conn,
            username=username,
            display_name="审核人",
            password_hash="x",
            roles=[role],
            department_id=department_id,
            now=datetime(2026, 1, 1, tzinfo=UTC),
        )
    return Actor(user_id=user_id, roles=frozenset({role}), department_id=department_id)


async def reply(app: Starlette, number: str, handler: Actor, reviewer: Actor) -> None:
    db, clock, settings = app.state.db, app.state.clock, app.state.settings
    await handling.save_draft(db, clock=clock, actor=handler, tracking_no=number, body=REPLY)
    await handling.submit_for_review(db, clock=clock, actor=handler, tracking_no=number)
    await handling.approve(db, settings=settings, clock=clock, actor=reviewer, tracking_no=number)


@pytest.fixture
async def handled(app: Starlette, db: Database) -> list[str]:
    """On 2026-09-30: three consultations (two answered after 2 and 2.5 days, one of them
    published), a letter to the director, and spam (never counted)."""
    clock: FixedClock = app.state.clock
    settings = app.state.settings
    radio = await add_department(db, "radio", "无线电管理处")
    dispatcher = await staff(db, "dispatch", "dispatcher", None)
    handler = await staff(db, "handler", "handler", radio)
    reviewer = await staff(db, "reviewer", "reviewer", radio)
    consults = [await new_letter(app, "consult") for _ in range(3)]
    director = await new_letter(app, "director")
    spam = await new_letter(app, "consult")
    await intake.mark_spam(db, clock=clock, actor=dispatcher, tracking_no=spam)
    for number in consults[:2]:
        await intake.accept(
            db,
            settings=settings,
            clock=clock,
            actor=dispatcher,
            tracking_no=number,
            department_id=radio,
        )
    clock.advance(days=2)
    await reply(app, consults[0], handler, reviewer)
    clock.advance(hours=12)
    await reply(app, consults[1], handler, reviewer)
    # There is no publication service yet: the column it will set, at the moment it would.
    await db.execute(
        "UPDATE letters SET published_at = :now WHERE tracking_no = :number",
        {"now": clock.now(), "number": consults[0]},
    )
    return [*consults, director, spam]


async def test_the_years_figures_per_channel_and_month(
    client: httpx.AsyncClient, handled: list[str]
) -> None:
    response = await client.get("/stats")
    assert response.status_code == 200
    page = response.text
    assert "2026年留言受理反馈情况" in page
    # received, replied, average days (2 and 2.5 → 2.25, shown half up), published
    assert rows(page, "2026年各栏目情况") == {
        "栏目": ["收到", "答复/办结", "平均办理时间（天）", "公开答复数量"],
        "厅长信箱": ["1", "0", "–", "0"],
        "网上咨询": ["3", "2", "2.3", "1"],
        "在线投诉": ["0", "0", "–", "0"],
        "意见建议": ["0", "0", "–", "0"],
        "全部栏目": ["4", "2", "2.3", "1"],
    }
    months = rows(page, "2026年各月合计")
    # the months that have begun (it is 2 October): counted by the month of submission
    assert list(months) == ["月份", *[f"{m}月" for m in range(1, 11)]]
    assert months["9月"] == ["4", "2", "2.3", "1"]
    assert months["10月"] == ["0", "0", "–", "0"]
    assert rows(page, "2026年网上咨询各月情况")["9月"] == ["3", "2", "2.3", "1"]
    assert rows(page, "2026年厅长信箱各月情况")["9月"] == ["1", "0", "–", "0"]
    assert rows(page, "2026年在线投诉各月情况")["9月"] == ["0", "0", "–", "0"]
    # the year is not over: no 全年 sentence
    assert 'id="stats-summary"' not in page
    assert "截至2026年10月2日 22:00" in page


async def test_no_personal_data(client: httpx.AsyncClient, handled: list[str]) -> None:
    for path in ("/stats", "/stats?lang=en"):
        page = (await client.get(path)).text
        for value in GOOD_LETTER.values():
            assert value not in page
        assert REPLY not in page
        assert "审核人" not in page  # staff names neither
        for number in handled:
            assert number not in page


async def test_a_finished_year_has_its_summary(
    app: Starlette, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    await new_letter(app, "consult")
    clock.advance(days=120)  # 2027-01-28
    page = (await client.get("/stats?year=2026")).text
    assert "全年收到厅长信箱0件、网上咨询1件、在线投诉0件、意见建议0件" in page
    assert rows(page, "2026年各月合计")["12月"] == ["0", "0", "–", "0"]
    assert (await client.get("/stats")).text.count("2027年各月合计") == 1


@pytest.mark.parametrize(
    "year",
    ["1999", "2027", "0", "abc", "", "２０２６", " 2026", "2026.0", "-2026", "9" * 40, "2026x"],
)
async def test_junk_years_get_a_translated_400(client: httpx.AsyncClient, year: str) -> None:
    response = await client.get("/stats", params={"year": year})
    assert response.status_code == 400
    assert "无法处理此请求" in response.text
    english = await client.get("/stats", params={"year": year, "lang": "en"})
    assert english.status_code == 400
    assert "This request could not be accepted" in english.text


async def test_the_current_year_is_the_offices(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    assert (await client.get("/stats?year=2000")).status_code == 200
    clock.moment = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)  # 2027-01-01 00:30 in Beijing
    page = (await client.get("/stats")).text
    assert "2027年留言受理反馈情况" in page
    assert list(rows(page, "2027年各月合计")) == ["月份", "1月"]
    assert (await client.get("/stats?year=2027")).status_code == 200
    assert (await client.get("/stats?year=2028")).status_code == 400


async def test_cached_until_the_time_is_up(
    app: Starlette, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    await new_letter(app, "consult")
    first = await client.get("/stats")
    assert first.headers["cache-control"] == "private, max-age=300"
    assert first.headers["vary"] == "Cookie, Accept-Language"
    assert rows(first.text, "2026年各栏目情况")["网上咨询"][0] == "1"
    await new_letter(app, "consult")
    clock.advance(seconds=299)
    assert rows((await client.get("/stats")).text, "2026年各栏目情况")["网上咨询"][0] == "1"
    # the other language is another entry, made now
    english = (await client.get("/stats?lang=en")).text
    assert rows(english, "2026, by channel")["Online Consultation"][0] == "2"
    clock.advance(seconds=1)
    fresh = (await client.get("/stats?lang=zh_CN")).text
    assert rows(fresh, "2026年各栏目情况")["网上咨询"][0] == "2"
    assert "截至2026年9月30日 10:05" in fresh


async def test_the_page_around_the_tables_is_the_readers(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    """The cached tables are shared; the CSRF token of the display form is each reader's."""
    first = await client.get("/stats")
    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        second = await other.get("/stats")
    token = re.compile(r'name="csrf_token" value="([^"]+)"')
    one, two = token.search(first.text), token.search(second.text)
    assert one and two and one.group(1) != two.group(1)
    assert first.cookies["mb_csrf"] == one.group(1)
    assert second.cookies["mb_csrf"] == two.group(1)


async def test_english_page_complete(client: httpx.AsyncClient, handled: list[str]) -> None:
    response = await client.get("/stats?lang=en")
    assert response.status_code == 200
    assert '<html lang="en"' in response.text
    main = main_of(response.text)
    assert not CJK.findall(main), CJK.findall(main)
    assert rows(response.text, "2026, by channel")["Online Consultation"] == ["3", "2", "2.3", "1"]
    assert rows(response.text, "2026, all channels by month")["September"] == ["4", "2", "2.3", "1"]
    assert "Letters received and answered in 2026" in main
    assert "Mean calendar days from submission to the first reply" in main
    home = await client.get("/")
    assert 'href="/stats"' in home.text

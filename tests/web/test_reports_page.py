"""The staff report page and its downloads over HTTP, on both databases: who may open them,
the figures of a year of letters made through the real services, bad parameters, and the
summary sentence templates."""

from __future__ import annotations

import io
import json
from csv import reader
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from openpyxl import load_workbook
from starlette.applications import Starlette

from mailbox.clock import FixedClock
from mailbox.db.database import Database
from mailbox.figures.counts import FIGURE_NAMES
from mailbox.services import accounts, handling, intake
from mailbox.services.handling import Rating
from mailbox.services.transitions import Actor
from tests.conftest import START
from tests.helpers import csrf_token
from tests.services.conftest import add_department, new_letter
from tests.web.test_workspace import PASSWORD, logged_in

TZ = ZoneInfo("Asia/Shanghai")
REPLY = "您好，经核查，您反映的问题已按规定办理，感谢您的来信。"
EXPORTS = ["/staff/reports/export.csv", "/staff/reports/export.xlsx", "/staff/reports/export.json"]
PATHS = ["/staff/reports", *EXPORTS]
STAFF = {
    "admin": (["admin"], None),
    "dispatcher": (["dispatcher"], None),
    "handler": (["handler"], "radio"),
    "reviewer": (["reviewer"], "radio"),
    "reporter": (["reporter"], None),
    "policy_handler": (["handler"], "policy"),
    "policy_reviewer": (["reviewer"], "policy"),
}


@pytest.fixture
async def staff(app: Starlette, db: Database) -> dict[str, Actor]:
    departments = {
        "radio": await add_department(db, "radio", "无线电管理处"),
        "policy": await add_department(db, "policy", "政策法规处"),
    }
    actors = {}
    for name, (roles, department) in STAFF.items():
        user_id = await accounts.create_user(
            db,
            clock=app.state.clock,
            username=name,
            password=PASSWORD,
            roles=roles,
            department_code=department,
        )
        department_id = departments[department] if department else None
        actors[name] = Actor(user_id=user_id, roles=frozenset(roles), department_id=department_id)
    return actors


async def _reply(app: Starlette, number: str, handler: Actor, reviewer: Actor) -> None:
    db, clock = app.state.db, app.state.clock
    await handling.save_draft(db, clock=clock, actor=handler, tracking_no=number, body=REPLY)
    await handling.submit_for_review(db, clock=clock, actor=handler, tracking_no=number)
    await handling.approve(
        db, settings=app.state.settings, clock=clock, actor=reviewer, tracking_no=number
    )


@pytest.fixture
async def year_2018(app: Starlette, db: Database, staff: dict[str, Actor]) -> dict[str, str]:
    """2018: four letters and a spam; one replied on time and rated 满意, one replied late,
    one rejected, one waiting; and a letter in 2019. The clock ends back in 2026."""
    clock: FixedClock = app.state.clock
    settings, office = app.state.settings, staff["dispatcher"]
    clock.moment = datetime(2018, 3, 5, 9, 0, tzinfo=TZ)  # a Monday
    letters = {
        "on_time": await new_letter(app, "director"),
        "late": await new_letter(app, "consult"),
        "rejected": await new_letter(app, "complaint"),
        "spam": await new_letter(app, "consult"),
    }
    for key, department in (("on_time", "handler"), ("late", "policy_handler")):
        await intake.accept(
            db,
            settings=settings,
            clock=clock,
            actor=office,
            tracking_no=letters[key],
            department_id=staff[department].department_id or 0,
        )
    await intake.reject(
        db, clock=clock, actor=office, tracking_no=letters["rejected"], reason_code="not_ours"
    )
    await intake.mark_spam(db, clock=clock, actor=office, tracking_no=letters["spam"])
    clock.moment = datetime(2018, 3, 6, 9, 0, tzinfo=TZ)  # one day later
    await _reply(app, letters["on_time"], staff["handler"], staff["reviewer"])
    await handling.rate(db, clock=clock, tracking_no=letters["on_time"], rating=Rating.SATISFIED)
    clock.moment = datetime(2018, 3, 25, 9, 0, tzinfo=TZ)  # 20 days: 网上咨询 has 5 working days
    await _reply(app, letters["late"], staff["policy_handler"], staff["policy_reviewer"])
    clock.moment = datetime(2018, 6, 10, 10, 0, tzinfo=TZ)
    letters["waiting"] = await new_letter(app, "consult")
    clock.moment = datetime(2019, 1, 2, 10, 0, tzinfo=TZ)
    letters["next_year"] = await new_letter(app, "suggestion")
    clock.moment = START
    return letters


class Cells(HTMLParser):
    """The figure tables' cells by (table id, row key, figure), and the website form's."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.cells: dict[tuple[str, str, str], str] = {}
        self.table = self.row = ""
        self.cell: tuple[str, str, str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self.table = found.get("id") or ""
        elif tag == "tr":
            self.row = found.get("data-key") or ""
        elif tag == "td" and (found.get("data-figure") or found.get("data-key")):
            name = found.get("data-figure") or found.get("data-key") or ""
            self.cell = (self.table, self.row, name)
            self.cells[self.cell] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell:
            self.cells[self.cell] += data.strip()


def _figures(cells: Cells, table: str, row: str) -> dict[str, str]:
    return {name: cells.cells[table, row, name] for name in FIGURE_NAMES}


# --- who may open what ------------------------------------------------------------------------

EXPECTED = {
    "admin": [200, 200, 200, 200, 303],
    "dispatcher": [200, 200, 200, 200, 303],
    "reporter": [200, 200, 200, 200, 403],
    "handler": [403, 403, 403, 403, 403],
    "reviewer": [403, 403, 403, 403, 403],
    "anonymous": [303, 303, 303, 303, 401],  # a genuine form without a session: log in, kept
}


@pytest.mark.parametrize("who", list(EXPECTED))
async def test_permission_matrix(app: Starlette, db: Database, staff: object, who: str) -> None:
    async with logged_in(app, who) as client:
        statuses = [(await client.get(path)).status_code for path in PATHS]
        token = await csrf_token(client, "/track")
        posted = await client.post(
            "/staff/reports/summary",
            data={"template_zh_CN": "{period}共收到{received}件。", "csrf_token": token},
        )
        statuses.append(posted.status_code)
        assert statuses == EXPECTED[who]
        if who == "anonymous":
            assert 'action="/staff/login?next=/staff/reports/summary"' in posted.text
            assert 'name="kept.template_zh_CN"' in posted.text
            page = await client.get("/staff/reports")
            assert page.headers["location"] == "/staff/login?next=/staff/reports"
    saved = await db.fetch_value("SELECT COUNT(*) FROM site_texts")
    assert saved == (1 if who in ("admin", "dispatcher") else 0)


async def test_the_reporter_starts_at_the_reports_and_every_office_role_has_the_link(
    app: Starlette, staff: object
) -> None:
    async with logged_in(app, "reporter") as client:
        home = await client.get("/staff")
        assert home.status_code == 303 and home.headers["location"] == "/staff/reports"
        assert (await client.get("/staff/welcome")).status_code == 200
        page = await client.get("/staff/reports")
        assert page.headers["cache-control"] == "no-store"
        assert 'href="/staff/reports">报表</a>' in page.text
        assert 'id="summary-templates"' not in page.text  # the reporter cannot edit them
    for who, has_link in (("dispatcher", True), ("admin", True), ("handler", False)):
        async with logged_in(app, who) as client:
            welcome = await client.get("/staff/welcome")
            assert ('href="/staff/reports"' in welcome.text) is has_link, who


# --- the figures of a year --------------------------------------------------------------------

TOTAL_2018 = {
    "received": "4",
    "accepted": "2",
    "rejected": "1",
    "awaiting_intake": "1",
    "replied": "2",
    "reply_rate": "100%",
    "response_rate": "75%",
    "on_time": "1",
    "on_time_rate": "50%",
    "overdue_open": "0",
    "avg_days": "10.5",
    "published": "0",
    "rated": "1",
    "satisfied": "1",
    "satisfaction_rate": "100%",
}
SUMMARY_2018 = (
    "全年收到厅长信箱1件、网上咨询2件、在线投诉1件、意见建议0件,全年共受理信件2封,回复率100%。"
)


async def test_a_year_of_letters_on_the_page_and_in_the_json(
    app: Starlette, year_2018: dict[str, str]
) -> None:
    async with logged_in(app, "reporter") as client:
        page = await client.get("/staff/reports", params={"year": "2018"})
        assert page.status_code == 200
        cells = Cells(page.text)
        total = _figures(cells, "by-channel", "total")
        assert {k: total[k] for k in TOTAL_2018} == TOTAL_2018
        assert _figures(cells, "by-channel", "director")["on_time_rate"] == "100%"
        consult = _figures(cells, "by-channel", "consult")
        assert (consult["received"], consult["replied"], consult["on_time"]) == ("2", "1", "0")
        assert _figures(cells, "by-channel", "complaint")["rejected"] == "1"
        assert _figures(cells, "by-channel", "suggestion")["received"] == "0"
        assert _figures(cells, "by-department", "radio")["on_time_rate"] == "100%"
        assert _figures(cells, "by-department", "policy")["on_time_rate"] == "0%"
        assert _figures(cells, "by-department", "none")["received"] == "2"
        months = {month: _figures(cells, "by-month", f"2018-{month:02d}") for month in (3, 6, 7)}
        assert [months[m]["received"] for m in (3, 6, 7)] == ["3", "1", "0"]
        assert cells.cells["website-form", "", "收到留言数量"] == "4"
        assert cells.cells["website-form", "", "办结留言数量"] == "2"
        assert cells.cells["website-form", "", "平均办理时间(天)"] == "10.5"
        assert cells.cells["website-form", "", "公开答复数量"] == "0"
        assert SUMMARY_2018 in page.text
        for chart in ("chart-months", "chart-channels", "chart-on-time"):
            assert f'<svg class="chart" id="{chart}" role="img"' in page.text
        assert "style=" not in page.text  # the CSP refuses inline styles
        assert "按时答复率" in page.text and "答复 ÷ 受理。" in page.text  # the definitions
        assert 'href="/staff/reports/export.csv?year=2018"' in page.text
        assert '<option value="2018" selected>' in page.text
        assert '<option value="2019">' in page.text and '<option value="2026">' in page.text
        assert '<option value="2017">' not in page.text

        exported = await client.get("/staff/reports/export.json", params={"year": "2018"})
        assert exported.headers["content-type"] == "application/json"
        assert exported.headers["cache-control"] == "no-store"
        disposition = exported.headers["content-disposition"]
        assert disposition == 'attachment; filename="mailbox-report-2018.json"'
        document = exported.json()
        assert document["summary"] == SUMMARY_2018
        assert document["period"]["from"] == "2018-01-01"
        assert document["period"]["as_of"] == START.isoformat()
        json_total = document["total"]
        assert (json_total["received"], json_total["replied"], json_total["rejected"]) == (4, 2, 1)
        assert json_total["response_rate"] == 0.75 and json_total["on_time_rate"] == 0.5
        assert json_total["avg_days"] == 10.5
        assert total["avg_working_days"] == f"{json_total['avg_working_days']:.1f}"
        assert document["website_yearly_form"]["平均办理时间(天)"] == 10.5

        english = await client.get("/staff/reports", params={"year": "2018", "lang": "en"})
        assert "In the year 2018 we received 1 to Director" in english.text
        assert "On-time rate" in english.text and "Not assigned" in english.text


async def test_as_of_and_a_range_of_dates(app: Starlette, year_2018: dict[str, str]) -> None:
    async with logged_in(app, "reporter") as client:
        # On the day of acceptance nothing was replied yet; by 20 March the 网上咨询 letter
        # was past its deadline and still open.
        early = Cells((await client.get("/staff/reports?year=2018&as_of=2018-03-05")).text).cells
        assert early["by-channel", "total", "accepted"] == "2"
        assert early["by-channel", "total", "replied"] == "0"
        assert early["by-channel", "total", "reply_rate"] == "0%"
        middle = Cells((await client.get("/staff/reports?year=2018&as_of=2018-03-20")).text)
        assert _figures(middle, "by-channel", "total")["overdue_open"] == "1"
        assert _figures(middle, "by-channel", "total")["replied"] == "1"

        march = await client.get("/staff/reports?from=2018-03-01&to=2018-03-31")
        assert march.status_code == 200
        assert Cells(march.text).cells["by-channel", "total", "received"] == "3"
        assert "2018年3月1日至2018年3月31日收到厅长信箱1件" in march.text
        assert 'href="/staff/reports/export.xlsx?from=2018-03-01&amp;to=2018-03-31"' in march.text
        csv = await client.get("/staff/reports/export.csv?from=2018-03-01&to=2018-03-31")
        assert csv.headers["content-disposition"] == (
            'attachment; filename="mailbox-report-2018-03-01-2018-03-31.csv"'
        )


async def test_the_csv_and_the_xlsx_hold_the_json_numbers(
    app: Starlette, year_2018: dict[str, str]
) -> None:
    async with logged_in(app, "dispatcher") as client:
        document = (await client.get("/staff/reports/export.json?year=2018")).json()
        expected_total = [document["total"][name] for name in FIGURE_NAMES]
        csv = await client.get("/staff/reports/export.csv?year=2018")
        assert csv.headers["content-type"] == "text/csv; charset=utf-8"
        assert csv.content.startswith("\ufeff".encode())
        table = list(reader(io.StringIO(csv.content.decode("utf-8-sig"))))
        assert table[1] == ["summary", SUMMARY_2018]
        [total] = [row for row in table if row[0] == "total"]
        assert total[3:] == ["" if value is None else str(value) for value in expected_total]
        xlsx = await client.get("/staff/reports/export.xlsx?year=2018")
        assert xlsx.headers["content-type"] == (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        assert xlsx.headers["cache-control"] == "no-store"
        assert xlsx.headers["content-disposition"].endswith('filename="mailbox-report-2018.xlsx"')
    book = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    rows = [list(row) for row in book["figures"].iter_rows(values_only=True)]
    header = rows.index(["section", "key", "name", *FIGURE_NAMES])
    expected: list[dict[str, Any]] = [
        *document["channels"],
        *document["departments"],
        *document["months"],
        document["total"],
    ]
    figures = [row[3:] for row in rows[header + 1 :]]
    assert figures == [[item[name] for name in FIGURE_NAMES] for item in expected]
    assert rows[header + 1][:3] == ["channels", "director", "厅长信箱"]
    form = dict(book["网站年度报表"].iter_rows(min_row=2, values_only=True))
    assert form == document["website_yearly_form"]


# --- bad parameters ---------------------------------------------------------------------------

JUNK = {
    "year=abc": "请选择2000年至2100年之间的年份。",
    "year=1999": "请选择2000年至2100年之间的年份。",
    "year=%EF%BC%92%EF%BC%90%EF%BC%91%EF%BC%98": "请选择2000年至2100年之间的年份。",
    "year=%00": "请选择2000年至2100年之间的年份。",
    "from=2018-13-01&to=2018-12-31": "请输入2000年至2100年之间的日期",
    "from=2018-01-01": "请输入日期。",
    "from=2018-12-31&to=2018-01-01": "结束日期早于开始日期。",
    "from=2000-01-01&to=2100-12-31": "一份报表最多涵盖10年。",
    "period=dates&year=2018": "请输入日期。",
    "as_of=x": "请输入日期（如2019-01-15）",
    "as_of=9999-12-31": "请输入日期（如2019-01-15）",
    "as_of=1900-01-01": "请输入2000年至2100年之间的时间。",
    "year=2018&as_of=2018-01-01T00:00%2B99:00": "请输入日期（如2019-01-15）",
}


@pytest.mark.parametrize("query", list(JUNK))
async def test_bad_parameters_get_the_page_with_the_message(
    app: Starlette, staff: object, query: str
) -> None:
    async with logged_in(app, "reporter") as client:
        for path in PATHS:
            response = await client.get(f"{path}?{query}")
            assert response.status_code == 400, path
            assert response.headers["content-type"].startswith("text/html"), path
            assert JUNK[query] in response.text, path
            assert 'aria-invalid="true"' in response.text
            assert 'id="by-channel"' not in response.text


async def test_an_unknown_download_is_404(app: Starlette, staff: object) -> None:
    async with logged_in(app, "admin") as client:
        assert (await client.get("/staff/reports/export.pdf")).status_code == 404


# --- the summary templates --------------------------------------------------------------------


async def _post_templates(
    client: httpx.AsyncClient, zh: str, en: str = "", query: str = "year=2018"
) -> httpx.Response:
    token = await csrf_token(client, f"/staff/reports?{query}")
    return await client.post(
        "/staff/reports/summary",
        data={"template_zh_CN": zh, "template_en": en, "query": query, "csrf_token": token},
    )


async def test_editing_the_summary_template_changes_the_sentence(
    app: Starlette, db: Database, year_2018: dict[str, str]
) -> None:
    async with logged_in(app, "dispatcher") as client:
        saved = await _post_templates(
            client, "{period}共收到来信{received}件,按时答复率{on_time_rate}。"
        )
        assert saved.status_code == 303
        assert saved.headers["location"] == "/staff/reports?year=2018&saved=1#summary-templates"
        page = await client.get(saved.headers["location"])
        assert "全年共收到来信4件,按时答复率50%。" in page.text
        assert "模板已保存" in page.text
        document = (await client.get("/staff/reports/export.json?year=2018")).json()
        assert document["summary"] == "全年共收到来信4件,按时答复率50%。"
        assert document["summary_en"].startswith("In the year 2018 we received")  # the default

        before = await db.fetch_all("SELECT locale, value FROM site_texts ORDER BY locale")
        for zh, en, named in [
            ("{period}收到{letters}件", "", "{letters}"),
            ("{period}收到{received}件", "{period} {total} and {sum}", "{sum}, {total}"),
        ]:
            refused = await _post_templates(client, zh, en)
            assert refused.status_code == 400
            assert f"没有占位符{named}" in refused.text
            assert 'aria-invalid="true"' in refused.text
            assert "全年共收到来信4件" in refused.text  # the sentence as it still is
        for broken in ("{period}收到{received件", "{received:d}件", "共{}件"):
            refused = await _post_templates(client, broken)
            assert refused.status_code == 400 and "每个占位符写作{name}" in refused.text
        assert await db.fetch_all("SELECT locale, value FROM site_texts ORDER BY locale") == before

        restored = await _post_templates(client, "")
        assert restored.status_code == 303
        assert await db.fetch_value("SELECT COUNT(*) FROM site_texts") == 0
        assert SUMMARY_2018 in (await client.get("/staff/reports?year=2018")).text
    audit = await db.fetch_all(
        "SELECT action, target, data FROM audit_log WHERE action = 'summary.update' ORDER BY id"
    )
    assert [(row["action"], row["target"]) for row in audit] == [
        ("summary.update", "zh_CN"),
        ("summary.update", "zh_CN"),
    ]
    assert json.loads(audit[0]["data"])["template"].startswith("{period}共收到来信")
    assert json.loads(audit[1]["data"]) == {"template": ""}


async def test_the_template_form_without_a_csrf_token_is_403(
    app: Starlette, db: Database, staff: object
) -> None:
    async with logged_in(app, "admin") as client:
        await client.get("/staff/reports")  # the CSRF cookie is set, the token is not sent
        for data in ({"template_zh_CN": "{period}"}, {"template_zh_CN": "x", "csrf_token": "a.b"}):
            response = await client.post("/staff/reports/summary", data=data)
            assert response.status_code == 403
    assert await db.fetch_value("SELECT COUNT(*) FROM site_texts") == 0

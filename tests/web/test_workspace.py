"""The staff workspace over HTTP: who sees what (exact status codes), and a letter's whole
cycle through the forms."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from starlette.applications import Starlette

from mailbox.db.database import Database
from mailbox.services import accounts, intake
from mailbox.services.transitions import Actor
from tests.conftest import with_settings
from tests.helpers import csrf_from, csrf_token
from tests.services.conftest import add_department, new_letter

PASSWORD = "a long enough password"
ROLES = {
    "admin": (["admin"], None),
    "dispatcher": (["dispatcher"], None),
    "radio_handler": (["handler"], "radio"),
    "radio_reviewer": (["reviewer"], "radio"),
    "policy_handler": (["handler"], "policy"),
    "reporter": (["reporter"], None),
}


@pytest.fixture
async def office(app: Starlette, db: Database) -> dict[str, str]:
    """Two departments, a user per role, and a letter accepted into each department."""
    radio = await add_department(db, "radio", "无线电管理处")
    policy = await add_department(db, "policy", "政策法规处")
    for name, (roles, department) in ROLES.items():
        await accounts.create_user(
            db,
            clock=app.state.clock,
            username=name,
            password=PASSWORD,
            roles=roles,
            department_code=department,
        )
    boss = Actor(user_id=None, roles=frozenset({"dispatcher"}))
    letters = {
        "radio": await new_letter(app),
        "policy": await new_letter(app),
        "pending": await new_letter(app),
    }
    for key, department_id in (("radio", radio), ("policy", policy)):
        await intake.accept(
            db,
            settings=app.state.settings,
            clock=app.state.clock,
            actor=boss,
            tracking_no=letters[key],
            department_id=department_id,
        )
    return letters


@asynccontextmanager
async def logged_in(app: Starlette, name: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(f"198.51.100.{len(name)}", 1000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        if name != "anonymous":
            token = await csrf_token(client, "/staff/login")
            response = await client.post(
                "/staff/login",
                data={"username": name, "password": PASSWORD, "csrf_token": token},
            )
            assert response.status_code == 303, name
        yield client


PAGES = [
    "/staff/queue",
    "/staff/enter",
    "/staff/inbox",
    "/staff/review",
    "/staff/welcome",
    "/staff/dashboard",
    "radio",
    "policy",
    "pending",
]
EXPECTED = {
    "admin":          [200, 200, 403, 403, 200, 200, 200, 200, 200],
    "dispatcher":     [200, 200, 403, 403, 200, 200, 200, 200, 200],
    "radio_handler":  [403, 403, 200, 403, 200, 200, 200, 404, 404],
    "radio_reviewer": [403, 403, 200, 200, 200, 200, 200, 404, 404],
    "policy_handler": [403, 403, 200, 403, 200, 200, 404, 200, 404],
    "reporter":       [403, 403, 403, 403, 200, 403, 403, 403, 403],
    "anonymous":      [303, 303, 303, 303, 303, 303, 303, 303, 303],
}  # fmt: skip


@pytest.mark.parametrize("who", list(EXPECTED))
async def test_permission_matrix(app: Starlette, office: dict[str, str], who: str) -> None:
    async with logged_in(app, who) as client:
        statuses = []
        for page in PAGES:
            path = page if page.startswith("/") else f"/staff/letters/{office[page]}"
            statuses.append((await client.get(path)).status_code)
        assert statuses == EXPECTED[who]


@pytest.mark.parametrize("who", ["radio_handler", "policy_handler", "reporter"])
async def test_posting_an_action_out_of_scope_changes_nothing(
    app: Starlette, db: Database, office: dict[str, str], who: str
) -> None:
    async with logged_in(app, who) as client:
        token = await csrf_token(client, "/staff/welcome")
        response = await client.post(
            f"/staff/letters/{office['pending']}",
            data={"action": "accept", "department_id": "1", "csrf_token": token},
        )
        assert response.status_code in (403, 404)
    assert (
        await db.fetch_value(
            "SELECT state FROM letters WHERE tracking_no = :t", {"t": office["pending"]}
        )
        == "pending"
    )


async def test_staff_forms_without_a_token_are_403(app: Starlette, office: dict[str, str]) -> None:
    async with logged_in(app, "dispatcher") as client:
        for path, data in [
            (f"/staff/letters/{office['pending']}", {"action": "mark_spam"}),
            ("/staff/enter", {"title": "x"}),
            ("/staff/logout", {}),
        ]:
            assert (await client.post(path, data=data)).status_code == 403
            wrong = await client.post(path, data={**data, "csrf_token": "x.y"})
            assert wrong.status_code == 403


async def act(client: httpx.AsyncClient, number: str, **data: str) -> httpx.Response:
    page = await client.get(f"/staff/letters/{number}")
    assert page.status_code == 200, page.text
    return await client.post(
        f"/staff/letters/{number}", data={**data, "csrf_token": csrf_from(page.text)}
    )


async def test_a_letter_through_the_forms(
    app: Starlette, db: Database, office: dict[str, str]
) -> None:
    number = office["pending"]
    reply = "经核查，该基站已依法审批，检测结果符合国家标准，请放心。"
    async with logged_in(app, "dispatcher") as dispatcher:
        page = await dispatcher.get(f"/staff/letters/{number}")
        assert "2026年10月13日" in page.text  # the deadline acceptance would fix
        radio = await db.fetch_value("SELECT id FROM departments WHERE code = 'radio'")
        assert (
            await act(dispatcher, number, action="accept", department_id=str(radio))
        ).status_code == 303
    async with logged_in(app, "radio_handler") as handler:
        inbox = await handler.get("/staff/inbox")
        assert number in inbox.text
        assert (await act(handler, number, action="submit_draft", body=reply)).status_code == 303
    async with logged_in(app, "radio_reviewer") as reviewer:
        assert number in (await reviewer.get("/staff/review")).text
        assert (
            await act(reviewer, number, action="send_back", note="请写明检测机构")
        ).status_code == 303
    async with logged_in(app, "radio_handler") as handler:
        page = await handler.get(f"/staff/letters/{number}")
        assert "请写明检测机构" in page.text and reply in page.text  # comment and draft kept
        assert (
            await act(handler, number, action="submit_draft", body=reply + "检测机构：某检测中心。")
        ).status_code == 303
    async with logged_in(app, "radio_reviewer") as reviewer:
        assert (await act(reviewer, number, action="approve")).status_code == 303
        again = await act(reviewer, number, action="approve")
        assert again.status_code == 409  # already released
    state = await db.fetch_value("SELECT state FROM letters WHERE tracking_no = :t", {"t": number})
    assert state == "replied"


async def test_a_letter_entered_by_phone(
    app: Starlette, db: Database, office: dict[str, str]
) -> None:
    async with logged_in(app, "dispatcher") as client:
        token = await csrf_token(client, "/staff/enter")
        response = await client.post(
            "/staff/enter",
            data={
                "csrf_token": token,
                "channel": "complaint",
                "source": "phone",
                "title": "电话反映噪音问题",
                "body": "来电反映小区旁工地夜间施工噪音很大。",
                "name": "李四",
                "phone": "13900001111",
            },
        )
        assert response.status_code == 200
        number = re.search(r'id="tracking-no">(\d+)<', response.text)
        assert number
    row = await db.fetch_one(
        "SELECT source, challenge, state FROM letters WHERE tracking_no = :t",
        {"t": number.group(1)},
    )
    assert row is not None and (row["source"], row["challenge"], row["state"]) == (
        "phone",
        "staff",
        "pending",
    )


async def test_search_finds_by_number_phone_name_and_words(
    app: Starlette, office: dict[str, str]
) -> None:
    async with logged_in(app, "dispatcher") as client:
        for query in [office["radio"], "13812345678", "张三丰", "基站"]:
            page = await client.get("/staff/queue", params={"q": query})
            assert page.status_code == 200 and office["radio"] in page.text, query
        none = await client.get("/staff/queue", params={"q": "没有这样的字"})
        assert office["radio"] not in none.text


async def test_the_dashboard_counts_for_the_office_and_for_a_department(
    app: Starlette, db: Database, office: dict[str, str]
) -> None:
    async with logged_in(app, "dispatcher") as client:
        page = await client.get("/staff/dashboard")
        assert page.status_code == 200
        # two accepted letters due 13 October (not this week: it is 30 September), one pending
        assert re.search(r'id="due-this-week">0<', page.text)
        assert re.search(r'id="overdue">0<', page.text)
        assert "无线电管理处" in page.text and "政策法规处" in page.text
    app.state.clock.advance(days=14)  # 14 October: both accepted letters are overdue
    async with logged_in(app, "radio_handler") as client:
        page = await client.get("/staff/dashboard")
        assert re.search(r'id="overdue">1<', page.text)  # only its own department's
        assert "政策法规处" not in page.text
    async with logged_in(app, "reporter") as client:
        assert (await client.get("/staff/dashboard")).status_code == 403


def _numbers_and_next(page: str, path: str) -> tuple[list[str], str | None]:
    numbers = re.findall(r'href="/staff/letters/(\d{14})"', page)
    link = re.search(r'<a href="(\?[^"]*)">下一页</a>', page)
    return numbers, (path + html.unescape(link.group(1)) if link else None)


async def _walk(client: httpx.AsyncClient, path: str) -> list[str]:
    """Every letter number over all the pages, following the next-page links."""
    seen: list[str] = []
    url: str | None = path
    while url:
        page = await client.get(url)
        assert page.status_code == 200
        numbers, url = _numbers_and_next(page.text, path.split("?")[0])
        seen += list(dict.fromkeys(numbers))
    return seen


async def test_the_inbox_and_the_search_page_through_every_letter_once(
    app: Starlette, db: Database, office: dict[str, str]
) -> None:
    """More letters than a page, many sharing a moment: the keyset pages neither skip nor repeat
    one, in the order of the page."""
    app.state.settings = with_settings(app.state.settings, submit_limit=0)  # 60 from one address
    radio = await db.fetch_value("SELECT id FROM departments WHERE code = 'radio'")
    boss = Actor(user_id=None, roles=frozenset({"dispatcher"}))
    for _batch in range(3):  # three submission and acceptance moments, 20 letters each
        for _ in range(20):
            number = await new_letter(app)
            await intake.accept(
                db,
                settings=app.state.settings,
                clock=app.state.clock,
                actor=boss,
                tracking_no=number,
                department_id=radio,
            )
        app.state.clock.advance(days=1)
    expected = [
        row["tracking_no"]
        for row in await db.fetch_all(
            "SELECT tracking_no FROM letters WHERE department_id = :d ORDER BY due_at, id",
            {"d": radio},
        )
    ]
    assert len(expected) == 61
    async with logged_in(app, "radio_handler") as handler:
        assert await _walk(handler, "/staff/inbox") == expected
    async with logged_in(app, "dispatcher") as dispatcher:
        found = await _walk(dispatcher, f"/staff/queue?department={radio}")
        assert sorted(found) == sorted(expected) and len(found) == len(set(found))
        assert found[0] == expected[-1]  # newest first


async def test_a_reply_written_past_the_session_end_is_kept_through_login(
    app: Starlette, db: Database, office: dict[str, str]
) -> None:
    """WCAG 2.2.1: the session ends after 2 idle hours, but what was typed is not lost."""
    number = office["radio"]
    reply = "经核查，基站审批手续齐全，辐射检测合格。" * 3
    async with logged_in(app, "radio_handler") as handler:
        page = await handler.get(f"/staff/letters/{number}")
        app.state.clock.advance(hours=3)  # typed slowly: the session has ended
        late = await handler.post(
            f"/staff/letters/{number}",
            data={"csrf_token": csrf_from(page.text), "action": "save_draft", "body": reply},
        )
        assert late.status_code == 401
        assert f'name="kept.body" value="{reply}"' in late.text
        assert await db.fetch_value("SELECT COUNT(*) FROM replies") == 0
        again = await handler.post(
            f"/staff/login?next=/staff/letters/{number}",
            data={
                "csrf_token": csrf_from(late.text),
                "next": f"/staff/letters/{number}",
                "username": "radio_handler",
                "password": PASSWORD,
                "kept.action": "save_draft",
                "kept.body": reply,
            },
        )
        assert again.status_code == 200 and reply in again.text  # shown, not sent by itself
        assert await db.fetch_value("SELECT COUNT(*) FROM replies") == 0
        sent = await handler.post(
            f"/staff/letters/{number}",
            data={"csrf_token": csrf_from(again.text), "action": "save_draft", "body": reply},
        )
        assert sent.status_code == 303
    assert await db.fetch_value("SELECT body FROM replies") == reply

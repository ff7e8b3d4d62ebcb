"""The attention list over HTTP: only administrators edit it, every change audited, bad input
refused and nothing changed; staff letter pages flag and highlight the words on the next
request after an edit."""

from __future__ import annotations

import json
import re

import pytest
from markupsafe import escape
from starlette.applications import Starlette

from mailbox.db.database import Database
from mailbox.services import intake
from mailbox.services.transitions import Actor
from tests.helpers import csrf_from, csrf_token
from tests.services.conftest import new_letter
from tests.web.test_admin import ADMIN_IP, logged_in, office, post

__all__ = ["office"]  # the fixture, used by name

PAGE = "/staff/admin/attention-words"
NOTICE = 'id="attention"'


async def words(db: Database) -> list[str]:
    return [
        row["word"] for row in await db.fetch_all("SELECT word FROM attention_words ORDER BY id")
    ]


async def word_id(db: Database, word: str) -> int:
    found: int = await db.fetch_value("SELECT id FROM attention_words WHERE word = :w", {"w": word})
    return found


async def snapshot(db: Database) -> list[object]:
    tables = [
        "SELECT * FROM attention_words ORDER BY id",
        "SELECT * FROM site_texts ORDER BY key, locale",
        "SELECT * FROM audit_log ORDER BY id",
    ]
    return [[dict(row) for row in await db.fetch_all(sql)] for sql in tables]


async def audit_rows(db: Database) -> list[dict[str, object]]:
    return [dict(row) for row in await db.fetch_all("SELECT * FROM audit_log ORDER BY id")]


@pytest.mark.parametrize("who", ["dispatcher", "radio_handler", "radio_reviewer", "reporter"])
async def test_only_administrators_open_or_change_the_list(
    app: Starlette, db: Database, office: dict[str, int], who: str
) -> None:
    async with logged_in(app, "boss") as boss:
        assert (await post(boss, PAGE, action="add", words="中国")).status_code == 303
    listed = await word_id(db, "中国")
    async with logged_in(app, who) as client:
        before = await snapshot(db)
        assert (await client.get(PAGE)).status_code == 403
        token = await csrf_token(client, "/staff/welcome")
        for data in ({"action": "add", "words": "国人"}, {"action": "delete", "id": str(listed)}):
            response = await client.post(PAGE, data={**data, "csrf_token": token})
            assert response.status_code == 403
        assert await snapshot(db) == before
    async with logged_in(app, "anonymous") as client:
        response = await client.get(PAGE)
        assert response.status_code == 303
        assert response.headers["location"] == f"/staff/login?next={PAGE}"


async def test_the_list_needs_the_csrf_token(
    app: Starlette, db: Database, office: dict[str, int]
) -> None:
    async with logged_in(app, "boss") as boss:
        assert (await post(boss, PAGE, action="add", words="中国")).status_code == 303
        before = await snapshot(db)
        listed = str(await word_id(db, "中国"))
        for data in ({"action": "add", "words": "国人"}, {"action": "delete", "id": listed}):
            assert (await boss.post(PAGE, data=data)).status_code == 403
            wrong = await boss.post(PAGE, data={**data, "csrf_token": "x.y"})
            assert wrong.status_code == 403
        assert await snapshot(db) == before


async def test_an_administrator_adds_and_deletes_words(
    app: Starlette, db: Database, office: dict[str, int]
) -> None:
    async with logged_in(app, "boss") as boss:
        assert 'href="/staff/admin/attention-words"' in (await boss.get("/staff/admin")).text
        response = await post(
            boss, PAGE, action="add", words=" 中国、国人，ＶＰＮ\r\n  翻墙  中国,\n\n"
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"{PAGE}?added=4&skipped=0&done=1"
        page = await boss.get(response.headers["location"])
        assert "4 word(s) added; 0 already listed." in page.text
        assert "4 word(s) listed." in page.text
        assert await words(db) == ["中国", "国人", "VPN", "翻墙"]  # full width stored half
        # Case and width aside, "vpn" is listed already.
        response = await post(boss, PAGE, action="add", words="vpn\n上访")
        assert response.headers["location"] == f"{PAGE}?added=1&skipped=1&done=1"
        assert await words(db) == ["中国", "国人", "VPN", "翻墙", "上访"]
        found = await boss.get(PAGE, params={"q": "国"})
        listed = re.findall(r"<td>([^<]+)</td>\s*<td>2026", found.text)
        assert sorted(listed) == ["中国", "国人"]
        response = await post(boss, PAGE, action="delete", id=str(await word_id(db, "国人")))
        assert (response.status_code, response.headers["location"]) == (303, f"{PAGE}?done=1")
        assert await words(db) == ["中国", "VPN", "翻墙", "上访"]
        assert (await post(boss, PAGE, action="delete", id="999999")).status_code == 404
        assert (await post(boss, PAGE, action="delete", id="x")).status_code == 400
        assert (await post(boss, PAGE, action="rename", id="1")).status_code == 400
    rows = [row for row in await audit_rows(db) if str(row["action"]).startswith("attention")]
    assert [(row["action"], row["target"]) for row in rows] == [
        ("attention_word.add", "中国、国人、VPN、翻墙"),
        ("attention_word.add", "上访"),
        ("attention_word.delete", "国人"),
    ]
    assert all(
        (row["actor_user_id"], row["client_ip"]) == (office["boss"], ADMIN_IP) for row in rows
    )
    assert json.loads(str(rows[0]["data"])) == {"words": ["中国", "国人", "VPN", "翻墙"]}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("", "Enter at least one word."),
        (" 、，,\n ", "Enter at least one word."),
        ("中国 " + "长" * 51, "A word may have at most 50 characters: " + "长" * 50 + "…"),
    ],
)
async def test_bad_input_is_refused_with_its_message_and_changes_nothing(
    app: Starlette, db: Database, office: dict[str, int], given: str, message: str
) -> None:
    async with logged_in(app, "boss") as boss:
        before = await snapshot(db)
        response = await post(boss, PAGE, action="add", words=given)
        assert response.status_code == 400
        assert message in response.text
        assert f'aria-invalid="true">{escape(given)}</textarea>' in response.text  # kept
        assert await snapshot(db) == before
        # Fifty characters are allowed.
        assert (await post(boss, PAGE, action="add", words="长" * 50)).status_code == 303
    assert await words(db) == ["长" * 50]


async def test_a_letter_with_listed_words_is_flagged_and_highlighted(
    app: Starlette, db: Database, office: dict[str, int]
) -> None:
    flagged = await new_letter(
        app, title="关于ＶＰＮ的咨询", body="请问<b>翻墙</b>软件和vpn是否合法？中国人都关心。"
    )
    plain = await new_letter(app, title="基站咨询", body="想了解基站的审批情况。")
    async with logged_in(app, "boss") as boss:
        await post(boss, PAGE, action="add", words="vpn 翻墙 中国 国人 检测机构")
    async with logged_in(app, "dispatcher") as dispatcher:
        page = (await dispatcher.get(f"/staff/letters/{flagged}")).text
        assert NOTICE in page and "Needs attention: contains listed words" in page
        notice = re.search(r'<span id="attention-words">(.*?)</span>', page)
        assert notice is not None
        assert re.findall(r"<mark[^>]*>([^<]+)</mark>", notice.group(1)) == [
            "vpn",
            "翻墙",
            "中国",
            "国人",
        ]
        assert '<h1>关于<mark class="attention">ＶＰＮ</mark>的咨询</h1>' in page
        assert (
            '请问&lt;b&gt;<mark class="attention">翻墙</mark>&lt;/b&gt;软件和'
            '<mark class="attention">vpn</mark>是否合法？'
            '<mark class="attention">中国人</mark>都关心。'
        ) in page
        chinese = await dispatcher.get(
            f"/staff/letters/{flagged}", headers={"accept-language": "zh-CN"}
        )
        assert "需要注意：包含关注词" in chinese.text
        assert (
            '<mark class="attention">vpn</mark>、<mark class="attention">翻墙</mark>'
            in chinese.text
        )
        other = (await dispatcher.get(f"/staff/letters/{plain}")).text
        assert NOTICE not in other and "<mark" not in other
        assert "想了解基站的审批情况。" in other
        # Flags never block: the flagged letter is accepted as any other.
        radio = str(office["radio"])
        response = await dispatcher.post(
            f"/staff/letters/{flagged}",
            data={"action": "accept", "department_id": radio, "csrf_token": csrf_from(page)},
        )
        assert response.status_code == 303
    async with logged_in(app, "radio_handler") as handler:
        page = (await handler.get(f"/staff/letters/{flagged}")).text
        draft = "经核查，检测机构认为<i>无误</i>。"
        response = await handler.post(
            f"/staff/letters/{flagged}",
            data={"action": "save_draft", "body": draft, "csrf_token": csrf_from(page)},
        )
        assert response.status_code == 303
        page = (await handler.get(f"/staff/letters/{flagged}")).text
        assert re.findall(r"<mark[^>]*>([^<]+)</mark>", page.split("</span>")[0]).count("检测机构")
        assert (
            '<div class="text" id="attention-draft">经核查，<mark class="attention">检测机构</mark>'
            "认为&lt;i&gt;无误&lt;/i&gt;。</div>"
        ) in page


async def test_a_draft_alone_flags_the_letter(
    app: Starlette, db: Database, office: dict[str, int]
) -> None:
    number = await new_letter(app)
    await intake.accept(
        db,
        settings=app.state.settings,
        clock=app.state.clock,
        actor=Actor(user_id=None, roles=frozenset({"dispatcher"})),
        tracking_no=number,
        department_id=office["radio"],
    )
    async with logged_in(app, "boss") as boss:
        await post(boss, PAGE, action="add", words="内部文件")
    async with logged_in(app, "radio_handler") as handler:
        page = (await handler.get(f"/staff/letters/{number}")).text
        assert NOTICE not in page
        response = await handler.post(
            f"/staff/letters/{number}",
            data={
                "action": "save_draft",
                "body": "您好，现附上内部文件一份，请查收。",
                "csrf_token": csrf_from(page),
            },
        )
        assert response.status_code == 303
        page = (await handler.get(f"/staff/letters/{number}")).text
        assert NOTICE in page
        assert '<span id="attention-words"><mark class="attention">内部文件</mark></span>' in page


async def test_an_edited_list_is_seen_on_the_next_request(
    app: Starlette, db: Database, office: dict[str, int]
) -> None:
    number = await new_letter(app, body="投诉某公司甲，又投诉某公司乙。")
    async with logged_in(app, "boss") as boss, logged_in(app, "dispatcher") as dispatcher:

        async def flagged() -> list[str]:
            page = (await dispatcher.get(f"/staff/letters/{number}")).text
            notice = re.search(r'<span id="attention-words">(.*?)</span>', page)
            return re.findall(r"<mark[^>]*>([^<]+)</mark>", notice.group(1)) if notice else []

        assert await flagged() == []
        await post(boss, PAGE, action="add", words="无关词 公司甲")
        assert await flagged() == ["公司甲"]
        # On SQLite the next word may take the deleted one's id, and the count stays the same:
        # the list's version still changes.
        await post(boss, PAGE, action="delete", id=str(await word_id(db, "公司甲")))
        await post(boss, PAGE, action="add", words="公司乙")
        assert await flagged() == ["公司乙"]
        await post(boss, PAGE, action="delete", id=str(await word_id(db, "公司乙")))
        assert await flagged() == []

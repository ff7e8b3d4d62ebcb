"""Publication: only with consent, only the masked and edited public copy, every step an event;
the archive, its Chinese search and its feed never show the original's personal data."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.applications import Starlette

from mailbox.db.database import Database
from mailbox.db.queries.letters import LetterRow, get_letter_by_tracking_no
from mailbox.domain.workflow import TransitionRefused
from mailbox.services import handling, intake, publication
from mailbox.services.transitions import Actor
from tests.helpers import csrf_from
from tests.services.conftest import add_department, new_letter, staff_actor
from tests.web.test_workspace import logged_in, office  # noqa: F401  (the fixture)

WRITER = {
    "name": "欧阳娜娜",
    "phone": "13912345678",
    "email": "ouyang@example.com",
    "body": "我叫欧阳娜娜，住在天山区幸福路街道和平小区3号楼2单元501室，电话13912345678。"
    "小区旁的基站晚上嗡嗡作响，希望核查。",
}
REPLY = "经无线电监测站实地检测，该基站辐射符合国家标准，噪声来自空调外机，已通知物业处理。"


async def replied_letter(app: Starlette, db: Database, *, consent: bool) -> str:
    """A consult letter, accepted, answered and released through the real services."""
    radio = await db.fetch_value("SELECT id FROM departments WHERE code = 'radio'")
    if radio is None:
        radio = await add_department(db, "radio", "无线电管理处")
    fields = dict(WRITER, publish_consent="1" if consent else "")
    number = await new_letter(app, "consult", **fields)
    settings, clock = app.state.settings, app.state.clock
    boss = await staff_actor(db, f"boss{number[-6:]}", "dispatcher", None)
    handler = await staff_actor(db, f"handler{number[-6:]}", "handler", radio)
    reviewer = await staff_actor(db, f"reviewer{number[-6:]}", "reviewer", radio)
    await intake.accept(
        db, settings=settings, clock=clock, actor=boss, tracking_no=number, department_id=radio
    )
    await handling.save_draft(db, clock=clock, actor=handler, tracking_no=number, body=REPLY)
    await handling.submit_for_review(db, clock=clock, actor=handler, tracking_no=number)
    await handling.approve(db, settings=settings, clock=clock, actor=reviewer, tracking_no=number)
    return number


def assert_no_personal_data(html: str) -> None:
    for secret in ("欧阳娜娜", "娜娜", "13912345678", "ouyang@example.com", "和平小区", "501室"):
        assert secret not in html, secret


async def test_the_service_refuses_without_consent(app: Starlette, db: Database) -> None:
    number = await replied_letter(app, db, consent=False)
    boss = Actor(user_id=None, roles=frozenset({"dispatcher"}))
    with pytest.raises(publication.NoConsent):
        await publication.publish(db, clock=app.state.clock, actor=boss, tracking_no=number)
    with pytest.raises(publication.NoConsent):
        await publication.save_copy(
            db,
            clock=app.state.clock,
            actor=boss,
            tracking_no=number,
            title="t",
            body="b",
            reply="r",
        )
    assert await db.fetch_value("SELECT COUNT(*) FROM publications") == 0


async def test_publish_edit_search_and_withdraw(
    app: Starlette, db: Database, client: httpx.AsyncClient
) -> None:
    number = await replied_letter(app, db, consent=True)
    hidden = await replied_letter(app, db, consent=True)  # never published
    boss = await staff_actor(db, "publisher", "dispatcher", None)
    clock = app.state.clock
    draft = await publication.draft_for(db, await _letter(db, number))
    assert draft is not None and not draft.saved
    assert "欧阳**" in draft.body and "139****5678" in draft.body
    assert_no_personal_data(draft.title + draft.body + draft.reply)

    await publication.publish(db, clock=clock, actor=boss, tracking_no=number)
    with pytest.raises(TransitionRefused):
        await publication.publish(db, clock=clock, actor=boss, tracking_no=number)
    page = await client.get(f"/letters/{number}")
    assert page.status_code == 200 and "欧阳**" in page.text and REPLY in page.text
    assert_no_personal_data(page.text)
    assert (await client.get(f"/letters/{hidden}")).status_code == 404

    # Search by a two-character word (a scan) and by a longer one (the trigram index).
    for word in ("基站", "嗡嗡作响", "空调外机"):
        found = await client.get("/letters", params={"q": word})
        assert number in found.text and hidden not in found.text, word
    assert number not in (await client.get("/letters", params={"q": "没有的词语"})).text

    await publication.save_copy(
        db,
        clock=clock,
        actor=boss,
        tracking_no=number,
        title="关于小区基站噪声的咨询",
        body="来信人反映小区旁基站夜间有噪声，希望核查。",
        reply=REPLY,
    )
    edited = await client.get(f"/letters/{number}")
    assert "来信人反映小区旁基站夜间有噪声" in edited.text and "欧阳" not in edited.text
    assert number in (await client.get("/letters", params={"q": "夜间有噪声"})).text

    feed = await client.get("/letters/feed.atom")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith(
        "application/atom+xml"
    )
    assert f"/letters/{number}" in feed.text and hidden not in feed.text
    assert_no_personal_data(feed.text)
    assert_no_personal_data((await client.get("/letters")).text)

    await publication.unpublish(db, clock=clock, actor=boss, tracking_no=number)
    assert (await client.get(f"/letters/{number}")).status_code == 404
    assert number not in (await client.get("/letters", params={"q": "基站"})).text
    kinds = [
        row["kind"]
        for row in await db.fetch_all(
            "SELECT e.kind FROM letter_events e JOIN letters l ON l.id = e.letter_id"
            " WHERE l.tracking_no = :n ORDER BY e.id",
            {"n": number},
        )
    ]
    assert kinds[-3:] == ["publish", "edit_publication", "unpublish"]
    published_at = await db.fetch_value(
        "SELECT published_at FROM letters WHERE tracking_no = :n", {"n": number}
    )
    assert published_at is None  # withdrawn: no longer counted as published


async def _letter(db: Database, number: str) -> LetterRow:
    letter = await get_letter_by_tracking_no(db, tracking_no=number)
    assert letter is not None
    return letter


async def test_the_dispatcher_publishes_from_the_letter_page(
    app: Starlette,
    db: Database,
    office: dict[str, str],  # noqa: F811
) -> None:
    consented = await replied_letter(app, db, consent=True)
    refused = await replied_letter(app, db, consent=False)
    async with logged_in(app, "dispatcher") as client:
        page = await client.get(f"/staff/letters/{consented}")
        assert 'id="publication"' in page.text
        assert "欧阳娜娜" in page.text  # the original, beside the copy, for staff
        body = re.search(r'<textarea id="pub-body"[^>]*>([^<]*)</textarea>', page.text)
        assert body and "欧阳**" in body.group(1) and "13912345678" not in body.group(1)
        response = await client.post(
            f"/staff/letters/{consented}",
            data={
                "csrf_token": csrf_from(page.text),
                "action": "publish",
                "pub_title": "基站噪声",
                "pub_body": "来信人反映基站噪声。",
                "pub_reply": REPLY,
            },
        )
        assert response.status_code == 303
        public = await client.get(f"/letters/{consented}")
        assert "来信人反映基站噪声。" in public.text  # what the form showed was published

        no = await client.get(f"/staff/letters/{refused}")
        assert "never published" in no.text or "不会公开" in no.text
        forced = await client.post(
            f"/staff/letters/{refused}",
            data={"csrf_token": csrf_from(no.text), "action": "publish"},
        )
        assert forced.status_code == 403
        empty = await client.post(
            f"/staff/letters/{consented}",
            data={
                "csrf_token": csrf_from(no.text),
                "action": "edit_publication",
                "pub_title": "",
                "pub_body": "x",
                "pub_reply": "y",
            },
        )
        assert empty.status_code == 400
    async with logged_in(app, "radio_handler") as handler:
        page = await handler.get(f"/staff/letters/{consented}")
        assert 'id="publication"' not in page.text
        denied = await handler.post(
            f"/staff/letters/{consented}",
            data={"csrf_token": csrf_from(page.text), "action": "unpublish"},
        )
        assert denied.status_code == 403
    assert await db.fetch_value(
        "SELECT is_published FROM publications p JOIN letters l ON l.id = p.letter_id"
        " WHERE l.tracking_no = :n",
        {"n": consented},
    )


async def test_archive_junk_parameters_are_400(client: httpx.AsyncClient) -> None:
    for params in (
        {"year": "abc"},
        {"year": "1999"},
        {"channel": "nope"},
        {"department": "-1"},
        {"after_at": "x", "after_id": "1"},
    ):
        assert (await client.get("/letters", params=params)).status_code == 400, params
    assert (await client.get("/letters", params={"q": "%_\\"})).status_code == 200

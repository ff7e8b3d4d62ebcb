"""The writer reads the reply by the mailed link and rates it once."""

from __future__ import annotations

import json

import httpx
from starlette.applications import Starlette

from mailbox.db.database import Database
from mailbox.services import handling, intake
from mailbox.services.transitions import Actor
from tests.helpers import csrf_from, csrf_token, submit_and_read_receipt
from tests.services.conftest import add_department

REPLY = "经核查，您反映的问题已处理完毕，感谢您的监督。"


async def reply_to(app: Starlette, number: str) -> str:
    """Accept, draft, review and release; the rating link from the reply mail."""
    db, clock, settings = app.state.db, app.state.clock, app.state.settings
    radio = await add_department(db, f"d{number[-6:]}", "无线电管理处")
    office = Actor(user_id=None, roles=frozenset({"dispatcher"}))
    team = Actor(user_id=None, roles=frozenset({"handler", "reviewer"}), department_id=radio)
    await intake.accept(
        db, settings=settings, clock=clock, actor=office, tracking_no=number, department_id=radio
    )
    from mailbox.db.queries import replies
    from mailbox.db.queries.letters import get_letter_by_tracking_no

    letter = await get_letter_by_tracking_no(db, tracking_no=number)
    assert letter is not None
    async with db.transaction() as conn:  # as the handler would, without a user row
        await replies.save_draft(
            conn,
            letter_id=letter.id,
            body=REPLY,
            author_user_id=None,  # type: ignore[arg-type]
            now=clock.now(),
        )
    await handling.submit_for_review(db, clock=clock, actor=team, tracking_no=number)
    await handling.approve(db, settings=settings, clock=clock, actor=team, tracking_no=number)
    row = await db.fetch_one("SELECT context FROM outbox WHERE kind = 'replied' ORDER BY id DESC")
    assert row is not None
    return f"/rate/{json.loads(row['context'])['rating_token']}"


async def test_rating_by_the_mailed_link(
    app: Starlette, client: httpx.AsyncClient, db: Database
) -> None:
    number, code = await submit_and_read_receipt(client)
    link = await reply_to(app, number)
    page = await client.get(link)
    assert page.status_code == 200 and REPLY in page.text and 'value="unsatisfied"' in page.text
    assert page.headers["referrer-policy"] == "same-origin"
    rated = await client.post(
        link,
        data={"rating": "unsatisfied", "comment": "没有解决", "csrf_token": csrf_from(page.text)},
    )
    assert rated.status_code == 200 and "已记录" in rated.text
    letter = await db.fetch_one("SELECT state, needs_follow_up FROM letters")
    assert letter is not None and letter["state"] == "closed" and letter["needs_follow_up"]
    again = await client.post(
        link, data={"rating": "satisfied", "csrf_token": await csrf_token(client, link)}
    )
    assert again.status_code == 409
    assert await db.fetch_value("SELECT COUNT(*) FROM ratings") == 1


async def test_track_offers_the_rating_while_it_is_open(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    number, code = await submit_and_read_receipt(client)
    link = await reply_to(app, number)
    token = await csrf_token(client)
    page = await client.post(
        "/track", data={"tracking_no": number, "query_code": code, "csrf_token": token}
    )
    assert REPLY in page.text and link in page.text
    app.state.clock.advance(days=16)
    page = await client.post(
        "/track", data={"tracking_no": number, "query_code": code, "csrf_token": token}
    )
    assert REPLY in page.text and "/rate/" not in page.text


async def test_a_made_up_or_changed_link_is_404(app: Starlette, client: httpx.AsyncClient) -> None:
    number, _code = await submit_and_read_receipt(client)
    link = await reply_to(app, number)
    assert (await client.get(link[:-3] + "abc")).status_code == 404
    assert (await client.get("/rate/nonsense")).status_code == 404
    assert (await client.post(link, data={"rating": "satisfied"})).status_code == 403
    bad = await client.post(
        link, data={"rating": "excellent", "csrf_token": await csrf_token(client, link)}
    )
    assert bad.status_code == 400

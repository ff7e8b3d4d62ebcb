"""The webhooks pages: only administrators, CSRF on every form, the secret shown once, plain
messages for bad input, the history with "send again", and every change in the audit log."""

from __future__ import annotations

import re

import httpx
from starlette.applications import Starlette

from mailbox.clock import FixedClock
from mailbox.db.database import Database
from mailbox.db.queries.outbox import Medium
from mailbox.db.queries.webhooks import HISTORY_PAGE_SIZE
from mailbox.mail.worker import MAX_ATTEMPTS, deliver_due
from mailbox.services import webhooks as service
from mailbox.services.admin import Admin
from mailbox.webhooks.transport import WebhookTransport
from tests.helpers import csrf_token
from tests.services.conftest import new_letter
from tests.web.test_admin import ADMIN_IP, logged_in, office, post
from tests.webhooks.conftest import Receiver

__all__ = ["office"]  # the fixture, used by name

LIST = "/staff/admin/webhooks"
ALL_EVENTS = {f"event_letter.{name}": "1" for name in ("submitted", "accepted", "overdue")}


def shown_secret(html: str) -> str:
    found = re.search(r'id="new-secret" class="code" readonly value="(whsec_[^"]+)"', html)
    assert found, html
    return found.group(1)


async def register(client: httpx.AsyncClient, url: str, **fields: str) -> httpx.Response:
    return await post(client, LIST, action="create", url=url, description="门户网站", **fields)


async def webhook_ids(db: Database) -> list[int]:
    return [row["id"] for row in await db.fetch_all("SELECT id FROM webhooks ORDER BY id")]


async def audited(db: Database) -> list[tuple[str, str, str]]:
    rows = await db.fetch_all(
        "SELECT action, target, client_ip FROM audit_log WHERE action LIKE 'webhook.%' ORDER BY id"
    )
    return [(row["action"], row["target"], row["client_ip"]) for row in rows]


async def deliver(app: Starlette) -> int:
    transport = WebhookTransport(app.state.settings)
    return await deliver_due(app.state.db, transport, app.state.clock, medium=Medium.WEBHOOK)


async def test_only_administrators_open_or_post_to_the_webhooks_pages(
    app: Starlette, db: Database, office: dict[str, int], receiver: Receiver
) -> None:
    webhook_id, _secret = await service.register(
        db,
        clock=app.state.clock,
        actor=Admin(office["boss"], ADMIN_IP),
        url=receiver.url,
        description="",
        events=["letter.submitted"],
    )
    pages = [LIST, f"{LIST}/{webhook_id}"]
    for name in ("dispatcher", "radio_handler", "radio_reviewer", "reporter"):
        async with logged_in(app, name) as client:
            for path in pages:
                assert (await client.get(path)).status_code == 403, (name, path)
            token = await csrf_token(client, "/staff/welcome")
            posted = await client.post(
                LIST, data={"action": "create", "url": receiver.url, "csrf_token": token}
            )
            assert posted.status_code == 403
            posted = await client.post(pages[1], data={"action": "new_secret", "csrf_token": token})
            assert posted.status_code == 403
    async with logged_in(app, "anonymous") as client:
        for path in pages:
            assert (await client.get(path)).status_code == 303
    async with logged_in(app, "boss") as client:
        for path in pages:
            response = await client.get(path)
            assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
        assert f'href="{LIST}"' in (await client.get("/staff/admin")).text
        assert (await client.get(f"{LIST}/{webhook_id + 1}")).status_code == 404
    assert await webhook_ids(db) == [webhook_id]
    assert await audited(db) == [("webhook.create", receiver.url, ADMIN_IP)]


async def test_webhook_forms_need_the_csrf_token(
    app: Starlette, db: Database, office: dict[str, int], receiver: Receiver
) -> None:
    async with logged_in(app, "boss") as client:
        created = await register(client, receiver.url, **ALL_EVENTS)
        [webhook_id] = await webhook_ids(db)
        secret = await db.fetch_value("SELECT secret FROM webhooks")
        for action in ("create", "new_secret", "deactivate", "delete", "test", "send_again"):
            path = LIST if action == "create" else f"{LIST}/{webhook_id}"
            data = {"action": action, "url": receiver.url, "confirm": "1", "id": "1"}
            assert (await client.post(path, data=data)).status_code == 403, action
            wrong = await client.post(path, data={**data, "csrf_token": "x.y"})
            assert wrong.status_code == 403, action
    assert created.status_code == 200
    assert await webhook_ids(db) == [webhook_id]
    assert await db.fetch_value("SELECT secret FROM webhooks") == secret
    assert await db.fetch_value("SELECT is_active FROM webhooks")
    assert await db.fetch_value("SELECT COUNT(*) FROM outbox") == 0
    assert len(await audited(db)) == 1


async def test_the_secret_is_shown_once_and_signs_the_test_event(
    app: Starlette, db: Database, office: dict[str, int], receiver: Receiver
) -> None:
    async with logged_in(app, "boss") as client:
        created = await register(client, receiver.url, **ALL_EVENTS)
        assert created.status_code == 200
        assert created.headers["cache-control"] == "no-store"
        secret = shown_secret(created.text)
        [webhook_id] = await webhook_ids(db)
        assert await db.fetch_value("SELECT secret FROM webhooks") == secret
        events = await db.fetch_all("SELECT event FROM webhook_events ORDER BY event")
        assert [row["event"] for row in events] == [
            "letter.accepted",
            "letter.overdue",
            "letter.submitted",
        ]
        page = await client.get(f"{LIST}/{webhook_id}")
        listing = await client.get(LIST)
        for later in (page, listing):
            assert secret not in later.text and receiver.url in later.text
        assert "A letter is overdue (escalation)" in page.text

        tested = await post(client, f"{LIST}/{webhook_id}", action="test")
        assert tested.status_code == 303
        assert await deliver(app) == 1
        [ping] = receiver.requests
        assert ping.json["event"] == "ping" and ping.json["letter"] is None
        assert ping.headers["x-mailbox-event"] == "ping"
        assert ping.signed_with(secret)
        history = await client.get(f"{LIST}/{webhook_id}")
        assert "Test event" in history.text and "Delivered on" in history.text

        renewed = await post(client, f"{LIST}/{webhook_id}", action="new_secret")
        assert renewed.status_code == 200 and renewed.headers["cache-control"] == "no-store"
        new_secret = shown_secret(renewed.text)
        assert new_secret != secret
        assert new_secret not in (await client.get(f"{LIST}/{webhook_id}")).text
    await new_letter(app)
    assert await deliver(app) == 1
    submitted = receiver.requests[-1]
    assert submitted.signed_with(new_secret) and not submitted.signed_with(secret)
    log = await db.fetch_all("SELECT action, data FROM audit_log WHERE action LIKE 'webhook.%'")
    assert [row["action"] for row in log] == [
        "webhook.create",
        "webhook.test",
        "webhook.new_secret",
    ]
    assert not [row for row in log if secret in row["data"] or new_secret in row["data"]]


BAD_INPUT = [
    ("", ALL_EVENTS, "Enter the address the events are sent to.", "请填写接收事件的网址。"),
    (
        "ftp://portal.example.gov.cn/hooks",
        ALL_EVENTS,
        "Enter a full web address that begins with https:// or http://",
        "请填写以 https:// 或 http:// 开头的完整网址",
    ),
    ("https://portal.example.gov.cn:99999/", ALL_EVENTS, "Enter a full web address", "完整网址"),
    ("portal.example.gov.cn/hooks", ALL_EVENTS, "Enter a full web address", "完整网址"),
    (
        "https://user:pass@portal.example.gov.cn/hooks",
        ALL_EVENTS,
        "Put no user name or password in the address",
        "网址中不要包含用户名或密码",
    ),
    (
        "https://portal.example.gov.cn/hooks",
        {},
        "Choose at least one event.",
        "请至少选择一个事件。",
    ),
]


async def test_bad_input_is_refused_with_a_plain_message_in_the_readers_language(
    app: Starlette, db: Database, office: dict[str, int]
) -> None:
    async with logged_in(app, "boss") as client:
        for url, events, english, chinese in BAD_INPUT:
            client.cookies.set("mb_lang", "en")
            refused = await register(client, url, **events)
            assert refused.status_code == 400 and english in refused.text, url
            assert 'value="门户网站"' in refused.text  # the input is kept
            client.cookies.set("mb_lang", "zh_CN")
            refused = await register(client, url, **events)
            assert refused.status_code == 400 and chinese in refused.text, url
    assert await webhook_ids(db) == []
    assert await audited(db) == []


async def test_deactivate_activate_and_delete_are_audited(
    app: Starlette, db: Database, office: dict[str, int], receiver: Receiver
) -> None:
    async with logged_in(app, "boss") as client:
        await register(client, receiver.url, **ALL_EVENTS)
        [webhook_id] = await webhook_ids(db)
        page = f"{LIST}/{webhook_id}"
        assert (await post(client, page, action="deactivate")).status_code == 303
        assert not await db.fetch_value("SELECT is_active FROM webhooks")
        shown = await client.get(page)
        assert "Deactivated" in shown.text and 'id="send-test"' not in shown.text
        assert (await post(client, page, action="activate")).status_code == 303
        assert await db.fetch_value("SELECT is_active FROM webhooks")
        await new_letter(app)
        unconfirmed = await post(client, page, action="delete")
        assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.text
        deleted = await post(client, page, action="delete", confirm="1")
        assert deleted.status_code == 303
        assert deleted.headers["location"] == f"{LIST}?done=1"
        assert (await client.get(page)).status_code == 404
    assert await webhook_ids(db) == []
    assert await db.fetch_value("SELECT COUNT(*) FROM outbox WHERE medium = 'webhook'") == 0
    assert [action for action, _url, _ip in await audited(db)] == [
        "webhook.create",
        "webhook.deactivate",
        "webhook.activate",
        "webhook.delete",
    ]


async def test_a_given_up_delivery_is_in_the_history_and_can_be_sent_again(
    app: Starlette, db: Database, clock: FixedClock, office: dict[str, int], receiver: Receiver
) -> None:
    async with logged_in(app, "boss") as client:
        await register(client, receiver.url, **ALL_EVENTS)
        secret = await db.fetch_value("SELECT secret FROM webhooks")
        [webhook_id] = await webhook_ids(db)
    page = f"{LIST}/{webhook_id}"
    receiver.stop()
    number = await new_letter(app)
    assert await deliver(app) == 0
    # As after a day and a half of retrying: the next failure is the last.
    async with db.transaction() as conn:
        await conn.execute("UPDATE outbox SET attempts = :n", {"n": MAX_ATTEMPTS - 1})
    clock.advance(hours=1)
    assert await deliver(app) == 0
    async with logged_in(app, "boss") as client:  # the first session has timed out meanwhile
        row = await db.fetch_one(
            "SELECT id, attempts, failed_at FROM outbox WHERE medium = 'webhook'"
        )
        assert row is not None and row["attempts"] == MAX_ATTEMPTS and row["failed_at"]
        delivery = str(row["id"])
        history = (await client.get(page)).text
        assert f'<tr id="delivery-{delivery}">' in history
        assert number in history and "Given up on" in history and "ConnectError" in history
        assert (
            "1 webhook message(s) could not be delivered" in (await client.get("/staff/admin")).text
        )
        assert ">1</td>" in (await client.get(LIST)).text  # given up, in the list

        receiver.start()
        assert (await post(client, page, action="send_again", id=delivery)).status_code == 303
        assert await deliver(app) == 1
        again = await post(client, page, action="send_again", id=delivery)
        assert again.status_code == 400
        assert "Only a delivery that was given up can be sent again." in again.text
        other = await post(client, page, action="send_again", id=str(int(delivery) + 100))
        assert other.status_code == 404
        assert "Delivered on" in (await client.get(page)).text
    [request] = receiver.requests
    assert request.json["event"] == "letter.submitted" and request.signed_with(secret)
    assert request.headers["x-mailbox-delivery"] == delivery
    assert [action for action, _url, _ip in await audited(db)] == [
        "webhook.create",
        "webhook.send_again",
    ]


async def test_the_history_is_paged_newest_first(
    app: Starlette, db: Database, office: dict[str, int], receiver: Receiver
) -> None:
    boss = Admin(office["boss"], ADMIN_IP)
    webhook_id, _secret = await service.register(
        db,
        clock=app.state.clock,
        actor=boss,
        url=receiver.url,
        description="",
        events=["letter.rated"],
    )
    sent = [
        await service.send_test(db, clock=app.state.clock, actor=boss, webhook_id=webhook_id)
        for _ in range(HISTORY_PAGE_SIZE + 1)
    ]
    async with logged_in(app, "boss") as client:
        first = (await client.get(f"{LIST}/{webhook_id}")).text
        shown = [int(n) for n in re.findall(r'<tr id="delivery-(\d+)">', first)]
        assert shown == sorted(sent, reverse=True)[:HISTORY_PAGE_SIZE]
        more = re.search(r'href="\?before=(\d+)"', first)
        assert more and int(more.group(1)) == shown[-1]
        second = (await client.get(f"{LIST}/{webhook_id}?before={more.group(1)}")).text
        assert re.findall(r'<tr id="delivery-(\d+)">', second) == [str(min(sent))]
        assert "?before=" not in second

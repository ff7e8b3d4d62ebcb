"""Receipt mail through the outbox and a real SMTP server: sent once, kept through outages."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx
from starlette.applications import Starlette

from mailbox.app import create_app
from mailbox.clock import FixedClock
from mailbox.db.database import Database
from mailbox.mail.transport import SmtpTransport
from mailbox.mail.worker import deliver_due
from mailbox.settings import Settings
from tests.helpers import submit_and_read_receipt
from tests.mail.conftest import SmtpServer


def smtp_settings(settings: Settings, server: SmtpServer) -> Settings:
    return replace(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=server.port,
        mail_from="信箱 <mailbox@example.gov.cn>",
    )


async def test_the_receipt_arrives_with_the_tracking_number(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    clock: FixedClock,
    smtp_server: SmtpServer,
) -> None:
    number, code = await submit_and_read_receipt(client)
    sent = await deliver_due(db, SmtpTransport(smtp_settings(settings, smtp_server)), clock)
    assert sent == 1
    [message] = smtp_server.messages
    assert message["To"] == "zhang@example.com"
    assert number in message["Subject"]
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert number in text.get_content() and code in text.get_content()
    assert number in html.get_content() and "尊敬的张三丰" in text.get_content()
    row = await db.fetch_one("SELECT sent_at, attempts, context FROM outbox")
    assert row is not None and row["sent_at"] is not None and row["attempts"] == 1
    assert row["context"] == "{}"  # the query code is not kept once the mail is out


async def test_an_english_writer_gets_english_mail(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    clock: FixedClock,
    smtp_server: SmtpServer,
) -> None:
    client.cookies.set("mb_lang", "en")
    number, _code = await submit_and_read_receipt(client)
    await deliver_due(db, SmtpTransport(smtp_settings(settings, smtp_server)), clock)
    [message] = smtp_server.messages
    assert message["Subject"] == f"Your letter {number} has been received"


async def test_smtp_outage_keeps_the_letter_and_sends_once_afterwards(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    clock: FixedClock,
    smtp_server: SmtpServer,
) -> None:
    transport = SmtpTransport(smtp_settings(settings, smtp_server))
    smtp_server.stop()
    number, _code = await submit_and_read_receipt(client)  # the citizen sees no error
    assert await db.fetch_value("SELECT COUNT(*) FROM letters") == 1
    assert await deliver_due(db, transport, clock) == 0
    row = await db.fetch_one("SELECT attempts, last_error, sent_at FROM outbox")
    assert row is not None and row["attempts"] == 1 and row["sent_at"] is None
    assert row["last_error"]
    smtp_server.start()
    assert await deliver_due(db, transport, clock) == 0  # not due again yet: backoff
    clock.advance(seconds=31)
    assert await deliver_due(db, transport, clock) == 1
    clock.advance(hours=2)
    assert await deliver_due(db, transport, clock) == 0
    assert [m["Subject"] for m in smtp_server.messages] == [f"您的来信（编号{number}）已收到"]


async def test_the_worker_in_the_server_sends_without_being_asked(
    settings: Settings, clock: FixedClock, smtp_server: SmtpServer
) -> None:
    app: Starlette = create_app(smtp_settings(settings, smtp_server), clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            number, _code = await submit_and_read_receipt(client)
        for _ in range(100):
            if smtp_server.messages:
                break
            await asyncio.sleep(0.05)
    assert len(smtp_server.messages) == 1 and number in smtp_server.messages[0]["Subject"]


async def test_mail_waits_in_the_outbox_without_smtp_settings(
    client: httpx.AsyncClient, db: Database
) -> None:
    await submit_and_read_receipt(client)
    receipt_row = await db.fetch_one("SELECT sent_at, attempts FROM outbox")
    assert receipt_row is not None and receipt_row["sent_at"] is None
    assert receipt_row["attempts"] == 0


async def test_the_receipt_page_says_whether_the_mail_went_out(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    clock: FixedClock,
    smtp_server: SmtpServer,
) -> None:
    from tests.helpers import post_letter

    assert (await post_letter(client)).status_code == 303
    await deliver_due(db, SmtpTransport(smtp_settings(settings, smtp_server)), clock)
    receipt = await client.get("/receipt")
    assert "回执邮件已发送给您" in receipt.text


async def test_decision_mails_render_in_the_writers_language(
    app: Starlette,
    db: Database,
    settings: Settings,
    clock: FixedClock,
    smtp_server: SmtpServer,
) -> None:
    from mailbox.services import intake
    from mailbox.services.transitions import Actor
    from tests.services.conftest import add_department, new_letter

    office = Actor(user_id=None, roles=frozenset({"dispatcher"}))
    radio = await add_department(db, "radio", "无线电管理处")
    accepted, rejected = await new_letter(app), await new_letter(app)
    await intake.accept(
        db, settings=settings, clock=clock, actor=office, tracking_no=accepted, department_id=radio
    )
    await intake.reject(db, clock=clock, actor=office, tracking_no=rejected, reason_code="not_ours")
    await deliver_due(db, SmtpTransport(smtp_settings(settings, smtp_server)), clock)
    subjects = {m["Subject"]: m for m in smtp_server.messages}
    accept_mail = subjects[f"您的来信（编号{accepted}）已受理"].get_body(("plain",))
    assert accept_mail is not None and "2026年10月13日前答复" in accept_mail.get_content()
    reject_mail = subjects[f"您的来信（编号{rejected}）不予受理"].get_body(("plain",))
    assert reject_mail is not None and "12345" in reject_mail.get_content()


async def test_a_worker_whose_claims_ran_out_sends_nothing_twice(
    app: Starlette, db: Database, clock: FixedClock
) -> None:
    """Worker A claims two mails but is held up until its claims run out; worker B takes
    them over and sends them. When A gets going again it must not send them a second time."""
    from mailbox.db.queries import outbox
    from mailbox.db.queries.outbox import Outgoing
    from mailbox.mail.worker import CLAIM_FOR
    from tests.services.conftest import new_letter

    await new_letter(app)
    await new_letter(app)
    sent: list[int] = []

    class Recording:
        async def send(self, mail: Outgoing) -> None:
            sent.append(mail.id)

    async with db.transaction() as conn:
        held = await outbox.claim_due(
            conn, now=clock.now(), until=clock.now() + CLAIM_FOR, limit=10, token="worker-a"
        )
    assert len(held) == 2
    clock.advance(seconds=CLAIM_FOR.total_seconds() + 1)
    assert await deliver_due(db, Recording(), clock) == 2  # worker B
    for mail in held:
        async with db.transaction() as conn:
            assert not await outbox.start_attempt(
                conn,
                outbox_id=mail.id,
                token="worker-a",
                now=clock.now(),
                until=clock.now() + CLAIM_FOR,
            )
    assert sorted(sent) == [mail.id for mail in held]


async def test_given_up_mail_can_be_sent_again_until_housekeeping_forgets_it(
    client: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    from mailbox.db.queries import outbox
    from mailbox.services.housekeeping import tidy

    await submit_and_read_receipt(client)
    async with db.transaction() as conn:
        [mail] = await outbox.claim_due(
            conn, now=clock.now(), until=clock.now(), limit=1, token="t"
        )
        await outbox.mark_failed(
            conn,
            outbox_id=mail.id,
            token="t",
            error="550 no such user",
            retry_at=None,
            now=clock.now(),
        )
    row = await db.fetch_one("SELECT failed_at, context FROM outbox")
    assert row is not None and row["failed_at"] is not None and "query_code" in row["context"]
    clock.advance(days=31)
    await tidy(db, clock)
    assert await db.fetch_value("SELECT context FROM outbox") == "{}"

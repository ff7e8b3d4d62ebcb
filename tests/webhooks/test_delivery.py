"""Webhook deliveries through the outbox to a real receiver on loopback: each event once,
signed, without personal data; retried with backoff while the receiver is down."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from starlette.applications import Starlette

from mailbox import __version__
from mailbox.app import create_app
from mailbox.clock import FixedClock
from mailbox.db.database import Database
from mailbox.db.queries.outbox import Medium
from mailbox.domain.workflow import Action
from mailbox.mail.worker import FIRST_RETRY, deliver_due
from mailbox.services import handling, intake
from mailbox.services import webhooks as service
from mailbox.services.admin import Admin
from mailbox.services.handling import Rating
from mailbox.services.reminders import run_reminders
from mailbox.services.transitions import Actor, Change, load_letter, transition
from mailbox.settings import Settings
from mailbox.webhooks.payload import Event
from mailbox.webhooks.transport import WebhookTransport
from tests.helpers import GOOD_LETTER, post_letter
from tests.live import ROOT, server_environment
from tests.services.conftest import new_letter, staff_actor
from tests.services.test_handling import REPLY
from tests.webhooks.conftest import Receiver

BEIJING = ZoneInfo("Asia/Shanghai")
WEBHOOK_ROWS = "SELECT COUNT(*) FROM outbox WHERE medium = 'webhook'"
PERSONAL = [GOOD_LETTER[field] for field in ("name", "phone", "email", "address", "body", "title")]


@pytest.fixture
async def boss(db: Database) -> Admin:
    admin = await staff_actor(db, "boss", "admin", None)
    assert admin.user_id is not None
    return Admin(user_id=admin.user_id, client_ip="198.51.100.1")


async def subscribe(
    app: Starlette, boss: Admin, url: str, events: list[Event] | None = None
) -> tuple[int, str]:
    """A webhook registered by an administrator; its id and secret."""
    return await service.register(
        app.state.db,
        clock=app.state.clock,
        actor=boss,
        url=url,
        description="门户网站",
        events=list(events or Event),
    )


async def the_delivery(db: Database) -> dict[str, Any]:
    row = await db.fetch_one("SELECT * FROM outbox WHERE medium = 'webhook'")
    assert row is not None
    return dict(row)


async def deliver(app: Starlette) -> int:
    transport = WebhookTransport(app.state.settings)
    return await deliver_due(app.state.db, transport, app.state.clock, medium=Medium.WEBHOOK)


async def accept(app: Starlette, number: str, actor: Actor, department_id: int) -> None:
    await intake.accept(
        app.state.db,
        settings=app.state.settings,
        clock=app.state.clock,
        actor=actor,
        tracking_no=number,
        department_id=department_id,
    )


async def test_each_event_arrives_once_signed_and_without_personal_data(
    app: Starlette,
    db: Database,
    settings: Settings,
    clock: FixedClock,
    receiver: Receiver,
    boss: Admin,
    departments: dict[str, int],
    dispatcher: Actor,
    handler: Actor,
    reviewer: Actor,
) -> None:
    _id, secret = await subscribe(app, boss, receiver.url)
    number = await new_letter(app)
    await accept(app, number, dispatcher, departments["radio"])
    await handling.save_draft(db, clock=clock, actor=handler, tracking_no=number, body=REPLY)
    await handling.submit_for_review(db, clock=clock, actor=handler, tracking_no=number)
    await handling.approve(db, settings=settings, clock=clock, actor=reviewer, tracking_no=number)
    await handling.rate(db, clock=clock, tracking_no=number, rating=Rating.BASICALLY_SATISFIED)
    late = await new_letter(app)
    await accept(app, late, dispatcher, departments["radio"])
    # Due at the end of Tuesday 13 October (5 working days after 国庆); escalated on the 14th.
    clock.moment = datetime(2026, 10, 14, 9, 30, tzinfo=BEIJING)
    await run_reminders(db, settings=settings, clock=clock)

    assert await deliver(app) == 7
    assert await deliver(app) == 0
    clock.advance(hours=2)
    assert await deliver(app) == 0
    received = receiver.requests
    assert [(r.json["event"], r.json["letter"]["tracking_no"]) for r in received] == [
        ("letter.submitted", number),
        ("letter.accepted", number),
        ("letter.replied", number),
        ("letter.rated", number),
        ("letter.submitted", late),
        ("letter.accepted", late),
        ("letter.overdue", late),
    ]
    for request in received:
        assert request.signed_with(secret)
        assert not request.signed_with(secret + "x")
        assert request.path == "/hooks/mailbox"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["user-agent"] == f"mailbox-webhooks/{__version__}"
        assert request.headers["x-mailbox-event"] == request.json["event"]
        assert request.headers["x-mailbox-delivery"] == str(request.json["id"])
        text = request.body.decode()
        assert not [value for value in PERSONAL if value in text]
        assert "203.0.113" not in text  # the writer's address
    assert len({r.json["id"] for r in received}) == 7

    start = "2026-09-30T10:00:00+08:00"
    deadline = "2026-10-14T00:00:00+08:00"  # the midnight that ends 13 October
    submitted, accepted, replied, rated = (r.json for r in received[:4])
    assert submitted["occurred_at"] == start
    assert submitted["letter"] == {
        "tracking_no": number,
        "channel": "consult",
        "state": "pending",
        "department": None,
        "submitted_at": start,
        "due_at": None,
    }
    assert submitted["data"] == {}
    assert accepted["letter"] == {
        **submitted["letter"],
        "state": "assigned",
        "department": "radio",
        "due_at": deadline,
    }
    assert replied["letter"]["state"] == "replied" and replied["data"] == {}
    assert rated["letter"]["state"] == "closed"
    assert rated["data"] == {"rating": "basically_satisfied"}
    overdue = received[6].json
    assert overdue["occurred_at"] == "2026-10-14T09:30:00+08:00"
    assert overdue["letter"]["state"] == "assigned" and overdue["letter"]["due_at"] == deadline
    assert overdue["data"] == {"due_at": deadline, "days_overdue": 1}


async def test_only_active_webhooks_subscribed_to_the_event_get_it(
    app: Starlette,
    db: Database,
    clock: FixedClock,
    receiver: Receiver,
    boss: Admin,
    departments: dict[str, int],
    dispatcher: Actor,
) -> None:
    await subscribe(app, boss, f"{receiver.url}?only=accepted", [Event.ACCEPTED])
    paused, _secret = await subscribe(app, boss, f"{receiver.url}?paused")
    await service.set_active(db, clock=clock, actor=boss, webhook_id=paused, active=False)
    number = await new_letter(app)
    await accept(app, number, dispatcher, departments["radio"])
    assert await deliver(app) == 1
    [request] = receiver.requests
    assert request.path == "/hooks/mailbox?only=accepted"
    assert request.json["event"] == "letter.accepted"
    # Nothing was even queued for the inactive webhook.
    assert (
        await db.fetch_value("SELECT COUNT(*) FROM outbox WHERE webhook_id = :id", {"id": paused})
        == 0
    )


async def test_a_deactivated_webhooks_waiting_deliveries_go_once_it_is_active_again(
    app: Starlette, db: Database, clock: FixedClock, receiver: Receiver, boss: Admin
) -> None:
    webhook_id, _secret = await subscribe(app, boss, receiver.url)
    await new_letter(app)
    await service.set_active(db, clock=clock, actor=boss, webhook_id=webhook_id, active=False)
    assert await deliver(app) == 0
    assert receiver.requests == []
    await service.set_active(db, clock=clock, actor=boss, webhook_id=webhook_id, active=True)
    assert await deliver(app) == 1
    assert [r.json["event"] for r in receiver.requests] == ["letter.submitted"]


async def test_deliveries_are_queued_in_the_transaction_of_the_change(
    app: Starlette,
    db: Database,
    clock: FixedClock,
    receiver: Receiver,
    boss: Admin,
    departments: dict[str, int],
) -> None:
    await subscribe(app, boss, receiver.url, [Event.ACCEPTED])
    number = await new_letter(app)
    office = Actor(user_id=None, roles=frozenset({"dispatcher"}))
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            letter = await load_letter(conn, number)
            await transition(
                conn,
                letter=letter,
                action=Action.ACCEPT,
                actor=office,
                now=clock.now(),
                change=Change(fields={"department_id": departments["radio"]}),
            )
            assert await conn.fetch_value(WEBHOOK_ROWS) == 1
            raise RuntimeError("the step fails after the transition")
    assert await db.fetch_value(WEBHOOK_ROWS) == 0
    assert await db.fetch_value("SELECT state FROM letters") == "pending"


async def test_while_the_receiver_is_down_deliveries_are_retried_and_arrive_once_after(
    app: Starlette, db: Database, clock: FixedClock, receiver: Receiver, boss: Admin
) -> None:
    _id, secret = await subscribe(app, boss, receiver.url)
    receiver.stop()
    await new_letter(app)
    assert await deliver(app) == 0
    row = await the_delivery(db)
    assert row["attempts"] == 1 and row["sent_at"] is None
    assert row["last_error"].startswith("ConnectError")
    assert row["send_after"] == clock.now() + FIRST_RETRY
    assert await deliver(app) == 0  # not due again yet: backoff
    assert (await the_delivery(db))["attempts"] == 1

    clock.advance(seconds=FIRST_RETRY.total_seconds())
    receiver.status = 503
    receiver.start()  # back, but not ready yet
    assert await deliver(app) == 0
    row = await the_delivery(db)
    assert row["attempts"] == 2
    assert row["last_error"] == "HTTP 503 Service Unavailable"
    assert row["send_after"] == clock.now() + 2 * FIRST_RETRY  # twice as long

    clock.advance(seconds=2 * FIRST_RETRY.total_seconds() - 1)
    receiver.status = 200
    assert await deliver(app) == 0  # still waiting
    clock.advance(seconds=1)
    assert await deliver(app) == 1
    delivered_at = clock.now()
    clock.advance(hours=3)
    assert await deliver(app) == 0
    refused, taken = receiver.requests
    assert (refused.answered, taken.answered) == (503, 200)
    # The same delivery, byte for byte, on every attempt.
    assert refused.body == taken.body and taken.signed_with(secret)
    assert [r.json["event"] for r in receiver.delivered()] == ["letter.submitted"]
    row = await the_delivery(db)
    assert row["attempts"] == 3 and row["last_error"] == ""
    assert row["sent_at"] == delivered_at
    assert '"letter.submitted"' in row["context"]  # kept as history


async def test_a_redirect_is_not_followed(
    app: Starlette, db: Database, receiver: Receiver, boss: Admin
) -> None:
    await subscribe(app, boss, receiver.url)
    receiver.status = 307
    await new_letter(app)
    assert await deliver(app) == 0
    assert (await the_delivery(db))["last_error"] == "HTTP 307 Temporary Redirect"


async def test_the_servers_own_worker_delivers_without_smtp(
    settings: Settings, clock: FixedClock, receiver: Receiver, boss: Admin
) -> None:
    assert not settings.smtp_configured
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        _id, secret = await subscribe(app, boss, receiver.url)
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            assert (await post_letter(client)).status_code == 303
        for _ in range(100):
            if receiver.requests:
                break
            await asyncio.sleep(0.05)
    [request] = receiver.requests
    assert request.json["event"] == "letter.submitted" and request.signed_with(secret)


async def test_the_worker_command_delivers_webhooks_without_smtp(
    app: Starlette,
    settings: Settings,
    clock: FixedClock,
    receiver: Receiver,
    boss: Admin,
    tmp_path: Path,
) -> None:
    clock.moment = datetime(2025, 3, 3, 10, tzinfo=BEIJING)  # due, for the worker's real clock
    _id, secret = await subscribe(app, boss, receiver.url)
    await new_letter(app)
    env = server_environment(settings.database_url, tmp_path / "var")
    process = subprocess.Popen(
        [sys.executable, "-m", "mailbox", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(200):
            if receiver.requests or process.poll() is not None:
                break
            await asyncio.sleep(0.05)
    finally:
        process.terminate()
        _out, errors = process.communicate(timeout=10)
    assert b"MAILBOX_SMTP_HOST is not set" in errors
    [request] = receiver.requests
    assert request.json["event"] == "letter.submitted" and request.signed_with(secret)


def test_a_deadline_in_the_body_is_office_time() -> None:
    from mailbox.webhooks.payload import body

    kept = {"event": "ping", "occurred_at": "2026-09-30T02:00:00+00:00", "letter": None}
    sent = body(7, kept, BEIJING)
    assert sent == (
        b'{"id":7,"event":"ping","occurred_at":"2026-09-30T10:00:00+08:00","letter":null}'
    )
    assert body(7, kept, BEIJING) == sent

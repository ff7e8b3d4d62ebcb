"""Intake decisions through the service layer, on both databases: state, event, deadline, mail."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from starlette.applications import Starlette

from mailbox.db.database import Database
from mailbox.domain.workflow import TransitionRefused
from mailbox.services import intake
from mailbox.services.transitions import Actor, NotPermitted
from tests.services.conftest import new_letter


async def letter_row(db: Database, tracking_no: str) -> dict[str, object]:
    row = await db.fetch_one("SELECT * FROM letters WHERE tracking_no = :t", {"t": tracking_no})
    assert row is not None
    return dict(row)


async def last_event(db: Database, tracking_no: str) -> dict[str, object]:
    row = await db.fetch_one(
        "SELECT e.* FROM letter_events e JOIN letters l ON l.id = e.letter_id"
        " WHERE l.tracking_no = :t ORDER BY e.id DESC LIMIT 1",
        {"t": tracking_no},
    )
    assert row is not None
    return dict(row)


async def mails(db: Database, kind: str) -> list[dict[str, object]]:
    rows = await db.fetch_all("SELECT * FROM outbox WHERE kind = :k ORDER BY id", {"k": kind})
    return [{**row, "context": json.loads(row["context"])} for row in rows]


async def test_accepting_fixes_the_deadline_in_working_days(
    app: Starlette, db: Database, dispatcher: Actor, departments: dict[str, int]
) -> None:
    number = await new_letter(app, "consult")  # 5 working days; 2026-09-30 10:00 in Beijing
    due_at = await intake.accept(
        db,
        settings=app.state.settings,
        clock=app.state.clock,
        actor=dispatcher,
        tracking_no=number,
        department_id=departments["radio"],
    )
    # 国庆 1–7 October; 8, 9, 10 (a 调休 Saturday), 12, 13 → due at the end of 13 October.
    assert due_at == datetime(2026, 10, 13, 16, 0, tzinfo=UTC)
    letter = await letter_row(db, number)
    assert letter["state"] == "assigned" and letter["due_at"] == due_at
    assert letter["department_id"] == departments["radio"]
    event = await last_event(db, number)
    assert (event["kind"], event["from_state"], event["to_state"]) == (
        "accept",
        "pending",
        "assigned",
    )
    assert event["actor_user_id"] == dispatcher.user_id
    [mail] = await mails(db, "accepted")
    assert mail["recipient"] == "zhang@example.com" and mail["context"]["tracking_no"] == number


async def test_a_letter_cannot_be_accepted_twice(
    app: Starlette, db: Database, dispatcher: Actor, departments: dict[str, int]
) -> None:
    number = await new_letter(app)
    accept = dict(
        settings=app.state.settings,
        clock=app.state.clock,
        actor=dispatcher,
        tracking_no=number,
        department_id=departments["radio"],
    )
    await intake.accept(db, **accept)  # type: ignore[arg-type]
    with pytest.raises(TransitionRefused):
        await intake.accept(db, **accept)  # type: ignore[arg-type]
    assert await db.fetch_value("SELECT COUNT(*) FROM letter_events") == 2
    assert len(await mails(db, "accepted")) == 1


async def test_a_handler_cannot_accept(
    app: Starlette, db: Database, handler: Actor, departments: dict[str, int]
) -> None:
    number = await new_letter(app)
    with pytest.raises(NotPermitted):
        await intake.accept(
            db,
            settings=app.state.settings,
            clock=app.state.clock,
            actor=handler,
            tracking_no=number,
            department_id=departments["radio"],
        )
    assert (await letter_row(db, number))["state"] == "pending"
    assert await db.fetch_value("SELECT COUNT(*) FROM letter_events") == 1


async def test_rejecting_tells_the_writer_why_and_where_to_turn(
    app: Starlette, db: Database, dispatcher: Actor
) -> None:
    number = await new_letter(app)
    await intake.reject(
        db,
        clock=app.state.clock,
        actor=dispatcher,
        tracking_no=number,
        reason_code="in_litigation",
        note="请向法院咨询",
    )
    assert (await letter_row(db, number))["state"] == "rejected"
    event = await last_event(db, number)
    assert event["kind"] == "reject" and event["note"] == "涉诉涉法"
    [mail] = await mails(db, "rejected")
    assert mail["context"]["reason"] == "涉诉涉法" and "仲裁" in mail["context"]["advice"]


async def test_an_unknown_reason_changes_nothing(
    app: Starlette, db: Database, dispatcher: Actor
) -> None:
    number = await new_letter(app)
    with pytest.raises(intake.InvalidDecision):
        await intake.reject(
            db, clock=app.state.clock, actor=dispatcher, tracking_no=number, reason_code="made_up"
        )
    assert (await letter_row(db, number))["state"] == "pending"


async def test_spam_is_kept_hidden_and_can_be_restored(
    app: Starlette, db: Database, dispatcher: Actor
) -> None:
    number = await new_letter(app)
    await intake.mark_spam(db, clock=app.state.clock, actor=dispatcher, tracking_no=number)
    assert (await letter_row(db, number))["state"] == "spam"
    assert not (await last_event(db, number))["is_public"]
    await intake.restore(db, clock=app.state.clock, actor=dispatcher, tracking_no=number)
    assert (await letter_row(db, number))["state"] == "pending"
    assert await db.fetch_value("SELECT COUNT(*) FROM outbox WHERE kind <> 'receipt'") == 0


async def test_a_duplicate_points_to_its_original(
    app: Starlette, db: Database, dispatcher: Actor
) -> None:
    original = await new_letter(app)
    repeat = await new_letter(app)
    await intake.merge(
        db,
        clock=app.state.clock,
        actor=dispatcher,
        tracking_no=repeat,
        original_tracking_no=original,
    )
    letter = await letter_row(db, repeat)
    assert letter["state"] == "duplicate"
    assert letter["duplicate_of_id"] == (await letter_row(db, original))["id"]
    [mail] = await mails(db, "merged")
    assert mail["context"]["original"] == original
    with pytest.raises(intake.InvalidDecision):
        await intake.merge(
            db,
            clock=app.state.clock,
            actor=dispatcher,
            tracking_no=original,
            original_tracking_no=original,
        )

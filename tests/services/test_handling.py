"""Drafts, review, release, returns, extensions, ratings and reopening, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from starlette.applications import Starlette

from mailbox.clock import FixedClock
from mailbox.db.database import Database
from mailbox.domain.workflow import TransitionRefused
from mailbox.services import handling, intake
from mailbox.services.handling import Rating
from mailbox.services.transitions import Actor, NotPermitted
from tests.services.conftest import new_letter
from tests.services.test_intake import last_event, letter_row, mails

REPLY = "您好，经核查，该基站已依法办理审批手续，辐射检测结果符合国家标准。"


@pytest.fixture
async def assigned(
    app: Starlette, db: Database, dispatcher: Actor, departments: dict[str, int]
) -> str:
    number = await new_letter(app, "consult")
    await intake.accept(
        db,
        settings=app.state.settings,
        clock=app.state.clock,
        actor=dispatcher,
        tracking_no=number,
        department_id=departments["radio"],
    )
    return number


async def test_draft_review_send_back_and_approve(
    app: Starlette, db: Database, assigned: str, handler: Actor, reviewer: Actor
) -> None:
    clock: FixedClock = app.state.clock
    with pytest.raises(handling.InvalidWork):
        await handling.submit_for_review(db, clock=clock, actor=handler, tracking_no=assigned)
    await handling.save_draft(db, clock=clock, actor=handler, tracking_no=assigned, body="草稿" * 5)
    await handling.submit_for_review(db, clock=clock, actor=handler, tracking_no=assigned)
    assert (await letter_row(db, assigned))["state"] == "review"
    await handling.send_back(
        db, clock=clock, actor=reviewer, tracking_no=assigned, comment="请补充检测机构名称"
    )
    event = await last_event(db, assigned)
    assert event["kind"] == "send_back" and not event["is_public"]
    assert event["note"] == "请补充检测机构名称"
    await handling.save_draft(db, clock=clock, actor=handler, tracking_no=assigned, body=REPLY)
    await handling.submit_for_review(db, clock=clock, actor=handler, tracking_no=assigned)
    clock.advance(hours=2)
    await handling.approve(
        db, settings=app.state.settings, clock=clock, actor=reviewer, tracking_no=assigned
    )
    letter = await letter_row(db, assigned)
    assert letter["state"] == "replied" and letter["replied_at"] == clock.now()
    released = await db.fetch_all("SELECT body, released_at FROM replies")
    assert [r["body"] for r in released] == [REPLY]  # one draft, revised, then released
    [mail] = await mails(db, "replied")
    assert mail["context"]["tracking_no"] == assigned


async def test_another_departments_handler_and_reviewer_are_refused(
    app: Starlette, db: Database, assigned: str, departments: dict[str, int]
) -> None:
    clock = app.state.clock
    outsider = Actor(
        user_id=None, roles=frozenset({"handler", "reviewer"}), department_id=departments["policy"]
    )
    with pytest.raises(TransitionRefused):
        await handling.save_draft(db, clock=clock, actor=outsider, tracking_no=assigned, body=REPLY)
    with pytest.raises(NotPermitted):
        await handling.return_to_office(
            db, clock=clock, actor=outsider, tracking_no=assigned, reason="不是我们的"
        )
    assert (await letter_row(db, assigned))["state"] == "assigned"


async def test_release_directly_only_without_review(
    app: Starlette, db: Database, assigned: str, handler: Actor
) -> None:
    clock, settings = app.state.clock, app.state.settings
    await handling.save_draft(db, clock=clock, actor=handler, tracking_no=assigned, body=REPLY)
    with pytest.raises(TransitionRefused):
        await handling.release_directly(
            db, settings=settings, clock=clock, actor=handler, tracking_no=assigned
        )
    await db.execute(
        "UPDATE channels SET review_required = :no WHERE code = 'consult'", {"no": False}
    )
    await handling.release_directly(
        db, settings=settings, clock=clock, actor=handler, tracking_no=assigned
    )
    assert (await letter_row(db, assigned))["state"] == "replied"


async def test_return_and_reassign_keep_the_deadline(
    app: Starlette,
    db: Database,
    assigned: str,
    handler: Actor,
    dispatcher: Actor,
    departments: dict[str, int],
) -> None:
    clock = app.state.clock
    due_before = (await letter_row(db, assigned))["due_at"]
    await handling.return_to_office(
        db, clock=clock, actor=handler, tracking_no=assigned, reason="属于政策法规处职责"
    )
    assert (await letter_row(db, assigned))["state"] == "returned"
    await intake.reassign(
        db, clock=clock, actor=dispatcher, tracking_no=assigned, department_id=departments["policy"]
    )
    letter = await letter_row(db, assigned)
    assert letter["state"] == "assigned" and letter["department_id"] == departments["policy"]
    assert letter["due_at"] == due_before


async def test_extension_moves_the_deadline_only_when_granted(
    app: Starlette, db: Database, assigned: str, handler: Actor, dispatcher: Actor
) -> None:
    clock, settings = app.state.clock, app.state.settings
    first = await handling.request_extension(
        db, clock=clock, actor=handler, tracking_no=assigned, working_days=3, reason="需要现场检测"
    )
    with pytest.raises(handling.InvalidWork):
        await handling.request_extension(
            db, clock=clock, actor=handler, tracking_no=assigned, working_days=3, reason="再次"
        )
    refused = await handling.decide_extension(
        db, settings=settings, clock=clock, actor=dispatcher, request_id=first, grant=False
    )
    assert refused is None
    assert (await letter_row(db, assigned))["due_at"] == datetime(2026, 10, 13, 16, tzinfo=UTC)
    second = await handling.request_extension(
        db, clock=clock, actor=handler, tracking_no=assigned, working_days=3, reason="需要现场检测"
    )
    new_due = await handling.decide_extension(
        db, settings=settings, clock=clock, actor=dispatcher, request_id=second, grant=True
    )
    # due at the end of Tue 13 Oct; + 3 working days → end of Fri 16 Oct (Beijing)
    assert new_due == datetime(2026, 10, 16, 16, tzinfo=UTC)
    assert (await letter_row(db, assigned))["due_at"] == new_due
    kinds = [
        row["kind"] for row in await db.fetch_all("SELECT kind FROM letter_events ORDER BY id")
    ]
    assert kinds[-4:] == [
        "request_extension",
        "refuse_extension",
        "request_extension",
        "grant_extension",
    ]


async def replied(
    app: Starlette, db: Database, number: str, handler: Actor, reviewer: Actor
) -> None:
    clock = app.state.clock
    await handling.save_draft(db, clock=clock, actor=handler, tracking_no=number, body=REPLY)
    await handling.submit_for_review(db, clock=clock, actor=handler, tracking_no=number)
    await handling.approve(
        db, settings=app.state.settings, clock=clock, actor=reviewer, tracking_no=number
    )


async def test_unsatisfied_rating_reopens_with_a_new_deadline(
    app: Starlette, db: Database, assigned: str, handler: Actor, reviewer: Actor, dispatcher: Actor
) -> None:
    clock, settings = app.state.clock, app.state.settings
    await replied(app, db, assigned, handler, reviewer)
    await handling.rate(
        db, clock=clock, tracking_no=assigned, rating=Rating.UNSATISFIED, comment="没有回答我的问题"
    )
    letter = await letter_row(db, assigned)
    assert letter["state"] == "closed" and letter["needs_follow_up"]
    with pytest.raises(TransitionRefused):
        await handling.rate(db, clock=clock, tracking_no=assigned, rating=Rating.SATISFIED)
    clock.advance(days=20)  # 2026-10-20 10:00 Beijing; consult: 5 working days → 27 Oct
    with pytest.raises(handling.InvalidWork):  # the department must be told what is missing
        await handling.reopen(
            db, settings=settings, clock=clock, actor=dispatcher, tracking_no=assigned, note=" "
        )
    due = await handling.reopen(
        db,
        settings=settings,
        clock=clock,
        actor=dispatcher,
        tracking_no=assigned,
        note="请补充答复",
    )
    assert due == datetime(2026, 10, 27, 16, tzinfo=UTC)
    [told] = await mails(db, "reopened")  # the writer learns the new deadline
    assert told["context"]["due_at"] == due.isoformat()
    letter = await letter_row(db, assigned)
    assert letter["state"] == "assigned" and not letter["needs_follow_up"]
    await replied(app, db, assigned, handler, reviewer)
    await handling.rate(db, clock=clock, tracking_no=assigned, rating=Rating.SATISFIED)
    assert await db.fetch_value("SELECT COUNT(*) FROM ratings") == 2
    with pytest.raises(TransitionRefused):
        await handling.reopen(
            db, settings=settings, clock=clock, actor=dispatcher, tracking_no=assigned, note="x"
        )


async def test_close_with_a_note_ends_the_follow_up(
    app: Starlette, db: Database, assigned: str, handler: Actor, reviewer: Actor, dispatcher: Actor
) -> None:
    clock = app.state.clock
    await replied(app, db, assigned, handler, reviewer)
    await handling.rate(db, clock=clock, tracking_no=assigned, rating=Rating.UNSATISFIED)
    await handling.close_with_note(
        db, clock=clock, actor=dispatcher, tracking_no=assigned, note="已电话解释，来信人表示理解"
    )
    letter = await letter_row(db, assigned)
    assert letter["state"] == "closed" and not letter["needs_follow_up"]
    [told] = await mails(db, "follow_up_closed")
    assert told["context"]["note"] == "已电话解释，来信人表示理解"


async def test_the_rating_window_closes_the_letter(
    app: Starlette, db: Database, assigned: str, handler: Actor, reviewer: Actor
) -> None:
    clock = app.state.clock
    await replied(app, db, assigned, handler, reviewer)
    assert await handling.close_unrated(db, clock=clock) == 0
    clock.advance(days=15, seconds=1)
    with pytest.raises(TransitionRefused):
        await handling.rate(db, clock=clock, tracking_no=assigned, rating=Rating.SATISFIED)
    assert await handling.close_unrated(db, clock=clock) == 1
    assert (await letter_row(db, assigned))["state"] == "closed"
    assert (await last_event(db, assigned))["kind"] == "expire_rating"
    assert await handling.close_unrated(db, clock=clock) == 0


async def test_a_correction_is_a_new_reply_and_the_old_one_stays(
    app: Starlette, db: Database, assigned: str, handler: Actor, reviewer: Actor
) -> None:
    clock = app.state.clock
    await replied(app, db, assigned, handler, reviewer)
    clock.advance(hours=1)
    await handling.correct_reply(
        db,
        clock=clock,
        actor=reviewer,
        tracking_no=assigned,
        body=REPLY + "（更正：检测日期为9月20日）",
        note="更正检测日期",
    )
    bodies = [r["body"] for r in await db.fetch_all("SELECT body FROM replies ORDER BY id")]
    assert bodies == [REPLY, REPLY + "（更正：检测日期为9月20日）"]
    event = await last_event(db, assigned)
    assert event["kind"] == "correct_reply" and event["is_public"]

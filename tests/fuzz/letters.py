"""Letters in every state a staff form acts on, made through the real services, and made
again when a step moved them on (a fuzz run needs a pending letter after one was accepted);
and replied letters as their writers hold them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette

from mailbox.auth.tokens import rating_token
from mailbox.db.database import Database
from mailbox.db.queries import users
from mailbox.domain.states import Source
from mailbox.domain.validation import validate_letter
from mailbox.services import handling, intake, publication
from mailbox.services.submission import submit_letter
from mailbox.services.transitions import Actor
from tests.fuzz.staff import Desk
from tests.helpers import GOOD_LETTER
from tests.services.conftest import add_department, new_letter

REPLY = "经核查，您反映的基站已依法审批，辐射检测结果符合国家标准。"
REASON = "需要向运营商调取审批材料。"
# What each kind of letter is made from, and the step that makes it.
KINDS = (
    "pending",
    "spam",
    "assigned",
    "direct",  # assigned, in a channel whose replies go out without review
    "drafted",
    "review",
    "returned",
    "extension",
    "replied",
    "published",
    "closed",  # rated 不满意: waits for the office's follow-up
)


def actor(desk: Desk) -> Actor:
    return Actor(user_id=desk.user_id, roles=desk.roles, department_id=desk.department_id)


@dataclass
class Letters:
    """One letter of each kind, checked before each use: remade when its state or timeline
    changed (a step taken on it, or on it from another letter's page)."""

    app: Starlette
    desks: dict[str, Desk]
    department_id: int
    made: dict[str, tuple[str, tuple[object, ...]]] = field(default_factory=dict)
    extension_ids: dict[str, int] = field(default_factory=dict)

    @property
    def db(self) -> Database:
        db: Database = self.app.state.db
        return db

    async def _signature(self, number: str) -> tuple[object, ...]:
        row = await self.db.fetch_one(
            "SELECT l.state, l.needs_follow_up, l.published_at,"
            " (SELECT COUNT(*) FROM letter_events e WHERE e.letter_id = l.id) AS events,"
            " (SELECT COUNT(*) FROM replies r WHERE r.letter_id = l.id) AS replies"
            " FROM letters l WHERE l.tracking_no = :n",
            {"n": number},
        )
        assert row is not None
        return tuple(row.values())

    async def get(self, kind: str) -> str:
        if kind in self.made:
            number, signature = self.made[kind]
            if await self._signature(number) == signature:
                return number
        number = await self._make(kind)
        self.made[kind] = (number, await self._signature(number))
        return number

    async def _make(self, kind: str) -> str:
        app, db = self.app, self.db
        settings, clock = app.state.settings, app.state.clock
        office = actor(self.desks["dispatcher"])
        handler = actor(self.desks["radio_handler"])
        reviewer = actor(self.desks["radio_reviewer"])

        async def accepted(channel: str = "consult", consent: str = "1") -> str:
            number = await new_letter(app, channel, publish_consent=consent)
            await intake.accept(
                db,
                settings=settings,
                clock=clock,
                actor=office,
                tracking_no=number,
                department_id=self.department_id,
            )
            return number

        async def drafted(consent: str = "1") -> str:
            number = await accepted(consent=consent)
            await handling.save_draft(
                db, clock=clock, actor=handler, tracking_no=number, body=REPLY
            )
            return number

        async def reviewed(consent: str = "1") -> str:
            number = await drafted(consent)
            await handling.submit_for_review(db, clock=clock, actor=handler, tracking_no=number)
            return number

        async def replied(consent: str = "1") -> str:
            number = await reviewed(consent)
            await handling.approve(
                db, settings=settings, clock=clock, actor=reviewer, tracking_no=number
            )
            return number

        async def then(number: str, step: Callable[[str], Awaitable[object]]) -> str:
            await step(number)
            return number

        if kind == "pending":
            return await new_letter(app, publish_consent="1")
        if kind == "spam":
            return await then(
                await new_letter(app),
                lambda n: intake.mark_spam(db, clock=clock, actor=office, tracking_no=n),
            )
        if kind == "assigned":
            return await accepted()
        if kind == "direct":
            return await accepted("suggestion")
        if kind == "drafted":
            return await drafted()
        if kind == "review":
            return await reviewed()
        if kind == "returned":
            return await then(
                await accepted(),
                lambda n: handling.return_to_office(
                    db, clock=clock, actor=handler, tracking_no=n, reason=REASON
                ),
            )
        if kind == "extension":
            number = await accepted()
            self.extension_ids[number] = await handling.request_extension(
                db, clock=clock, actor=handler, tracking_no=number, working_days=5, reason=REASON
            )
            return number
        if kind == "replied":
            return await replied()
        if kind == "published":
            return await then(
                await replied(),
                lambda n: publication.publish(db, clock=clock, actor=office, tracking_no=n),
            )
        if kind == "closed":
            return await then(
                await replied("0"),
                lambda n: handling.rate(
                    db, clock=clock, tracking_no=n, rating=handling.Rating.UNSATISFIED
                ),
            )
        raise AssertionError(kind)

    async def extension_id(self, number: str) -> int:
        """The extension request waiting on this letter, or else on the extension letter."""
        if number in self.extension_ids:
            return self.extension_ids[number]
        return self.extension_ids[await self.get("extension")]


OFFICE = Actor(user_id=None, roles=frozenset({"dispatcher"}))


@dataclass(frozen=True)
class Writer:
    """A letter with a released reply: what its writer holds."""

    number: str
    code: str
    token: str  # the reply mail's rating link: /rate/{token}


async def team_of(db: Database) -> Actor:
    """A department and one person who both drafts and reviews its replies."""
    department = await add_department(db, "radio", "无线电管理处")
    async with db.transaction() as conn:
        user_id = await users.create_user(
            conn,
            username="team",
            display_name="team",
            password_hash="x",
            roles=["handler", "reviewer"],
            department_id=department,
            now=datetime(2026, 1, 1, tzinfo=UTC),
        )
    return Actor(
        user_id=user_id, roles=frozenset({"handler", "reviewer"}), department_id=department
    )


async def replied_letter(app: Starlette, team: Actor) -> Writer:
    """Submitted, accepted, answered and released through the services."""
    db, settings, clock = app.state.db, app.state.settings, app.state.clock
    letter, errors = validate_letter(GOOD_LETTER)
    assert letter is not None, errors
    receipt = await submit_letter(
        db,
        settings=settings,
        clock=clock,
        channel=await app.state.channels.get("consult"),
        letter=letter,
        source=Source.WEB,
        locale="zh_CN",
        client_ip="203.0.113.1",
        challenge="off",
    )
    number = receipt.tracking_no
    on_letter: dict[str, Any] = {"clock": clock, "tracking_no": number}
    assert team.department_id is not None
    await intake.accept(
        db, settings=settings, actor=OFFICE, department_id=team.department_id, **on_letter
    )
    await handling.save_draft(db, actor=team, body=REPLY, **on_letter)
    await handling.submit_for_review(db, actor=team, **on_letter)
    await handling.approve(db, settings=settings, actor=team, **on_letter)
    reply_id = await db.fetch_value(
        "SELECT MAX(r.id) FROM replies r JOIN letters l ON l.id = r.letter_id"
        " WHERE l.tracking_no = :n",
        {"n": number},
    )
    return Writer(number, receipt.query_code, rating_token(settings.secret_key, number, reply_id))

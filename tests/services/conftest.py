"""Letters and staff for the service tests, made through the real services."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from starlette.applications import Starlette

from mailbox.db.database import Database
from mailbox.db.queries import users
from mailbox.domain.states import Source
from mailbox.domain.validation import validate_letter
from mailbox.services.submission import submit_letter
from mailbox.services.transitions import Actor
from tests.helpers import GOOD_LETTER


async def new_letter(app: Starlette, channel: str = "consult", **fields: str) -> str:
    letter, errors = validate_letter({**GOOD_LETTER, **fields})
    assert letter is not None, errors
    channel_row = await app.state.channels.get(channel)
    receipt = await submit_letter(
        app.state.db,
        settings=app.state.settings,
        clock=app.state.clock,
        channel=channel_row,
        letter=letter,
        source=Source.WEB,
        locale="zh_CN",
        client_ip="203.0.113.1",
        challenge="off",
    )
    return receipt.tracking_no


async def add_department(db: Database, code: str, name: str) -> int:
    async with db.transaction() as conn:
        department_id = await users.add_department(
            conn, code=code, name=name, now=datetime(2026, 1, 1, tzinfo=UTC)
        )
    assert department_id is not None
    return department_id


@pytest.fixture
async def departments(db: Database) -> dict[str, int]:
    return {
        "radio": await add_department(db, "radio", "无线电管理处"),
        "policy": await add_department(db, "policy", "政策法规处"),
    }


DISPATCHER = Actor(user_id=None, roles=frozenset({"dispatcher"}))


async def staff_actor(db: Database, username: str, role: str, department_id: int | None) -> Actor:
    """A staff account with one role, as the actor of its steps (the password is unusable)."""
    async with db.transaction() as conn:
        user_id = await users.create_user(
            conn,
            username=username,
            display_name=username,
            password_hash="x",
            roles=[role],
            department_id=department_id,
            now=datetime(2026, 1, 1, tzinfo=UTC),
        )
    return Actor(user_id=user_id, roles=frozenset({role}), department_id=department_id)


@pytest.fixture
async def dispatcher(db: Database) -> Actor:
    return await staff_actor(db, "dispatch", "dispatcher", None)


@pytest.fixture
async def handler(db: Database, departments: dict[str, int]) -> Actor:
    return await staff_actor(db, "handler", "handler", departments["radio"])


@pytest.fixture
async def reviewer(db: Database, departments: dict[str, int]) -> Actor:
    return await staff_actor(db, "reviewer", "reviewer", departments["radio"])

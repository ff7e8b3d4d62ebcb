"""The demo's office: departments, one account per job, and the channel set-up."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

from mailbox.auth.roles import Role
from mailbox.clock import Clock
from mailbox.db.database import Database
from mailbox.db.queries import channels, users
from mailbox.demo.texts import DEPARTMENTS, STAFF_NAMES
from mailbox.domain.states import Channel
from mailbox.services import accounts
from mailbox.services.transitions import Actor

# Replies to 网上咨询 go out without review in the demo, so that both ways are shown.
WITHOUT_REVIEW = Channel.CONSULT
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class Account:
    username: str
    job: str  # for the list printed at the end


@dataclass(frozen=True)
class Staff:
    admin: Actor
    dispatcher: Actor
    department_ids: dict[str, int]
    handlers: dict[str, Actor]  # by department code
    reviewers: dict[str, Actor]
    accounts: list[Account]


def new_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(14))


def _jobs() -> Iterator[tuple[str, Role, str | None, str]]:
    """User name, role, department code and job of every demo account."""
    yield "admin", Role.ADMIN, None, "administrator"
    yield "dispatcher", Role.DISPATCHER, None, "dispatcher (intake and follow-up)"
    yield "reporter", Role.REPORTER, None, "reporter (figures)"
    for department in DEPARTMENTS:
        code = department.code
        yield f"{code}-handler", Role.HANDLER, code, f"handler, {department.name}"
        yield f"{code}-reviewer", Role.REVIEWER, code, f"reviewer, {department.name}"


async def set_up_office(db: Database, *, clock: Clock, password: str) -> Staff:
    """Departments and accounts (all with `password`), made through the accounts service."""
    department_ids = await _departments(db, clock)
    actors: dict[str, Actor] = {}
    listed = []
    for (username, role, department, job), display_name in zip(_jobs(), STAFF_NAMES, strict=True):
        user_id = await accounts.create_user(
            db,
            clock=clock,
            username=username,
            password=password,
            roles=[role],
            display_name=display_name,
            department_code=department,
            email=f"{username}@example.com",
        )
        department_id = department_ids[department] if department else None
        actors[username] = Actor(user_id, frozenset({role}), department_id)
        listed.append(Account(username, job))
    async with db.transaction() as conn:
        await channels.update_channel(conn, code=WITHOUT_REVIEW, review_required=False)
    return Staff(
        admin=actors["admin"],
        dispatcher=actors["dispatcher"],
        department_ids=department_ids,
        handlers={code: actors[f"{code}-handler"] for code in department_ids},
        reviewers={code: actors[f"{code}-reviewer"] for code in department_ids},
        accounts=listed,
    )


async def _departments(db: Database, clock: Clock) -> dict[str, int]:
    """The demo's departments; one that exists with the same code is used as it is."""
    ids = {}
    async with db.transaction() as conn:
        for department in DEPARTMENTS:
            found = await users.department_id_by_code(conn, code=department.code)
            ids[department.code] = found or await users.add_department(
                conn, code=department.code, name=department.name, now=clock.now()
            )
    return {code: department_id for code, department_id in ids.items() if department_id}

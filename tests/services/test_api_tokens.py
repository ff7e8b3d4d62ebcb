"""Authenticating an API token: one statement gives the token, its user and the user's roles."""

from __future__ import annotations

from mailbox.clock import FixedClock
from mailbox.db.database import Database
from mailbox.db.queries import admin, users
from mailbox.services import api_tokens


async def test_a_token_acts_with_its_users_roles_as_they_are_now_and_stops_once_deactivated(
    db: Database, clock: FixedClock, departments: dict[str, int]
) -> None:
    async with db.transaction() as conn:
        user_id = await users.create_user(
            conn,
            username="portal",
            display_name="Portal",
            password_hash="x",
            roles=["handler", "reviewer"],
            department_id=departments["radio"],
            now=clock.now(),
        )
    token_id, token = await api_tokens.create_token(
        db, clock=clock, username="portal", label="portal", scope="staff"
    )

    caller = await api_tokens.authenticate(db, clock=clock, token=token)
    assert caller is not None
    assert (caller.token_id, caller.scope, caller.user.id) == (token_id, "staff", user_id)
    assert caller.user.roles == {"handler", "reviewer"}
    assert (caller.user.username, caller.user.department_id) == ("portal", departments["radio"])

    async with db.transaction() as conn:
        await admin.update_user(
            conn,
            user_id=user_id,
            display_name="Portal",
            email="",
            department_id=None,
            roles=["dispatcher"],
        )
    caller = await api_tokens.authenticate(db, clock=clock, token=token)
    assert caller is not None
    assert (caller.user.roles, caller.user.department_id) == ({"dispatcher"}, None)

    async with db.transaction() as conn:
        await admin.set_user_active(conn, user_id=user_id, active=False)
    assert await api_tokens.authenticate(db, clock=clock, token=token) is None
    assert await api_tokens.authenticate(db, clock=clock, token=token[:-1] + "x") is None

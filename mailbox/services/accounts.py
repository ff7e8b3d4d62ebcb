"""Staff accounts: first administrator, users, logins and sessions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from mailbox.auth.passwords import MIN_LENGTH, hash_password, needs_rehash, verify_password
from mailbox.auth.roles import DEPARTMENT_ROLES, Role
from mailbox.auth.tokens import new_token, token_hash
from mailbox.clock import Clock
from mailbox.db.database import Database
from mailbox.db.queries import ratelimits, sessions, users
from mailbox.db.queries.users import UserRow
from mailbox.i18n import _
from mailbox.services.errors import ServiceError
from mailbox.services.limits import (
    LOGIN_PER_USER,
    LOGIN_WINDOW,
    address_bucket,
    count_hit,
)
from mailbox.settings import Settings

SETUP_TOKEN_LIFETIME = timedelta(hours=24)
SESSION_IDLE = timedelta(hours=2)
SESSION_LONGEST = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)  # spare a write per request


class InvalidAccount(ServiceError):
    """The account details are not acceptable; the message says why (translated)."""


class LoginFailed(ServiceError):
    pass


@dataclass(frozen=True)
class StaffSession:
    token: str
    user: UserRow


def check_new_account(
    username: str, password: str, roles: list[str], department_id: int | None
) -> None:
    if (
        not username
        or len(username) > 40
        or not username.replace("_", "").replace("-", "").replace(".", "").isalnum()
    ):
        raise InvalidAccount(
            _("The user name must be 1 to 40 letters, digits, dots, dashes or underscores.")
        )
    if len(password) < MIN_LENGTH:
        raise InvalidAccount(
            _("The password must be at least %(min)d characters long.", min=MIN_LENGTH)
        )
    unknown = set(roles) - set(Role)
    if unknown or not roles:
        raise InvalidAccount(_("Unknown role: %(roles)s", roles=", ".join(sorted(unknown))))
    if DEPARTMENT_ROLES & set(roles) and department_id is None:
        raise InvalidAccount(_("Handlers and reviewers need a department."))


async def create_user(
    db: Database,
    *,
    clock: Clock,
    username: str,
    password: str,
    roles: list[str],
    display_name: str = "",
    department_code: str | None = None,
    actor_user_id: int | None = None,
    email: str = "",
) -> int:
    department_id = None
    if department_code:
        department_id = await users.department_id_by_code(db, code=department_code)
        if department_id is None:
            raise InvalidAccount(_("No department has the code %(code)s.", code=department_code))
    check_new_account(username, password, roles, department_id)
    password_hash = await hash_password(password)
    async with db.transaction() as conn:
        if await users.get_user_by_username(conn, username=username):
            raise InvalidAccount(_("The user name %(name)s is taken.", name=username))
        user_id = await users.create_user(
            conn,
            username=username,
            display_name=display_name or username,
            password_hash=password_hash,
            roles=roles,
            department_id=department_id,
            now=clock.now(),
            email=email,
        )
        await users.audit(
            conn,
            action="user.create",
            target=username,
            actor_user_id=actor_user_id,
            now=clock.now(),
            data=json.dumps({"roles": sorted(roles)}),
        )
    return user_id


async def create_setup_token(db: Database, *, clock: Clock) -> str | None:
    """A one-time link token for the first administrator; None once anyone exists."""
    token = new_token()
    now = clock.now()
    async with db.transaction() as conn:
        if await users.count_users(conn):
            return None
        await users.add_setup_token(
            conn, token_hash=token_hash(token), now=now, expires_at=now + SETUP_TOKEN_LIFETIME
        )
    return token


async def setup_token_valid(db: Database, *, clock: Clock, token: str) -> bool:
    return await users.setup_token_valid(db, token_hash=token_hash(token), now=clock.now())


async def complete_setup(
    db: Database, *, clock: Clock, token: str, username: str, password: str, display_name: str
) -> int:
    """Create the administrator with a setup token; the token works once."""
    check_new_account(username, password, [Role.ADMIN], None)
    password_hash = await hash_password(password)
    async with db.transaction() as conn:
        if not await users.use_setup_token(conn, token_hash=token_hash(token), now=clock.now()):
            raise InvalidAccount(_("This set-up link has expired or has been used."))
        if await users.count_users(conn):
            raise InvalidAccount(_("The administrator has already been created."))
        user_id = await users.create_user(
            conn,
            username=username,
            display_name=display_name or username,
            password_hash=password_hash,
            roles=[Role.ADMIN],
            department_id=None,
            now=clock.now(),
        )
        await users.audit(conn, action="setup.admin", target=username, now=clock.now())
    return user_id


async def log_in(
    db: Database,
    *,
    settings: Settings,
    clock: Clock,
    username: str,
    password: str,
    client_ip: str,
    user_agent: str,
) -> StaffSession:
    """A new session, or LoginFailed / RateLimited. Every attempt is counted before the
    password is checked (so a burst of parallel guesses cannot slip past the limit); a
    successful login gives its count back, so only failures use up the allowance."""
    now = clock.now()
    buckets = {
        f"login:{address_bucket(client_ip)}": settings.login_limit,
        f"login-user:{username}": LOGIN_PER_USER,
    }
    async with db.transaction() as conn:
        for bucket, limit in buckets.items():
            await count_hit(conn, bucket=bucket, limit=limit, now=now, window=LOGIN_WINDOW)
    user = await users.get_user_by_username(db, username=username)
    ok = await verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        raise LoginFailed(username)
    async with db.transaction() as conn:
        for bucket in buckets:
            await ratelimits.refund(conn, bucket=bucket, now=now, window=LOGIN_WINDOW)
    token = new_token()
    new_hash = await hash_password(password) if needs_rehash(user.password_hash) else None
    async with db.transaction() as conn:
        await sessions.create_session(
            conn,
            session_id=token_hash(token),
            user_id=user.id,
            now=now,
            expires_at=now + SESSION_LONGEST,
            client_ip=client_ip,
            user_agent=user_agent,
        )
        await users.record_login(conn, user_id=user.id, now=now)
        if new_hash:
            await users.set_password_hash(conn, user_id=user.id, password_hash=new_hash)
    return StaffSession(token, user)


async def resume_session(db: Database, *, clock: Clock, token: str) -> UserRow | None:
    """The session's user, or None when it is unknown, idle too long or expired."""
    now = clock.now()
    session = await sessions.get_session(db, session_id=token_hash(token))
    if session is None or session.expires_at <= now or session.last_seen_at + SESSION_IDLE <= now:
        return None
    user = await users.get_user(db, user_id=session.user_id)
    if user is None or not user.is_active:
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        async with db.transaction() as conn:
            await sessions.touch_session(conn, session_id=session.id, now=now)
    return user


async def log_out(db: Database, *, token: str) -> None:
    async with db.transaction() as conn:
        await sessions.delete_session(conn, session_id=token_hash(token))

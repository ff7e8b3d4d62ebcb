"""The administrator's changes to users and the outbox, and what is misconfigured; one
transaction each, every change written to the audit log (admin_settings: the configuration)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from mailbox.auth.passwords import MIN_LENGTH, hash_password
from mailbox.auth.roles import Role
from mailbox.clock import Clock
from mailbox.db.database import Connection, Database
from mailbox.db.queries import admin as queries
from mailbox.db.queries import users, webhooks
from mailbox.db.queries.admin import Counts, UserListing
from mailbox.i18n import _
from mailbox.services.accounts import InvalidAccount, check_new_account
from mailbox.services.calendar import office_calendar
from mailbox.services.errors import NotFound, ServiceError
from mailbox.settings import Settings

EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")  # as on the letter form


class InvalidInput(ServiceError):
    """Not acceptable as given; the message (translated) says why. Nothing was changed."""


@dataclass(frozen=True)
class Admin:
    """Who acts, and from where: both go into the audit log."""

    user_id: int
    client_ip: str


async def audit(
    conn: Connection, clock: Clock, actor: Admin, action: str, target: str, **data: object
) -> None:
    await users.audit(
        conn,
        action=action,
        target=target,
        actor_user_id=actor.user_id,
        client_ip=actor.client_ip,
        now=clock.now(),
        data=json.dumps(data, ensure_ascii=False, sort_keys=True, default=str),
    )


# --- users ---


@dataclass(frozen=True)
class Account:
    """A user's details as the administrator enters them (the password aside)."""

    display_name: str
    email: str
    roles: list[str]
    department_id: int | None


def _check_password(password: str) -> None:
    # The same rules as a new account's; the other parts get values that pass.
    try:
        check_new_account("x", password, [Role.REPORTER], None)
    except InvalidAccount as error:
        raise InvalidInput(str(error)) from None


def _check_account(account: Account, username: str = "x") -> None:
    if not account.roles:
        raise InvalidInput(_("Choose at least one role."))
    if account.email and (len(account.email) > 254 or not EMAIL.match(account.email)):
        raise InvalidInput(_("Please check the email address, such as name@example.com."))
    try:
        check_new_account(username, "x" * MIN_LENGTH, account.roles, account.department_id)
    except InvalidAccount as error:
        raise InvalidInput(str(error)) from None


async def _check_department(conn: Connection, department_id: int | None, keep: int | None) -> None:
    """A department chosen for a user must exist and be enabled (or be the one they have)."""
    if department_id is None or department_id == keep:
        return
    department = await queries.get_department(conn, department_id=department_id)
    if department is None or not department.enabled:
        raise InvalidInput(_("Choose a department from the list."))


async def create_user(
    db: Database, *, clock: Clock, actor: Admin, username: str, password: str, account: Account
) -> int:
    _check_account(account, username)
    _check_password(password)
    password_hash = await hash_password(password)
    async with db.transaction() as conn:
        await _check_department(conn, account.department_id, None)
        if await users.get_user_by_username(conn, username=username):
            raise InvalidInput(_("The user name %(name)s is taken.", name=username))
        user_id = await users.create_user(
            conn,
            username=username,
            display_name=account.display_name or username,
            password_hash=password_hash,
            roles=account.roles,
            department_id=account.department_id,
            now=clock.now(),
        )
        await queries.set_email(conn, user_id=user_id, email=account.email)
        await audit(
            conn,
            clock,
            actor,
            "user.create",
            username,
            roles=sorted(account.roles),
            department_id=account.department_id,
            email=account.email,
        )
    return user_id


async def _user(conn: Connection, user_id: int) -> UserListing:
    user = await queries.get_user(conn, user_id=user_id)
    if user is None:
        raise NotFound(f"user {user_id}")
    return user


async def update_user(
    db: Database, *, clock: Clock, actor: Admin, user_id: int, account: Account
) -> None:
    _check_account(account)
    async with db.transaction() as conn:
        user = await _user(conn, user_id)
        if user_id == actor.user_id and Role.ADMIN not in account.roles:
            raise InvalidInput(_("You cannot remove your own administrator role."))
        await _check_department(conn, account.department_id, user.department_id)
        await queries.update_user(
            conn,
            user_id=user_id,
            display_name=account.display_name or user.username,
            email=account.email,
            department_id=account.department_id,
            roles=account.roles,
        )
        await audit(
            conn,
            clock,
            actor,
            "user.update",
            user.username,
            roles=sorted(account.roles),
            department_id=account.department_id,
            email=account.email,
            display_name=account.display_name,
        )


async def set_user_active(
    db: Database, *, clock: Clock, actor: Admin, user_id: int, active: bool
) -> None:
    """Deactivating also ends the user's sessions: they are out at their next request."""
    if user_id == actor.user_id and not active:
        raise InvalidInput(_("You cannot deactivate your own account."))
    async with db.transaction() as conn:
        user = await _user(conn, user_id)
        await queries.set_user_active(conn, user_id=user_id, active=active)
        ended = 0 if active else await queries.end_sessions(conn, user_id=user_id)
        action = "user.reactivate" if active else "user.deactivate"
        await audit(conn, clock, actor, action, user.username, sessions_ended=ended)


async def reset_password(
    db: Database, *, clock: Clock, actor: Admin, user_id: int, password: str
) -> None:
    _check_password(password)
    password_hash = await hash_password(password)
    async with db.transaction() as conn:
        user = await _user(conn, user_id)
        await users.set_password_hash(conn, user_id=user_id, password_hash=password_hash)
        await audit(conn, clock, actor, "user.reset_password", user.username)


async def end_sessions(db: Database, *, clock: Clock, actor: Admin, user_id: int) -> int:
    async with db.transaction() as conn:
        user = await _user(conn, user_id)
        ended = await queries.end_sessions(conn, user_id=user_id)
        await audit(conn, clock, actor, "user.end_sessions", user.username, sessions_ended=ended)
    return ended


async def retry_mail(db: Database, *, clock: Clock, actor: Admin, outbox_id: int) -> None:
    """Queue a given-up mail again, now; its attempts are kept."""
    async with db.transaction() as conn:
        mail = await queries.get_failed_mail(conn, outbox_id=outbox_id)
        if mail is None:
            raise NotFound(f"outbox {outbox_id}")
        if mail.content_dropped:
            raise InvalidInput(
                _("This mail cannot be sent again: its content was removed when it was given up.")
            )
        await queries.retry_mail(conn, outbox_id=outbox_id, now=clock.now())
        await audit(
            conn,
            clock,
            actor,
            "outbox.retry",
            str(outbox_id),
            kind=mail.kind,
            attempts=mail.attempts,
        )


# --- what is misconfigured ---


@dataclass(frozen=True)
class Health:
    smtp_configured: bool
    failed_mail: int
    failed_webhooks: int  # deliveries given up
    uncovered_years: list[int]
    counts: Counts

    @property
    def problems(self) -> bool:
        return (
            not self.smtp_configured
            or bool(self.failed_mail)
            or bool(self.failed_webhooks)
            or bool(self.uncovered_years)
            or not self.counts.enabled_departments
            or not self.counts.active_dispatchers
        )


async def uncovered_years(
    db: Database, *, settings: Settings, clock: Clock, also: Iterable[int] = ()
) -> list[int]:
    """Of this year, next year and `also`, those that neither the official schedule nor the
    holiday table covers: until they are entered, only weekends are days off."""
    this_year = clock.now().astimezone(settings.tz).year
    calendar = await office_calendar(db)
    return calendar.uncovered_years([this_year, this_year + 1, *also])


async def health(db: Database, *, settings: Settings, clock: Clock) -> Health:
    return Health(
        smtp_configured=settings.smtp_configured,
        failed_mail=await queries.count_failed_mail(db),
        failed_webhooks=await webhooks.count_given_up(db),
        uncovered_years=await uncovered_years(db, settings=settings, clock=clock),
        counts=await queries.counts(db),
    )

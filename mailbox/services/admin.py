"""The administrator's changes, one transaction each, every one written to the audit log."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date

from mailbox.auth.passwords import MIN_LENGTH, hash_password
from mailbox.auth.roles import Role
from mailbox.clock import Clock
from mailbox.db.database import Connection, Database
from mailbox.db.queries import admin as queries
from mailbox.db.queries import users
from mailbox.db.queries.admin import Counts, UserListing
from mailbox.i18n import _
from mailbox.services.accounts import InvalidAccount, check_new_account
from mailbox.services.calendar import office_calendar
from mailbox.services.errors import NotFound, ServiceError
from mailbox.settings import Settings

CODE = re.compile(r"^[A-Za-z0-9_-]{1,20}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")  # as on the letter form
HOLIDAY_KINDS = ("holiday", "workday")


class InvalidInput(ServiceError):
    """Not acceptable as given; the message (translated) says why. Nothing was changed."""


@dataclass(frozen=True)
class Admin:
    """Who acts, and from where: both go into the audit log."""

    user_id: int
    client_ip: str


async def _audit(
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
        await _audit(
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
        await _audit(
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
        await _audit(conn, clock, actor, action, user.username, sessions_ended=ended)


async def reset_password(
    db: Database, *, clock: Clock, actor: Admin, user_id: int, password: str
) -> None:
    _check_password(password)
    password_hash = await hash_password(password)
    async with db.transaction() as conn:
        user = await _user(conn, user_id)
        await users.set_password_hash(conn, user_id=user_id, password_hash=password_hash)
        await _audit(conn, clock, actor, "user.reset_password", user.username)


async def end_sessions(db: Database, *, clock: Clock, actor: Admin, user_id: int) -> int:
    async with db.transaction() as conn:
        user = await _user(conn, user_id)
        ended = await queries.end_sessions(conn, user_id=user_id)
        await _audit(conn, clock, actor, "user.end_sessions", user.username, sessions_ended=ended)
    return ended


# --- departments and channels ---


async def add_department(db: Database, *, clock: Clock, actor: Admin, code: str, name: str) -> int:
    if not CODE.match(code):
        raise InvalidInput(_("The code must be 1 to 20 letters, digits, dashes or underscores."))
    if not name:
        raise InvalidInput(_("Enter the department's name."))
    async with db.transaction() as conn:
        department_id = await users.add_department(conn, code=code, name=name, now=clock.now())
        if department_id is None:
            raise InvalidInput(_("A department with the code %(code)s exists.", code=code))
        await _audit(conn, clock, actor, "department.add", code, name=name)
    return department_id


async def update_department(
    db: Database, *, clock: Clock, actor: Admin, department_id: int, name: str, enabled: bool
) -> None:
    if not name:
        raise InvalidInput(_("Enter the department's name."))
    async with db.transaction() as conn:
        department = await queries.get_department(conn, department_id=department_id)
        if department is None:
            raise NotFound(f"department {department_id}")
        await queries.update_department(
            conn, department_id=department_id, name=name, enabled=enabled
        )
        await _audit(
            conn, clock, actor, "department.update", department.code, name=name, enabled=enabled
        )


@dataclass(frozen=True)
class ChannelSettings:
    name: str
    name_en: str
    reply_days: int
    intake_days: int
    review_required: bool
    enabled: bool


async def update_channel(
    db: Database, *, clock: Clock, actor: Admin, code: str, channel: ChannelSettings
) -> None:
    """The caller forgets its cached channels afterwards."""
    if not channel.name or not channel.name_en:
        raise InvalidInput(_("Enter the channel's name in Chinese and in English."))
    if not 1 <= channel.reply_days <= 60:
        raise InvalidInput(_("The reply deadline must be 1 to 60 working days."))
    if not 1 <= channel.intake_days <= 30:
        raise InvalidInput(_("The intake target must be 1 to 30 working days."))
    async with db.transaction() as conn:
        if not await queries.update_channel(conn, code=code, **vars(channel)):
            raise NotFound(f"channel {code}")
        await _audit(conn, clock, actor, "channel.update", code, **vars(channel))


# --- reject reasons and reply templates ---


@dataclass(frozen=True)
class Reason:
    label: str
    label_en: str
    advice: str
    advice_en: str


def _check_reason(reason: Reason) -> None:
    if not reason.label or not reason.label_en:
        raise InvalidInput(_("Enter the reason in Chinese and in English."))


async def add_reason(db: Database, *, clock: Clock, actor: Admin, code: str, reason: Reason) -> int:
    if not CODE.match(code):
        raise InvalidInput(_("The code must be 1 to 20 letters, digits, dashes or underscores."))
    _check_reason(reason)
    async with db.transaction() as conn:
        reason_id = await queries.add_reason(conn, code=code, **vars(reason))
        if reason_id is None:
            raise InvalidInput(_("A reason with the code %(code)s exists.", code=code))
        await _audit(conn, clock, actor, "reason.add", code, **vars(reason))
    return reason_id


async def update_reason(
    db: Database, *, clock: Clock, actor: Admin, reason_id: int, reason: Reason, enabled: bool
) -> None:
    _check_reason(reason)
    async with db.transaction() as conn:
        row = await queries.get_reason(conn, reason_id=reason_id)
        if row is None:
            raise NotFound(f"reason {reason_id}")
        await queries.update_reason(conn, reason_id=reason_id, enabled=enabled, **vars(reason))
        await _audit(conn, clock, actor, "reason.update", row.code, enabled=enabled, **vars(reason))


@dataclass(frozen=True)
class ReplyTemplate:
    title: str
    body: str
    channel: str | None  # None: any channel
    department_id: int | None  # None: any department


async def _check_template(conn: Connection, template: ReplyTemplate) -> None:
    if not template.title or not template.body:
        raise InvalidInput(_("Enter the template's title and text."))
    known_channel = template.channel is None or await conn.fetch_value(
        "SELECT 1 FROM channels WHERE code = :code", {"code": template.channel}
    )
    known_department = (
        template.department_id is None
        or await queries.get_department(conn, department_id=template.department_id) is not None
    )
    if not known_channel or not known_department:
        raise InvalidInput(_("Choose a channel and a department from the lists."))


async def add_template(db: Database, *, clock: Clock, actor: Admin, template: ReplyTemplate) -> int:
    async with db.transaction() as conn:
        await _check_template(conn, template)
        template_id = await queries.add_template(conn, now=clock.now(), **vars(template))
        await _audit(conn, clock, actor, "template.add", str(template_id), **vars(template))
    return template_id


async def update_template(
    db: Database, *, clock: Clock, actor: Admin, template_id: int, template: ReplyTemplate
) -> None:
    async with db.transaction() as conn:
        await _check_template(conn, template)
        if not await queries.update_template(conn, template_id=template_id, **vars(template)):
            raise NotFound(f"template {template_id}")
        await _audit(conn, clock, actor, "template.update", str(template_id), **vars(template))


async def delete_template(db: Database, *, clock: Clock, actor: Admin, template_id: int) -> None:
    async with db.transaction() as conn:
        if not await queries.delete_template(conn, template_id=template_id):
            raise NotFound(f"template {template_id}")
        await _audit(conn, clock, actor, "template.delete", str(template_id))


# --- the holiday table, the outbox ---


async def set_holiday(
    db: Database, *, clock: Clock, actor: Admin, day: date | None, kind: str, name: str
) -> None:
    if day is None:
        raise InvalidInput(_("Enter the date, such as 2027-02-06."))
    if kind not in HOLIDAY_KINDS:
        raise InvalidInput(_("Choose whether the day is a holiday or a working day."))
    async with db.transaction() as conn:
        await queries.set_holiday(conn, day=day, kind=kind, name=name)
        await _audit(conn, clock, actor, "holiday.set", day.isoformat(), kind=kind, name=name)


async def delete_holiday(db: Database, *, clock: Clock, actor: Admin, day: date) -> None:
    async with db.transaction() as conn:
        if not await queries.delete_holiday(conn, day=day):
            raise NotFound(f"holiday {day}")
        await _audit(conn, clock, actor, "holiday.delete", day.isoformat())


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
        await _audit(
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
    uncovered_years: list[int]
    counts: Counts

    @property
    def problems(self) -> bool:
        return (
            not self.smtp_configured
            or bool(self.failed_mail)
            or bool(self.uncovered_years)
            or not self.counts.enabled_departments
            or not self.counts.active_dispatchers
        )


async def uncovered_years(db: Database, *, settings: Settings, clock: Clock) -> list[int]:
    """This year and next, when neither the official schedule nor the holiday table has it."""
    this_year = clock.now().astimezone(settings.tz).year
    calendar = await office_calendar(db)
    return calendar.uncovered_years([this_year, this_year + 1])


async def health(db: Database, *, settings: Settings, clock: Clock) -> Health:
    return Health(
        smtp_configured=settings.smtp_configured,
        failed_mail=await queries.count_failed_mail(db),
        uncovered_years=await uncovered_years(db, settings=settings, clock=clock),
        counts=await queries.counts(db),
    )

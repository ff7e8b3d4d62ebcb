"""The administrator's changes to the office's configuration: departments, channels, reject
reasons, reply templates and holidays; one transaction each, each in the audit log."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from mailbox.clock import Clock
from mailbox.db.database import Connection, Database
from mailbox.db.queries import admin as queries
from mailbox.db.queries import admin_settings as settings_queries
from mailbox.db.queries import users
from mailbox.db.queries.channels import get_channel
from mailbox.i18n import _
from mailbox.services.admin import Admin, InvalidInput, audit
from mailbox.services.errors import NotFound

CODE = re.compile(r"^[A-Za-z0-9_-]{1,20}$")
HOLIDAY_KINDS = ("holiday", "workday")


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
        await audit(conn, clock, actor, "department.add", code, name=name)
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
        await audit(
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
        if not await settings_queries.update_channel(conn, code=code, **vars(channel)):
            raise NotFound(f"channel {code}")
        await audit(conn, clock, actor, "channel.update", code, **vars(channel))


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
        reason_id = await settings_queries.add_reason(conn, code=code, **vars(reason))
        if reason_id is None:
            raise InvalidInput(_("A reason with the code %(code)s exists.", code=code))
        await audit(conn, clock, actor, "reason.add", code, **vars(reason))
    return reason_id


async def update_reason(
    db: Database, *, clock: Clock, actor: Admin, reason_id: int, reason: Reason, enabled: bool
) -> None:
    _check_reason(reason)
    async with db.transaction() as conn:
        row = await settings_queries.get_reason(conn, reason_id=reason_id)
        if row is None:
            raise NotFound(f"reason {reason_id}")
        await settings_queries.update_reason(
            conn, reason_id=reason_id, enabled=enabled, **vars(reason)
        )
        await audit(conn, clock, actor, "reason.update", row.code, enabled=enabled, **vars(reason))


@dataclass(frozen=True)
class ReplyTemplate:
    title: str
    body: str
    channel: str | None  # None: any channel
    department_id: int | None  # None: any department

    def described(self) -> dict[str, object]:
        """For the audit log: what identifies it, not the whole text."""
        return {"title": self.title, "channel": self.channel, "department_id": self.department_id}


async def _check_template(conn: Connection, template: ReplyTemplate) -> None:
    if not template.title or not template.body:
        raise InvalidInput(_("Enter the template's title and text."))
    known_channel = (
        template.channel is None or await get_channel(conn, code=template.channel) is not None
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
        template_id = await settings_queries.add_template(conn, now=clock.now(), **vars(template))
        await audit(conn, clock, actor, "template.add", str(template_id), **template.described())
    return template_id


async def update_template(
    db: Database, *, clock: Clock, actor: Admin, template_id: int, template: ReplyTemplate
) -> None:
    async with db.transaction() as conn:
        await _check_template(conn, template)
        if not await settings_queries.update_template(
            conn, template_id=template_id, **vars(template)
        ):
            raise NotFound(f"template {template_id}")
        await audit(conn, clock, actor, "template.update", str(template_id), **template.described())


async def delete_template(db: Database, *, clock: Clock, actor: Admin, template_id: int) -> None:
    async with db.transaction() as conn:
        if not await settings_queries.delete_template(conn, template_id=template_id):
            raise NotFound(f"template {template_id}")
        await audit(conn, clock, actor, "template.delete", str(template_id))


# --- the holiday table ---


async def set_holiday(
    db: Database, *, clock: Clock, actor: Admin, day: date | None, kind: str, name: str
) -> None:
    if day is None:
        raise InvalidInput(_("Enter the date, such as 2027-02-06."))
    if kind not in HOLIDAY_KINDS:
        raise InvalidInput(_("Choose whether the day is a holiday or a working day."))
    async with db.transaction() as conn:
        await settings_queries.set_holiday(conn, day=day, kind=kind, name=name)
        await audit(conn, clock, actor, "holiday.set", day.isoformat(), kind=kind, name=name)


async def delete_holiday(db: Database, *, clock: Clock, actor: Admin, day: date) -> None:
    async with db.transaction() as conn:
        if not await settings_queries.delete_holiday(conn, day=day):
            raise NotFound(f"holiday {day}")
        await audit(conn, clock, actor, "holiday.delete", day.isoformat())

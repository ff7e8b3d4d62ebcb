"""What the administration pages change in the office's configuration: channels, reject
reasons, reply templates and the holiday table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from mailbox.db.database import Connection


async def update_channel(
    conn: Connection,
    *,
    code: str,
    name: str,
    name_en: str,
    reply_days: int,
    intake_days: int,
    review_required: bool,
    enabled: bool,
) -> bool:
    changed = await conn.execute(
        "UPDATE channels SET name = :name, name_en = :name_en, reply_days = :reply_days,"
        " intake_days = :intake_days, review_required = :review_required, enabled = :enabled"
        " WHERE code = :code",
        {
            "name": name,
            "name_en": name_en,
            "reply_days": reply_days,
            "intake_days": intake_days,
            "review_required": review_required,
            "enabled": enabled,
            "code": code,
        },
    )
    return changed == 1


@dataclass(frozen=True)
class ReasonRow:
    id: int
    code: str
    label: str
    label_en: str
    advice: str
    advice_en: str
    enabled: bool


_REASON_COLUMNS = "id, code, label, label_en, advice, advice_en, enabled"


async def list_reasons(conn: Connection) -> list[ReasonRow]:
    rows = await conn.fetch_all(
        f"SELECT {_REASON_COLUMNS} FROM reject_reasons ORDER BY sort_order, id"
    )
    return [ReasonRow(**{**row, "enabled": bool(row["enabled"])}) for row in rows]


async def get_reason(conn: Connection, *, reason_id: int) -> ReasonRow | None:
    row = await conn.fetch_one(
        f"SELECT {_REASON_COLUMNS} FROM reject_reasons WHERE id = :id", {"id": reason_id}
    )
    return ReasonRow(**{**row, "enabled": bool(row["enabled"])}) if row else None


async def add_reason(
    conn: Connection, *, code: str, label: str, label_en: str, advice: str, advice_en: str
) -> int | None:
    """The new reason's id, or None when the code is taken. It goes to the end of the list."""
    reason_id: int | None = await conn.fetch_value(
        "INSERT INTO reject_reasons (code, label, label_en, advice, advice_en, sort_order)"
        " SELECT :code, :label, :label_en, :advice, :advice_en,"
        # SQLite needs a WHERE here to read ON CONFLICT as the upsert clause.
        " COALESCE(MAX(sort_order), 0) + 1 FROM reject_reasons WHERE 1 = 1"
        " ON CONFLICT (code) DO NOTHING RETURNING id",
        {
            "code": code,
            "label": label,
            "label_en": label_en,
            "advice": advice,
            "advice_en": advice_en,
        },
    )
    return reason_id


async def update_reason(
    conn: Connection,
    *,
    reason_id: int,
    label: str,
    label_en: str,
    advice: str,
    advice_en: str,
    enabled: bool,
) -> None:
    await conn.execute(
        "UPDATE reject_reasons SET label = :label, label_en = :label_en, advice = :advice,"
        " advice_en = :advice_en, enabled = :enabled WHERE id = :id",
        {
            "label": label,
            "label_en": label_en,
            "advice": advice,
            "advice_en": advice_en,
            "enabled": enabled,
            "id": reason_id,
        },
    )


@dataclass(frozen=True)
class TemplateRow:
    id: int
    channel: str | None
    department_id: int | None
    title: str
    body: str


async def list_templates(conn: Connection) -> list[TemplateRow]:
    rows = await conn.fetch_all(
        "SELECT id, channel, department_id, title, body FROM reply_templates ORDER BY title, id"
    )
    return [TemplateRow(**row) for row in rows]


async def add_template(
    conn: Connection,
    *,
    channel: str | None,
    department_id: int | None,
    title: str,
    body: str,
    now: datetime,
) -> int:
    template_id: int = await conn.fetch_value(
        "INSERT INTO reply_templates (channel, department_id, title, body, created_at)"
        " VALUES (:channel, :department_id, :title, :body, :now) RETURNING id",
        {
            "channel": channel,
            "department_id": department_id,
            "title": title,
            "body": body,
            "now": now,
        },
    )
    return template_id


async def update_template(
    conn: Connection,
    *,
    template_id: int,
    channel: str | None,
    department_id: int | None,
    title: str,
    body: str,
) -> bool:
    changed = await conn.execute(
        "UPDATE reply_templates SET channel = :channel, department_id = :department_id,"
        " title = :title, body = :body WHERE id = :id",
        {
            "channel": channel,
            "department_id": department_id,
            "title": title,
            "body": body,
            "id": template_id,
        },
    )
    return changed == 1


async def delete_template(conn: Connection, *, template_id: int) -> bool:
    return (
        await conn.execute("DELETE FROM reply_templates WHERE id = :id", {"id": template_id}) == 1
    )


@dataclass(frozen=True)
class HolidayRow:
    day: date
    kind: str
    name: str


async def holidays_in_year(conn: Connection, *, year: int) -> list[HolidayRow]:
    rows = await conn.fetch_all(
        "SELECT day, kind, name FROM holidays WHERE day >= :first AND day < :after ORDER BY day",
        {"first": date(year, 1, 1), "after": date(year + 1, 1, 1)},
    )
    return [HolidayRow(**row) for row in rows]


async def set_holiday(conn: Connection, *, day: date, kind: str, name: str) -> None:
    """Enter a day, or change the entry the day already has."""
    await conn.execute(
        "INSERT INTO holidays (day, kind, name) VALUES (:day, :kind, :name)"
        " ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name",
        {"day": day, "kind": kind, "name": name},
    )


async def delete_holiday(conn: Connection, *, day: date) -> bool:
    return await conn.execute("DELETE FROM holidays WHERE day = :day", {"day": day}) == 1

"""Channels: the four ways of writing, with their names and deadlines."""

from __future__ import annotations

from dataclasses import dataclass

from mailbox.db.database import Connection, Row


@dataclass(frozen=True)
class ChannelRow:
    code: str
    name: str
    name_en: str
    reply_days: int
    intake_days: int
    review_required: bool
    enabled: bool

    def display_name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name


_COLUMNS = "code, name, name_en, reply_days, intake_days, review_required, enabled"


def _channel(row: Row) -> ChannelRow:
    return ChannelRow(
        **{**row, "review_required": bool(row["review_required"]), "enabled": bool(row["enabled"])}
    )


async def list_channels(conn: Connection, *, enabled_only: bool = False) -> list[ChannelRow]:
    where = "WHERE enabled = :yes" if enabled_only else ""
    rows = await conn.fetch_all(
        f"SELECT {_COLUMNS} FROM channels {where} ORDER BY sort_order", {"yes": True}
    )
    return [_channel(row) for row in rows]


async def get_channel(conn: Connection, *, code: str) -> ChannelRow | None:
    row = await conn.fetch_one(
        f"SELECT {_COLUMNS} FROM channels WHERE code = :code", {"code": code}
    )
    return _channel(row) if row else None


async def update_channel(
    conn: Connection,
    *,
    code: str,
    name: str | None = None,
    reply_days: int | None = None,
    review_required: bool | None = None,
    enabled: bool | None = None,
) -> bool:
    changes = {
        key: value
        for key, value in {
            "name": name,
            "reply_days": reply_days,
            "review_required": review_required,
            "enabled": enabled,
        }.items()
        if value is not None
    }
    if not changes:
        return await get_channel(conn, code=code) is not None
    assignments = ", ".join(f"{key} = :{key}" for key in changes)
    count = await conn.execute(
        f"UPDATE channels SET {assignments} WHERE code = :code", {**changes, "code": code}
    )
    return count == 1

"""The office's calendar: chinese-calendar overlaid by the editable holiday table."""

from __future__ import annotations

from mailbox.db.database import Connection
from mailbox.db.queries.workflow import holiday_overrides
from mailbox.domain.calendar import WorkingCalendar


async def office_calendar(conn: Connection) -> WorkingCalendar:
    return WorkingCalendar(await holiday_overrides(conn))

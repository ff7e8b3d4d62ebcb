"""The office's calendar: chinese-calendar overlaid by the editable holiday table."""

from __future__ import annotations

from datetime import date

from mailbox.db.database import Connection
from mailbox.db.queries.workflow import holiday_overrides
from mailbox.domain.calendar import WorkingCalendar

# Building a WorkingCalendar is most of a staff page's CPU time (each year's running counts);
# the holiday table is still read on every call, and the last calendar is reused while it is
# unchanged, so that an edit takes effect on the next request in every process.
_last: tuple[frozenset[tuple[date, bool]], WorkingCalendar] | None = None


async def office_calendar(conn: Connection) -> WorkingCalendar:
    global _last
    overrides = await holiday_overrides(conn)
    key = frozenset(overrides.items())
    if _last is None or _last[0] != key:
        _last = (key, WorkingCalendar(overrides))
    return _last[1]

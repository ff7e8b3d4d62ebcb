"""When people act in the demo: staff in office hours on working days, writers at any hour."""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, date, datetime, time, timedelta
from random import Random
from zoneinfo import ZoneInfo

from mailbox.domain.calendar import WorkingCalendar

# Minutes after midnight when the office works: 9:00–12:00 and 14:00–17:30.
OFFICE_MINUTES = tuple(range(9 * 60, 12 * 60)) + tuple(range(14 * 60, 17 * 60 + 30))
# Writers write mostly in the daytime and in the evening: weight of each hour of the day.
WRITER_HOURS = (1, 1, 0, 0, 0, 0, 1, 2, 5, 9, 10, 9, 5, 5, 8, 9, 9, 7, 5, 6, 7, 6, 4, 2)


class OfficeHours:
    def __init__(self, calendar: WorkingCalendar, tz: ZoneInfo) -> None:
        self.calendar = calendar
        self.tz = tz

    def day_of(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def is_working_day(self, day: date) -> bool:
        return self.calendar.is_working_day(day)

    def working_day(self, day: date, offset: int) -> date:
        """The `offset`-th working day after `day` (before it when negative); 0: `day` itself
        if it is a working day, else the next one."""
        if offset > 0:
            return self.calendar.add_working_days(day, offset)
        if offset == 0:
            return day if self.is_working_day(day) else self.calendar.add_working_days(day, 1)
        while offset < 0:
            day -= timedelta(days=1)
            offset += self.is_working_day(day)
        return day

    def at_office(self, day: date, rng: Random, after: datetime | None = None) -> datetime:
        """A moment in office hours on `day`, later than `after` (which must leave time)."""
        first = 0
        if after is not None and self.day_of(after) == day:
            local = after.astimezone(self.tz)
            first = bisect_right(OFFICE_MINUTES, local.hour * 60 + local.minute + 5)
            if first >= len(OFFICE_MINUTES):
                raise ValueError(f"no office time left on {day} after {after}")
        minute = OFFICE_MINUTES[rng.randrange(first, len(OFFICE_MINUTES))]
        return self._local(day, minute, rng.randrange(60))

    def after(self, moment: datetime, working_days: int, rng: Random) -> datetime:
        """Office time `working_days` working days after `moment`; 0: later that working day
        if the office is still open, else the next working day."""
        day = self.day_of(moment)
        if working_days == 0:
            local = moment.astimezone(self.tz)
            if (
                self.is_working_day(day)
                and local.hour * 60 + local.minute < OFFICE_MINUTES[-1] - 10
            ):
                return self.at_office(day, rng, after=moment)
            working_days = 1
        return self.at_office(self.working_day(day, working_days), rng)

    def writer_time(self, day: date, rng: Random) -> datetime:
        hour = rng.choices(range(24), weights=WRITER_HOURS)[0]
        return self._local(day, hour * 60 + rng.randrange(60), rng.randrange(60))

    def _local(self, day: date, minute: int, second: int) -> datetime:
        local = datetime.combine(day, time(minute // 60, minute % 60, second), self.tz)
        return local.astimezone(UTC)

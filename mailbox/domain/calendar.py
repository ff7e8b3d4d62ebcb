"""Chinese working days: the official schedule, the office's own holiday table, then Mon–Fri."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

import chinese_calendar

# The package refuses any date outside the years it has data for; read the range from its data so
# that upgrading the package extends it without a code change.
PACKAGE_YEARS = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)

_NO_OVERRIDES: Mapping[date, bool] = MappingProxyType({})


class WorkingCalendar:
    """Working days from `chinese-calendar`, overlaid by `overrides` (True = working day,
    False = holiday), which win. A year that neither covers counts Monday to Friday."""

    __slots__ = ("_overrides", "_override_years", "_running")

    def __init__(self, overrides: Mapping[date, bool] = _NO_OVERRIDES) -> None:
        # Copied, so that editing the caller's table later cannot disagree with the cache.
        self._overrides: Mapping[date, bool] = MappingProxyType(dict(overrides))
        self._override_years = frozenset(day.year for day in self._overrides)
        # Per year, running[k] = working days among the first k days of the year, so that
        # counting between two dates is a subtraction and adding days is a bisection.
        self._running: dict[int, tuple[int, ...]] = {}

    @property
    def overrides(self) -> Mapping[date, bool]:
        return self._overrides

    def covers(self, year: int) -> bool:
        return year in PACKAGE_YEARS or year in self._override_years

    def uncovered_years(self, years: Iterable[int]) -> list[int]:
        """The years whose schedule nobody has published or entered: the staff pages ask the
        administrator to enter them, since until then only weekends are days off."""
        return sorted({year for year in years if not self.covers(year)})

    def is_working_day(self, day: date) -> bool:
        running = self._year(day.year)
        ordinal = day.timetuple().tm_yday
        return running[ordinal] > running[ordinal - 1]

    def add_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day after `start`; `start` itself never counts."""
        if days < 0:
            raise ValueError(f"days must not be negative, got {days}")
        if days == 0:
            return start
        year = start.year
        target = self._year(year)[start.timetuple().tm_yday] + days
        while True:
            running = self._year(year)
            if target <= running[-1]:
                return date(year, 1, 1) + timedelta(days=bisect_left(running, target) - 1)
            target -= running[-1]
            year += 1

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: after `start`, up to and including `end`."""
        if end <= start:
            return 0
        whole_years = sum(self._year(year)[-1] for year in range(start.year, end.year))
        return (
            whole_years
            + self._year(end.year)[end.timetuple().tm_yday]
            - self._year(start.year)[start.timetuple().tm_yday]
        )

    def deadline(self, accepted_at: datetime, working_days: int, tz: ZoneInfo) -> datetime:
        """The end, in the office's time zone, of the `working_days`-th working day after the
        day of acceptance, in UTC: a reply released at or before it is on time."""
        if accepted_at.tzinfo is None:
            raise ValueError("accepted_at must be an aware datetime")
        due_day = self.add_working_days(accepted_at.astimezone(tz).date(), working_days)
        # The start of the next calendar day rather than 23:59:59, so nothing falls in a gap.
        return datetime.combine(due_day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)

    def _year(self, year: int) -> tuple[int, ...]:
        running = self._running.get(year)
        if running is None:
            running = self._running[year] = self._count_year(year)
        return running

    def _count_year(self, year: int) -> tuple[int, ...]:
        first = date(year, 1, 1)
        counts = [0]
        for offset in range((date(year, 12, 31) - first).days + 1):
            day = first + timedelta(days=offset)
            counts.append(counts[-1] + self._decide(day))
        return tuple(counts)

    def _decide(self, day: date) -> bool:
        override = self._overrides.get(day)
        if override is not None:
            return override
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            return day.weekday() < 5

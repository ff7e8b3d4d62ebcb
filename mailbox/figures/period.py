"""A report's period: submission dates [start, end] in the office's time zone, as of a moment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class InvalidPeriod(ValueError):
    """A period that cannot be reported: the message says why, for the person who asked."""


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    starts: datetime  # the first moment of the month (or of the period, if later)
    ends: datetime  # the first moment after it (or after the period, if earlier)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    as_of: datetime
    tz: ZoneInfo

    @classmethod
    def of_year(cls, year: int, *, as_of: datetime, tz: ZoneInfo) -> Period:
        return cls.between(date(year, 1, 1), date(year, 12, 31), as_of=as_of, tz=tz)

    @classmethod
    def between(cls, start: date, end: date, *, as_of: datetime, tz: ZoneInfo) -> Period:
        if end < start:
            raise InvalidPeriod("the period ends before it starts")
        if as_of.tzinfo is None:
            raise InvalidPeriod("as_of needs a time zone")
        return cls(start, end, as_of, tz)

    @property
    def starts(self) -> datetime:
        """The first moment of the first day."""
        return datetime.combine(self.start, time(0), self.tz)

    @property
    def ends(self) -> datetime:
        """The first moment after the last day."""
        return datetime.combine(self.end + timedelta(days=1), time(0), self.tz)

    @property
    def is_whole_year(self) -> bool:
        return (
            self.start.year == self.end.year
            and (self.start.month, self.start.day) == (1, 1)
            and (self.end.month, self.end.day) == (12, 31)
        )

    @property
    def months(self) -> list[Month]:
        """The calendar months the period touches, clipped to the period."""
        found = []
        year, month = self.start.year, self.start.month
        while date(year, month, 1) <= self.end:
            following = (year + month // 12, month % 12 + 1)
            found.append(
                Month(
                    year,
                    month,
                    max(datetime.combine(date(year, month, 1), time(0), self.tz), self.starts),
                    min(datetime.combine(date(*following, 1), time(0), self.tz), self.ends),
                )
            )
            year, month = following
        return found


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """An as-of date means the whole of that day: its last microsecond."""
    return datetime.combine(day + timedelta(days=1), time(0), tz) - timedelta(microseconds=1)


def parse_as_of(raw: str, tz: ZoneInfo) -> datetime:
    """A date (the end of that day) or a date and time (office time zone unless given)."""
    raw = raw.strip()
    try:
        if len(raw) == 10:
            return end_of_day(date.fromisoformat(raw), tz)
        moment = datetime.fromisoformat(raw)
    except (ValueError, OverflowError):  # 9999-12-31 has no day after it
        raise InvalidPeriod(f"not a date or date and time: {raw!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)

"""Working days across weekends, 春节, 国庆, 调休 Saturdays, year ends and unpublished years."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mailbox.domain.calendar import PACKAGE_YEARS, WorkingCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar()


def test_package_range_is_read_from_the_package() -> None:
    assert PACKAGE_YEARS.start == 2004
    assert 2018 in PACKAGE_YEARS and 2026 in PACKAGE_YEARS


def test_ordinary_weekend_is_skipped() -> None:
    assert CAL.add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)  # Fri → Mon
    assert not CAL.is_working_day(date(2026, 3, 7))
    assert CAL.add_working_days(date(2026, 3, 6), 0) == date(2026, 3, 6)


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError):
        CAL.add_working_days(date(2026, 3, 6), -1)


def test_guoqing_2026() -> None:
    # 中秋 Sep 25–27, 国庆 Oct 1–7; made up on Sunday Sep 20 and Saturday Oct 10.
    assert all(not CAL.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert not CAL.is_working_day(date(2026, 9, 25))
    assert CAL.is_working_day(date(2026, 9, 20))
    assert CAL.is_working_day(date(2026, 10, 10))
    assert CAL.is_working_day(date(2026, 9, 30))
    assert CAL.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    # Oct 8, 9, 10 (调休 Saturday), 12, 13.
    assert CAL.add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 13)
    assert CAL.working_days_between(date(2026, 9, 30), date(2026, 10, 13)) == 5


def test_chunjie_2026() -> None:
    # 春节 Sunday Feb 15 – Monday Feb 23; made up on Saturdays Feb 14 and Feb 28.
    assert all(not CAL.is_working_day(date(2026, 2, d)) for d in range(15, 24))
    assert CAL.is_working_day(date(2026, 2, 14))
    assert CAL.is_working_day(date(2026, 2, 28))
    assert CAL.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert CAL.add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)
    # Feb 14, 24, 25, 26, 27, 28.
    assert CAL.working_days_between(date(2026, 2, 13), date(2026, 2, 28)) == 6


def test_chunjie_2018() -> None:
    # 春节 Thursday Feb 15 – Wednesday Feb 21; made up on Sunday Feb 11 and Saturday Feb 24.
    assert all(not CAL.is_working_day(date(2018, 2, d)) for d in range(15, 22))
    assert CAL.add_working_days(date(2018, 2, 9), 1) == date(2018, 2, 11)
    assert CAL.add_working_days(date(2018, 2, 14), 1) == date(2018, 2, 22)
    assert CAL.add_working_days(date(2018, 2, 14), 3) == date(2018, 2, 24)


def test_guoqing_2018() -> None:
    # 国庆 Oct 1–7; made up on the weekend before, Saturday Sep 29 and Sunday Sep 30.
    assert CAL.is_working_day(date(2018, 9, 29)) and CAL.is_working_day(date(2018, 9, 30))
    # Sep 29, Sep 30, Oct 8, 9, 10.
    assert CAL.add_working_days(date(2018, 9, 28), 5) == date(2018, 10, 10)
    assert CAL.working_days_between(date(2018, 9, 28), date(2018, 10, 10)) == 5


def test_year_end_2018() -> None:
    # Saturday Dec 29 was worked to make up for Dec 31; the holiday ran Dec 30 – Jan 1.
    assert CAL.is_working_day(date(2018, 12, 29))
    assert not CAL.is_working_day(date(2018, 12, 31))
    assert not CAL.is_working_day(date(2019, 1, 1))
    assert CAL.add_working_days(date(2018, 12, 28), 1) == date(2018, 12, 29)
    assert CAL.add_working_days(date(2018, 12, 28), 2) == date(2019, 1, 2)
    assert CAL.add_working_days(date(2018, 12, 31), 1) == date(2019, 1, 2)
    assert CAL.add_working_days(date(2018, 12, 31), 3) == date(2019, 1, 4)
    assert CAL.working_days_between(date(2018, 12, 28), date(2019, 1, 2)) == 2
    # January 2019 had 23 weekdays, less New Year's Day.
    assert CAL.working_days_between(date(2018, 12, 31), date(2019, 1, 31)) == 22


def test_between_is_zero_unless_end_is_after_start() -> None:
    assert CAL.working_days_between(date(2026, 3, 9), date(2026, 3, 9)) == 0
    assert CAL.working_days_between(date(2026, 3, 10), date(2026, 3, 9)) == 0
    assert CAL.working_days_between(date(2026, 3, 6), date(2026, 3, 8)) == 0


def test_overrides_win_over_the_package() -> None:
    cal = WorkingCalendar(
        {date(2026, 3, 9): False, date(2026, 3, 14): True, date(2026, 10, 7): True}
    )
    assert not cal.is_working_day(date(2026, 3, 9))  # a Monday made a holiday
    assert cal.is_working_day(date(2026, 3, 14))  # a Saturday made a working day
    assert cal.is_working_day(date(2026, 10, 7))  # a 国庆 day made a working day
    assert cal.add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 10)
    assert cal.add_working_days(date(2026, 3, 13), 1) == date(2026, 3, 14)
    assert cal.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 7)
    assert cal.working_days_between(date(2026, 3, 6), date(2026, 3, 16)) == 6


def test_overrides_are_copied() -> None:
    table = {date(2026, 3, 9): False}
    cal = WorkingCalendar(table)
    table[date(2026, 3, 10)] = False
    assert cal.is_working_day(date(2026, 3, 10))
    assert dict(cal.overrides) == {date(2026, 3, 9): False}


def test_a_year_nobody_published_counts_monday_to_friday() -> None:
    year = PACKAGE_YEARS.stop + 1
    first = date(year, 1, 1)
    days = [first + timedelta(days=n) for n in range((date(year, 12, 31) - first).days + 1)]
    assert [CAL.is_working_day(day) for day in days] == [day.weekday() < 5 for day in days]
    assert CAL.working_days_between(first - timedelta(days=1), days[-1]) == sum(
        day.weekday() < 5 for day in days
    )
    assert CAL.uncovered_years([2018, year, 2026, year, 2003]) == [2003, year]
    assert not CAL.is_working_day(date(2003, 1, 4))  # a Saturday before the package's data


def test_counting_crosses_from_the_last_published_year_into_the_next() -> None:
    last = date(PACKAGE_YEARS.stop - 1, 12, 31)
    after = CAL.add_working_days(last, 3)
    assert after.year == PACKAGE_YEARS.stop
    assert CAL.working_days_between(last, after) == 3


def test_an_override_in_a_year_marks_it_covered() -> None:
    year = PACKAGE_YEARS.stop + 1
    cal = WorkingCalendar({date(year, 1, 1): False})
    assert cal.uncovered_years([year, year + 1]) == [year + 1]
    assert cal.covers(year) and not CAL.covers(year)


@pytest.mark.parametrize("year", [2018, 2026])
def test_adding_and_counting_agree(year: int) -> None:
    for start in (date(year, 1, 1) + timedelta(days=n) for n in range(0, 365, 3)):
        for days in range(0, 26):
            end = CAL.add_working_days(start, days)
            assert CAL.working_days_between(start, end) == days
            assert days == 0 or CAL.is_working_day(end)
            stepped = (start + timedelta(days=n) for n in range(1, (end - start).days + 1))
            assert sum(CAL.is_working_day(day) for day in stepped) == days


def test_deadline_is_the_end_of_the_working_day_in_beijing() -> None:
    accepted_at = datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI).astimezone(UTC)
    # Due Tuesday Oct 13; it ends at midnight in Beijing, 16:00 UTC the same date.
    assert CAL.deadline(accepted_at, 5, SHANGHAI) == datetime(2026, 10, 13, 16, 0, tzinfo=UTC)


def test_deadline_counts_from_the_date_in_beijing_not_utc() -> None:
    # Friday Oct 9 at 17:00 UTC is already Saturday Oct 10, a 调休 working day, in Beijing.
    accepted_at = datetime(2026, 10, 9, 17, 0, tzinfo=UTC)
    assert CAL.deadline(accepted_at, 1, SHANGHAI) == datetime(2026, 10, 12, 16, 0, tzinfo=UTC)
    earlier = datetime(2026, 10, 9, 15, 59, tzinfo=UTC)
    assert CAL.deadline(earlier, 1, SHANGHAI) == datetime(2026, 10, 10, 16, 0, tzinfo=UTC)


def test_deadline_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError):
        CAL.deadline(datetime(2026, 9, 30, 10, 0), 5, SHANGHAI)

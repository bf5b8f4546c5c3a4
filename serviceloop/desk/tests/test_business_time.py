"""Business time without the database: weekends, holidays, other time zones, DST, odd starts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from serviceloop.desk.business_time import (
    Calendar,
    add_business_seconds,
    business_seconds_between,
    format_duration,
    is_working_time,
)

HOUR = 3600
LONDON = Calendar(time_zone="Europe/London")
TOKYO = Calendar(time_zone="Asia/Tokyo", holidays=frozenset({date(2026, 3, 20)}))  # Vernal Equinox Day
NEW_YORK = Calendar(time_zone="America/New_York")
BERLIN_HOLIDAY = Calendar(time_zone="Europe/Berlin", holidays=frozenset({date(2026, 12, 25), date(2026, 12, 28)}))


def local(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone))  # type: ignore[misc]


def test_adding_inside_one_working_day_stays_on_that_day() -> None:
    start = local("Europe/London", 2026, 6, 3, 10, 0)  # Wednesday
    assert add_business_seconds(LONDON, start, 2 * HOUR) == local("Europe/London", 2026, 6, 3, 12, 0)


def test_adding_past_closing_time_continues_next_morning() -> None:
    start = local("Europe/London", 2026, 6, 3, 16, 0)
    assert add_business_seconds(LONDON, start, 2 * HOUR) == local("Europe/London", 2026, 6, 4, 10, 0)


def test_friday_afternoon_continues_on_monday() -> None:
    start = local("Europe/London", 2026, 6, 5, 15, 0)  # Friday
    assert add_business_seconds(LONDON, start, 4 * HOUR) == local("Europe/London", 2026, 6, 8, 11, 0)


def test_start_on_a_weekend_counts_from_monday_opening() -> None:
    start = local("Europe/London", 2026, 6, 6, 13, 0)  # Saturday
    assert add_business_seconds(LONDON, start, HOUR) == local("Europe/London", 2026, 6, 8, 10, 0)


def test_start_before_opening_counts_from_opening() -> None:
    start = local("Europe/London", 2026, 6, 3, 6, 30)
    assert add_business_seconds(LONDON, start, 30 * 60) == local("Europe/London", 2026, 6, 3, 9, 30)


def test_start_after_closing_counts_from_next_opening() -> None:
    start = local("Europe/London", 2026, 6, 3, 22, 0)
    assert add_business_seconds(LONDON, start, HOUR) == local("Europe/London", 2026, 6, 4, 10, 0)


def test_exactly_filling_a_day_ends_at_closing_time() -> None:
    start = local("Europe/London", 2026, 6, 3, 9, 0)
    assert add_business_seconds(LONDON, start, 8 * HOUR) == local("Europe/London", 2026, 6, 3, 17, 0)


def test_zero_seconds_is_the_start_itself() -> None:
    start = local("Europe/London", 2026, 6, 6, 13, 0)
    assert add_business_seconds(LONDON, start, 0) == start


def test_holiday_is_skipped_like_a_weekend() -> None:
    # Thursday 24 Dec 16:00 Berlin, 3 h: 1 h on Thursday, Friday 25th holiday, weekend, Monday 28th holiday.
    start = local("Europe/Berlin", 2026, 12, 24, 16, 0)
    assert add_business_seconds(BERLIN_HOLIDAY, start, 3 * HOUR) == local("Europe/Berlin", 2026, 12, 29, 11, 0)


def test_calendar_in_another_time_zone_uses_its_own_working_hours() -> None:
    # 09:00 UTC Monday is 18:00 in Tokyo: the day is over there, work resumes Tuesday 09:00 JST (00:00 UTC).
    start = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    assert add_business_seconds(TOKYO, start, HOUR) == datetime(2026, 6, 2, 1, 0, tzinfo=UTC)


def test_other_time_zone_across_weekend_and_holiday() -> None:
    # Thursday 19 March 2026 16:00 JST, 4 h: 1 h Thursday, Friday 20th holiday, weekend, 3 h Monday.
    start = local("Asia/Tokyo", 2026, 3, 19, 16, 0)
    assert add_business_seconds(TOKYO, start, 4 * HOUR) == local("Asia/Tokyo", 2026, 3, 23, 12, 0)


def test_between_across_weekend_counts_only_working_hours() -> None:
    start = local("Europe/London", 2026, 6, 5, 15, 0)
    end = local("Europe/London", 2026, 6, 8, 11, 0)
    assert business_seconds_between(LONDON, start, end) == 4 * HOUR


def test_between_is_negative_when_end_precedes_start() -> None:
    start = local("Europe/London", 2026, 6, 3, 12, 0)
    end = local("Europe/London", 2026, 6, 3, 10, 0)
    assert business_seconds_between(LONDON, start, end) == -2 * HOUR


def test_between_outside_hours_is_zero() -> None:
    start = local("Europe/London", 2026, 6, 6, 1, 0)
    end = local("Europe/London", 2026, 6, 7, 23, 0)
    assert business_seconds_between(LONDON, start, end) == 0


def test_between_and_add_agree() -> None:
    start = local("America/New_York", 2026, 6, 3, 11, 17)
    for seconds in (1, 59, HOUR, 7 * HOUR, 8 * HOUR, 41 * HOUR + 13):
        end = add_business_seconds(NEW_YORK, start, seconds)
        assert business_seconds_between(NEW_YORK, start, end) == seconds


def test_working_hours_follow_local_clock_across_dst_start() -> None:
    # London moves to BST on Sunday 29 March 2026: opening is 09:00 UTC on Friday, 08:00 UTC on Monday.
    friday = local("Europe/London", 2026, 3, 27, 16, 0)
    assert add_business_seconds(LONDON, friday, 2 * HOUR) == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)


def test_working_hours_follow_local_clock_across_dst_end() -> None:
    # New York leaves DST on Sunday 1 November 2026: Monday opens at 14:00 UTC, Friday opened at 13:00 UTC.
    friday = local("America/New_York", 2026, 10, 30, 16, 30)
    assert add_business_seconds(NEW_YORK, friday, HOUR) == datetime(2026, 11, 2, 14, 30, tzinfo=UTC)


def test_interval_spanning_dst_change_is_as_long_as_real_time() -> None:
    # A night shift 00:00–04:00 on the night London springs forward lasts three real hours.
    night = Calendar(time_zone="Europe/London", hours={6: ((time(0), time(4)),)})
    sunday = local("Europe/London", 2026, 3, 29, 0, 0)
    assert business_seconds_between(night, sunday, local("Europe/London", 2026, 3, 29, 5, 0)) == 3 * HOUR


def test_interval_until_midnight() -> None:
    late = Calendar(time_zone="UTC", hours={0: ((time(20), time(0)),)})
    start = datetime(2026, 6, 1, 21, 0, tzinfo=UTC)
    assert add_business_seconds(late, start, 4 * HOUR) == datetime(2026, 6, 8, 21, 0, tzinfo=UTC)


def test_split_shift_skips_the_lunch_break() -> None:
    split = Calendar(time_zone="UTC", hours={d: ((time(9), time(12)), (time(13), time(17))) for d in range(5)})
    start = datetime(2026, 6, 3, 11, 0, tzinfo=UTC)
    assert add_business_seconds(split, start, 2 * HOUR) == datetime(2026, 6, 3, 14, 0, tzinfo=UTC)


def test_from_spec_reads_stored_json() -> None:
    calendar = Calendar.from_spec(time_zone="Europe/Paris", hours={"0": [["08:30", "24:00"]]}, holidays=[])
    assert calendar.hours[0] == ((time(8, 30), time(0)),)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        add_business_seconds(LONDON, datetime(2026, 6, 3, 10, 0), 10)


def test_calendar_without_working_time_is_refused() -> None:
    with pytest.raises(ValueError, match="no working time"):
        add_business_seconds(Calendar(hours={}), datetime(2026, 6, 3, tzinfo=UTC), 10)


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(Exception, match="Mars"):
        Calendar(time_zone="Mars/Olympus")


def test_is_working_time() -> None:
    assert is_working_time(LONDON, local("Europe/London", 2026, 6, 3, 9, 0))
    assert not is_working_time(LONDON, local("Europe/London", 2026, 6, 3, 17, 0))
    assert not is_working_time(LONDON, local("Europe/London", 2026, 6, 6, 12, 0))


def test_format_duration() -> None:
    assert format_duration(45 * 60) == "45 min"
    assert format_duration(2 * HOUR + 5 * 60) == "2 h 05 min"
    assert format_duration(-(26 * HOUR)) == "-1 d 2 h"

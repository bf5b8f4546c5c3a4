"""Business time: working hours of a calendar in its own time zone, with holidays.

Pure functions over a `Calendar` value, no database: SLA clocks count only the seconds that fall
inside working hours. Working hours are wall-clock times in the calendar's zone, so a DST change
moves them with the local clock; a day whose working interval crosses a DST change is as long as
the real elapsed time (an hour shorter or longer).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

# How far the clock searches for working time before deciding the calendar has none.
MAX_DAYS = 3 * 366

WorkingHours = Mapping[int, tuple[tuple[time, time], ...]]


def _standard_hours() -> dict[int, tuple[tuple[time, time], ...]]:
    return {day: ((time(9), time(17)),) for day in range(5)}


@dataclass(frozen=True)
class Calendar:
    """A time zone, working intervals per weekday (0 = Monday) and holidays (local dates)."""

    time_zone: str = "UTC"
    hours: WorkingHours = field(default_factory=_standard_hours)
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        zoneinfo.ZoneInfo(self.time_zone)  # raises for an unknown zone
        for day, intervals in self.hours.items():
            if not 0 <= day <= 6:
                raise ValueError(f"weekday {day} is not 0 (Monday) to 6 (Sunday)")
            for start, end in intervals:
                if end <= start and end != time(0):
                    raise ValueError(f"working interval {start}–{end} ends before it starts")

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @classmethod
    def from_spec(
        cls, *, time_zone: str, hours: Mapping[str, Iterable[Iterable[str]]], holidays: Iterable[date]
    ) -> Calendar:
        """From stored JSON: {"0": [["09:00", "17:00"]], ...}; "24:00" or "00:00" as an end means midnight."""
        parsed: dict[int, tuple[tuple[time, time], ...]] = {}
        for day, intervals in hours.items():
            parsed[int(day)] = tuple((_parse_time(start), _parse_time(end)) for start, end in intervals)
        return cls(time_zone=time_zone, hours=parsed, holidays=frozenset(holidays))

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working intervals of a local date, as aware UTC instants (none on a holiday)."""
        if day in self.holidays:
            return []
        zone = self.zone
        result = []
        for start, end in self.hours.get(day.weekday(), ()):
            begin = datetime.combine(day, start, tzinfo=zone).astimezone(UTC)
            finish = (
                datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
                if end == time(0)
                else datetime.combine(day, end, tzinfo=zone)
            ).astimezone(UTC)
            if finish > begin:
                result.append((begin, finish))
        return result

    def _days_from(self, instant: datetime, step: int = 1) -> Iterator[date]:
        day = instant.astimezone(self.zone).date() - timedelta(days=step)
        for _ in range(MAX_DAYS + 2):
            yield day
            day += timedelta(days=step)
        raise ValueError("the calendar has no working time within three years")


def _parse_time(value: str) -> time:
    if value in ("24:00", "24:00:00"):
        return time(0)
    return time.fromisoformat(value)


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("business time needs aware datetimes")
    return instant.astimezone(UTC)


def add_business_seconds(calendar: Calendar, start: datetime, seconds: float) -> datetime:
    """The instant when `seconds` of working time have passed after `start` (UTC).

    Zero seconds from outside working hours gives `start` itself: nothing is owed yet.
    """
    if seconds < 0:
        raise ValueError("cannot add negative business time")
    start = _aware(start)
    if seconds == 0:
        return start
    remaining = timedelta(seconds=seconds)
    # Start a day early: a working interval of yesterday (local) may still be running in UTC.
    for day in calendar._days_from(start):
        for begin, end in calendar.intervals_on(day):
            if end <= start:
                continue
            begin = max(begin, start)
            available = end - begin
            if available >= remaining:
                return begin + remaining
            remaining -= available
    raise AssertionError("unreachable")  # pragma: no cover


def business_seconds_between(calendar: Calendar, start: datetime, end: datetime) -> float:
    """Working seconds between two instants; negative when `end` is before `start`."""
    start, end = _aware(start), _aware(end)
    if end < start:
        return -business_seconds_between(calendar, end, start)
    total = timedelta(0)
    last_day = end.astimezone(calendar.zone).date() + timedelta(days=1)
    day = start.astimezone(calendar.zone).date() - timedelta(days=1)
    while day <= last_day:
        for begin, finish in calendar.intervals_on(day):
            lo, hi = max(begin, start), min(finish, end)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total.total_seconds()


def is_working_time(calendar: Calendar, instant: datetime) -> bool:
    instant = _aware(instant)
    local_day = instant.astimezone(calendar.zone).date()
    for day in (local_day - timedelta(days=1), local_day):
        for begin, end in calendar.intervals_on(day):
            if begin <= instant < end:
                return True
    return False


def format_duration(seconds: float) -> str:
    """'2 h 05 min', '45 min', '3 d 4 h' (calendar days of 24 h): for clocks on pages."""
    negative = seconds < 0
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        text = f"{days} d {hours} h"
    elif hours:
        text = f"{hours} h {minutes:02d} min"
    else:
        text = f"{minutes} min"
    return f"-{text}" if negative else text


def time_left_words(seconds: float, *, business: bool = False) -> str:
    """A clock in words: '3 h 10 min left', 'breached 2 d 4 h ago' — never a bare '−2 d 4 h'."""
    kind = " of business time" if business else ""
    if seconds < 0:
        return f"breached {format_duration(-seconds)}{kind} ago"
    return f"{format_duration(seconds)}{kind} left"

"""Uptime arithmetic of the status page: pure functions over time intervals, no database.

The rule (docs/status-page.md): a service is *down* while it is in `major_outage` or
`partial_outage`; `degraded_performance` counts as up (incident.io's rule). Time under maintenance
(a `under_maintenance` interval, or an active maintenance window that affects the service) is not
agreed time at all: it counts neither up nor down. Overlapping intervals count once (their union).
Time before the service is counted (its component's start date, or the day the service was made)
and time after `now` are not agreed either, so today and the first day are partial days.

uptime % = (agreed − down) / agreed × 100, None when nothing was agreed.

`status.py` loads the intervals from the database (ComponentStatusChange rows, maintenance windows)
and calls these; tests call them with hand-made intervals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

OPERATIONAL = "operational"
DEGRADED = "degraded_performance"
PARTIAL = "partial_outage"
MAJOR = "major_outage"
MAINTENANCE = "under_maintenance"

DOWN_STATUSES = frozenset({PARTIAL, MAJOR})
# How bad a day looks on the bars: the worst state seen in it.
RANK = {OPERATIONAL: 0, MAINTENANCE: 1, DEGRADED: 2, PARTIAL: 3, MAJOR: 4}

Window = tuple[datetime, datetime]


@dataclass(frozen=True)
class IncidentRef:
    """An incident (or maintenance) named on a day of the bars."""

    public_id: str
    name: str


@dataclass(frozen=True)
class Change:
    """One status change of a service through an incident, as stored (ComponentStatusChange)."""

    incident: IncidentRef
    status: str
    started_at: datetime
    ended_at: datetime | None = None
    # When the incident was resolved (or the maintenance completed): an open-ended change stops there.
    closed_at: datetime | None = None


@dataclass(frozen=True)
class Span:
    """A change turned into a closed interval."""

    incident: IncidentRef
    status: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class DayUptime:
    date: date
    agreed_seconds: float
    down_seconds: float
    percent: float | None
    worst_status: str
    incidents: tuple[IncidentRef, ...]


@dataclass(frozen=True)
class MonthUptime:
    month: date  # the first day of the month
    agreed_seconds: float
    down_seconds: float
    percent: float | None


def spans_of(changes: Iterable[Change], now: datetime) -> list[Span]:
    """Each change lasts until its `ended_at`, else until the next change of the same incident
    (and service: the caller passes one service's changes), else until the incident closed, else now."""
    by_incident: dict[str, list[Change]] = {}
    for change in changes:
        by_incident.setdefault(change.incident.public_id, []).append(change)
    spans = []
    for rows in by_incident.values():
        rows.sort(key=lambda row: row.started_at)
        for index, row in enumerate(rows):
            end = row.ended_at
            if end is None and index + 1 < len(rows):
                end = rows[index + 1].started_at
            if end is None:
                end = row.closed_at if row.closed_at is not None else now
            end = min(end, now)
            if end > row.started_at:
                spans.append(Span(row.incident, row.status, row.started_at, end))
    spans.sort(key=lambda span: (span.start, span.end))
    return spans


def union(windows: Iterable[Window]) -> list[Window]:
    """Overlapping or touching windows merged: each instant counts once."""
    merged: list[Window] = []
    for start, end in sorted(w for w in windows if w[1] > w[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def subtract(windows: Sequence[Window], holes: Sequence[Window]) -> list[Window]:
    """`windows` (merged) without the instants of `holes` (merged)."""
    result: list[Window] = []
    for start, end in windows:
        cursor = start
        for hole_start, hole_end in holes:
            if hole_end <= cursor or hole_start >= end:
                continue
            if hole_start > cursor:
                result.append((cursor, hole_start))
            cursor = max(cursor, hole_end)
        if cursor < end:
            result.append((cursor, end))
    return result


def measure(windows: Iterable[Window], start: datetime, end: datetime) -> float:
    """Seconds of `windows` inside [start, end)."""
    total = 0.0
    for window_start, window_end in windows:
        lo, hi = max(window_start, start), min(window_end, end)
        if hi > lo:
            total += (hi - lo).total_seconds()
    return total


def _maintenance(spans: Sequence[Span], windows: Iterable[Window]) -> list[Window]:
    return union([*windows, *((s.start, s.end) for s in spans if s.status == MAINTENANCE)])


def agreed_and_down(
    spans: Sequence[Span],
    maintenance: Iterable[Window],
    start: datetime,
    end: datetime,
    counted_from: datetime | None = None,
) -> tuple[float, float]:
    """Agreed and down seconds of [start, end): agreed excludes maintenance and time before
    `counted_from`; down is the union of outage spans outside maintenance."""
    lo = max(start, counted_from) if counted_from is not None else start
    if end <= lo:
        return 0.0, 0.0
    held = _maintenance(spans, maintenance)
    agreed = (end - lo).total_seconds() - measure(held, lo, end)
    down_windows = subtract(union((s.start, s.end) for s in spans if s.status in DOWN_STATUSES), held)
    return agreed, measure(down_windows, lo, end)


def percent(agreed: float, down: float) -> float | None:
    return None if agreed <= 0 else (agreed - down) / agreed * 100


def day_bounds(day: date, zone: tzinfo) -> Window:
    """The day's midnight to the next midnight in `zone`, in UTC (a DST day has 23 or 25 hours)."""
    start = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
    return start, end


def daily(
    spans: Sequence[Span],
    maintenance: Sequence[Window],
    *,
    days: int,
    now: datetime,
    zone: tzinfo,
    counted_from: datetime | None = None,
) -> list[DayUptime]:
    """The last `days` days up to and including today (in `zone`), oldest first."""
    today = now.astimezone(zone).date()
    held = _maintenance(spans, maintenance)
    result = []
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        start, end = day_bounds(day, zone)
        end = min(end, now)
        agreed, down = agreed_and_down(spans, maintenance, start, end, counted_from)
        seen = [s for s in spans if s.start < end and s.end > start]
        worst = max((s.status for s in seen), key=RANK.__getitem__, default=OPERATIONAL)
        if RANK[worst] < RANK[MAINTENANCE] and measure(held, start, end) > 0:
            worst = MAINTENANCE
        incidents = tuple(dict.fromkeys(s.incident for s in seen))
        result.append(DayUptime(day, agreed, down, percent(agreed, down), worst, incidents))
    return result


def month_starts(now: datetime, zone: tzinfo, months: int) -> list[date]:
    """The first days of the last `months` months including this one, oldest first."""
    first = now.astimezone(zone).date().replace(day=1)
    starts = [first]
    while len(starts) < months:
        starts.append((starts[-1] - timedelta(days=1)).replace(day=1))
    return starts[::-1]


def next_month(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1)


def monthly(
    spans: Sequence[Span],
    maintenance: Sequence[Window],
    *,
    months: int,
    now: datetime,
    zone: tzinfo,
    counted_from: datetime | None = None,
) -> list[MonthUptime]:
    result = []
    for first in month_starts(now, zone, months):
        start = day_bounds(first, zone)[0]
        end = min(day_bounds(next_month(first), zone)[0], now)
        agreed, down = agreed_and_down(spans, maintenance, start, end, counted_from)
        result.append(MonthUptime(first, agreed, down, percent(agreed, down)))
    return result

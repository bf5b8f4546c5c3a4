"""Uptime figures against hand-computed fixtures (uptime.py is pure: no database here)."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest

from serviceloop.incidents import uptime
from serviceloop.incidents.uptime import DEGRADED, MAINTENANCE, MAJOR, OPERATIONAL, PARTIAL, Change, IncidentRef

A = IncidentRef("inc-a", "Mail is down")
B = IncidentRef("inc-b", "Mail is slow")
DAY = 86400.0


def at(hour: int, minute: int = 0, day: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def span(status: str, start: datetime, end: datetime, incident: IncidentRef = A) -> uptime.Span:
    return uptime.Span(incident, status, start, end)


def test_the_anchor_example_counts_only_the_outage_as_down() -> None:
    # ANCHORS: operational 09:00–09:10, degraded 09:10–09:40, outage 09:40–10:00. Open-ended rows of
    # one incident each last until the next one; the last is ended.
    changes = [
        Change(A, OPERATIONAL, at(9)),
        Change(A, DEGRADED, at(9, 10)),
        Change(A, MAJOR, at(9, 40), ended_at=at(10)),
    ]
    spans = uptime.spans_of(changes, now=at(12))
    assert [(s.status, s.start, s.end) for s in spans] == [
        (OPERATIONAL, at(9), at(9, 10)),
        (DEGRADED, at(9, 10), at(9, 40)),
        (MAJOR, at(9, 40), at(10)),
    ]
    agreed, down = uptime.agreed_and_down(spans, [], at(9), at(10))
    # Degraded counts as up: 20 of the 60 minutes are down, 40 up → 66.7% (incident.io's figure).
    assert (agreed, down) == (3600, 1200)
    assert uptime.percent(agreed, down) == pytest.approx(66.667, abs=0.001)
    # Had degraded counted as down, 50 minutes would be down: 16.7%. Our rule does not do that.
    assert uptime.percent(agreed, down) != pytest.approx(100 * 600 / 3600)


def test_a_partial_outage_is_down_like_a_major_one() -> None:
    spans = [span(PARTIAL, at(9), at(9, 30))]
    assert uptime.agreed_and_down(spans, [], at(9), at(10)) == (3600, 1800)


def test_overlapping_incidents_count_once() -> None:
    # A: major 10:00–11:00; B: partial 10:30–11:30 → down 10:00–11:30, 90 minutes.
    spans = [span(MAJOR, at(10), at(11), A), span(PARTIAL, at(10, 30), at(11, 30), B)]
    agreed, down = uptime.agreed_and_down(spans, [], at(0), at(0, day=11))
    assert (agreed, down) == (DAY, 5400)
    assert uptime.percent(agreed, down) == pytest.approx(93.75)


def test_maintenance_is_not_agreed_time_and_an_outage_inside_it_is_not_down() -> None:
    # Maintenance window 02:00–04:00; outage 03:00–05:00 → only 04:00–05:00 is down.
    spans = [span(MAJOR, at(3), at(5))]
    agreed, down = uptime.agreed_and_down(spans, [(at(2), at(4))], at(0), at(0, day=11))
    assert (agreed, down) == (DAY - 7200, 3600)
    assert uptime.percent(agreed, down) == pytest.approx(100 * (79200 - 3600) / 79200)


def test_an_under_maintenance_change_is_excluded_too() -> None:
    spans = [span(MAINTENANCE, at(2), at(3)), span(MAJOR, at(2, 30), at(3, 30))]
    assert uptime.agreed_and_down(spans, [], at(0), at(0, day=11)) == (DAY - 3600, 1800)


def test_today_is_a_partial_day() -> None:
    now = at(12)
    days = uptime.daily([span(MAJOR, at(11), at(11, 30))], [], days=2, now=now, zone=UTC)
    assert [d.date for d in days] == [date(2026, 11, 9), date(2026, 11, 10)]
    today = days[-1]
    assert (today.agreed_seconds, today.down_seconds) == (43200, 1800)
    assert today.percent == pytest.approx(100 * 41400 / 43200)
    assert today.worst_status == MAJOR and today.incidents == (A,)
    assert days[0].percent == 100 and days[0].worst_status == OPERATIONAL and days[0].incidents == ()


def test_an_outage_crossing_midnight_counts_on_both_days() -> None:
    spans = [span(MAJOR, at(23, day=9), at(1, day=10))]
    # Now is midnight of the 11th: the 9th and the 10th are whole days, the 11th has just begun.
    days = uptime.daily(spans, [], days=3, now=at(0, day=11), zone=UTC)[:2]
    assert [d.date for d in days] == [date(2026, 11, 9), date(2026, 11, 10)]
    assert [d.down_seconds for d in days] == [3600, 3600]
    assert all(d.agreed_seconds == DAY for d in days)
    assert all(d.incidents == (A,) for d in days)


def test_an_incident_still_open_is_down_until_now() -> None:
    spans = uptime.spans_of([Change(A, MAJOR, at(10))], now=at(10, 45))
    assert spans == [span(MAJOR, at(10), at(10, 45))]
    today = uptime.daily(spans, [], days=1, now=at(10, 45), zone=UTC)[0]
    assert today.down_seconds == 2700 and today.agreed_seconds == 10 * 3600 + 2700


def test_an_open_ended_change_stops_when_its_incident_was_resolved() -> None:
    spans = uptime.spans_of([Change(A, PARTIAL, at(10), closed_at=at(10, 20))], now=at(18))
    assert spans == [span(PARTIAL, at(10), at(10, 20))]


def test_changes_of_different_incidents_do_not_end_each_other() -> None:
    spans = uptime.spans_of([Change(A, MAJOR, at(10)), Change(B, DEGRADED, at(10, 30))], now=at(11))
    assert [(s.incident, s.end) for s in spans] == [(A, at(11)), (B, at(11))]


def test_days_before_the_service_is_counted_have_no_figure() -> None:
    counted_from = at(0, day=10)
    days = uptime.daily([], [], days=3, now=at(6, day=10), zone=UTC, counted_from=counted_from)
    assert [d.percent for d in days] == [None, None, 100]
    assert [d.agreed_seconds for d in days] == [0, 0, 6 * 3600]


def test_the_worst_state_of_a_day_names_maintenance_below_any_trouble() -> None:
    days = uptime.daily([span(DEGRADED, at(9), at(10))], [(at(1), at(2))], days=1, now=at(12), zone=UTC)
    assert days[0].worst_status == DEGRADED and days[0].percent == 100
    quiet = uptime.daily([], [(at(1), at(2))], days=1, now=at(12), zone=UTC)[0]
    assert quiet.worst_status == MAINTENANCE and quiet.agreed_seconds == 11 * 3600


def test_days_follow_the_page_time_zone_including_a_short_dst_day() -> None:
    london = zoneinfo.ZoneInfo("Europe/London")
    now = datetime(2026, 3, 30, 12, tzinfo=UTC)
    days = uptime.daily([], [], days=2, now=now, zone=london)
    assert days[0].date == date(2026, 3, 29) and days[0].agreed_seconds == 23 * 3600


def test_monthly_uptime_of_hand_computed_months() -> None:
    now = datetime(2026, 11, 15, tzinfo=UTC)
    spans = [span(MAJOR, datetime(2026, 10, 31, 23, tzinfo=UTC), datetime(2026, 11, 1, 2, tzinfo=UTC))]
    october, november = uptime.monthly(spans, [], months=2, now=now, zone=UTC)
    assert october.month == date(2026, 10, 1) and november.month == date(2026, 11, 1)
    assert (october.agreed_seconds, october.down_seconds) == (31 * DAY, 3600)
    assert (november.agreed_seconds, november.down_seconds) == (14 * DAY, 7200)
    assert november.percent == pytest.approx(100 * (14 * DAY - 7200) / (14 * DAY))


def test_union_and_subtract() -> None:
    assert uptime.union([(at(1), at(3)), (at(2), at(4)), (at(5), at(6))]) == [(at(1), at(4)), (at(5), at(6))]
    assert uptime.subtract([(at(1), at(6))], [(at(2), at(3)), (at(4), at(5))]) == [
        (at(1), at(2)),
        (at(3), at(4)),
        (at(5), at(6)),
    ]
    assert uptime.measure([(at(1), at(3))], at(2), at(2) + timedelta(hours=5)) == 3600

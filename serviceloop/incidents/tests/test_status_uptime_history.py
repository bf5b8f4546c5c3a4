"""Uptime read from the database: status changes, maintenance windows, start dates, visibility."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from serviceloop.accounts.models import User
from serviceloop.core.testing import Travel
from serviceloop.incidents import status
from serviceloop.incidents.models import Component, ComponentStatus
from serviceloop.incidents.tests.factories_status import make_change, make_component, make_incident, make_maintenance

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY = 86400


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def mail(sam: User, travel: Travel) -> Component:
    travel.to(datetime(2026, 1, 1, tzinfo=UTC))
    component = make_component(sam, "Mail")
    travel.to(NOW)
    return component


def test_changes_of_one_incident_chain_and_an_open_one_runs_until_now(mail: Component) -> None:
    incident = make_incident(services={mail.service: ComponentStatus.MAJOR})
    make_change(incident, mail.service, ComponentStatus.DEGRADED, at(20, 9))
    make_change(incident, mail.service, ComponentStatus.MAJOR, at(20, 10))  # still open at 12:00
    today = status.daily_uptime(mail.service, days=1)[0]
    assert (today.agreed_seconds, today.down_seconds) == (12 * 3600, 2 * 3600)
    assert today.worst_status == ComponentStatus.MAJOR
    assert [ref.public_id for ref in today.incidents] == [incident.public_id]


def test_a_resolved_incident_stops_an_open_ended_change(mail: Component) -> None:
    incident = make_incident(services={mail.service: ComponentStatus.MAJOR}, status="resolved", resolved_at=at(19, 3))
    make_change(incident, mail.service, ComponentStatus.PARTIAL, at(19, 2))
    days = status.daily_uptime(mail.service, days=2)
    assert days[0].down_seconds == 3600 and days[1].down_seconds == 0


def test_overlapping_incidents_and_a_maintenance_window(mail: Component) -> None:
    first = make_incident(services={mail.service: ComponentStatus.MAJOR}, status="resolved")
    second = make_incident(services={mail.service: ComponentStatus.PARTIAL}, status="resolved")
    make_change(first, mail.service, ComponentStatus.MAJOR, at(18, 10), at(18, 11))
    make_change(second, mail.service, ComponentStatus.PARTIAL, at(18, 10, 30), at(18, 12))
    # The maintenance ran 11:30–13:00: the last half hour of the outage falls inside it.
    make_maintenance(services=[mail.service], status="completed", starts=at(18, 11, 30), hours=1.5)
    day = status.daily_uptime(mail.service, days=3)[0]
    assert day.date == date(2026, 11, 18)
    assert (day.agreed_seconds, day.down_seconds) == (DAY - 5400, 5400)
    assert day.percent == pytest.approx(100 * (DAY - 10800) / (DAY - 5400))
    assert status.uptime_percent(mail.service, at(18, 0), at(19, 0)) == pytest.approx(day.percent)


def test_an_active_maintenance_is_excluded_until_now(mail: Component) -> None:
    make_maintenance(services=[mail.service], status="in_progress", starts=at(20, 10), hours=4)
    today = status.daily_uptime(mail.service, days=1)[0]
    assert today.agreed_seconds == 10 * 3600 and today.worst_status == ComponentStatus.MAINTENANCE


def test_the_component_start_date_bounds_the_counted_days(mail: Component) -> None:
    mail.start_date = date(2026, 11, 19)
    mail.save()
    mail.service.refresh_from_db()
    assert [d.percent for d in status.daily_uptime(mail.service, days=3)] == [None, 100, 100]


def test_the_service_creation_day_bounds_it_without_a_start_date(sam: User, travel: Travel) -> None:
    travel.to(at(19, 15))
    late = make_component(sam, "Chat")
    travel.to(NOW)
    days = status.daily_uptime(late.service, days=3)
    assert [d.percent for d in days] == [None, 100, 100] and days[1].agreed_seconds == DAY


def test_the_public_page_counts_only_public_incidents(mail: Component) -> None:
    internal = make_incident(services={mail.service: ComponentStatus.MAJOR}, status="resolved", visibility="internal")
    make_change(internal, mail.service, ComponentStatus.MAJOR, at(19, 0), at(19, 6))
    assert status.daily_uptime(mail.service, days=2)[0].down_seconds == 6 * 3600
    assert status.daily_uptime(mail.service, days=2, public_only=True)[0].down_seconds == 0


def test_monthly_uptime(mail: Component) -> None:
    incident = make_incident(services={mail.service: ComponentStatus.MAJOR}, status="resolved")
    make_change(incident, mail.service, ComponentStatus.MAJOR, datetime(2026, 10, 31, 22, tzinfo=UTC), at(1, 1))
    *_, october, november = status.monthly_uptime(mail.service, months=3)
    assert (october.month, october.down_seconds, october.agreed_seconds) == (date(2026, 10, 1), 7200, 31 * DAY)
    assert (november.down_seconds, november.agreed_seconds) == (3600, 19.5 * DAY)


def test_an_old_open_ended_change_of_a_long_resolved_incident_is_not_read(mail: Component) -> None:
    old = make_incident(
        services={mail.service: ComponentStatus.MAJOR}, status="resolved", resolved_at=at(1, 1) - timedelta(days=200)
    )
    make_change(old, mail.service, ComponentStatus.MAJOR, at(1, 0) - timedelta(days=200))
    data = status.history([mail.service], at(1, 0), NOW, public_only=False)
    assert data.changes == {}

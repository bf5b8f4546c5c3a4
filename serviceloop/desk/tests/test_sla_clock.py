"""SLA clocks pause, resume and breach correctly across a weekend and a holiday in another time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from serviceloop.core.testing import subscribed
from serviceloop.desk.models import SlaEvent, Ticket, TicketEvent
from serviceloop.desk.services import sla_check, ticket_clocks, ticket_reply, ticket_resolve, ticket_set_status
from serviceloop.desk.tests.factories import make_calendar, make_target, make_ticket

NY = ZoneInfo("America/New_York")
LABOR_DAY = date(2026, 9, 7)  # Monday


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)  # type: ignore[misc]


@pytest.fixture
def new_york_target(service: Any, offering: Any) -> Any:
    calendar = make_calendar("America/New_York", holidays=(LABOR_DAY,))
    return make_target(
        service, offering=offering, calendar=calendar, first_response_minutes=120, resolution_minutes=8 * 60
    )


@pytest.fixture
def friday_ticket(travel: Any, new_york_target: Any, carol_person: Any, service: Any) -> Ticket:
    # Friday before Labor Day, 15:00 in New York (19:00 UTC); the agent's own clock says nothing about it.
    travel.to(ny(2026, 9, 4, 15, 0))
    return make_ticket(carol_person, service, channel=Ticket.Channel.PORTAL)


def test_due_instants_skip_the_weekend_and_the_holiday_in_the_calendars_zone(friday_ticket: Ticket) -> None:
    assert friday_ticket.sla_target is not None
    assert friday_ticket.first_response_due_at == ny(2026, 9, 4, 17, 0)
    # 2 h on Friday, Saturday and Sunday off, Monday a holiday, 6 h on Tuesday.
    assert friday_ticket.resolution_due_at == ny(2026, 9, 8, 15, 0)
    assert friday_ticket.resolution_warn_at == ny(2026, 9, 8, 13, 24)  # 80% of 8 h


def test_waiting_on_customer_pauses_and_the_reply_resumes_with_the_paused_time_added(
    friday_ticket: Ticket, travel: Any, alex: Any, carol: Any
) -> None:
    travel.to(ny(2026, 9, 4, 16, 0))
    ticket_reply(ticket=friday_ticket, body="Which printer exactly?", by_user=alex, channel=Ticket.Channel.STAFF)
    travel.to(ny(2026, 9, 4, 16, 30))
    ticket = ticket_set_status(ticket=friday_ticket, status=Ticket.Status.WAITING_CUSTOMER, by=alex)
    assert ticket.clock_stopped_at == ny(2026, 9, 4, 16, 30)

    # Carol answers on Tuesday at 10:00: paused 30 min on Friday, nothing over the weekend and the holiday,
    # 1 h on Tuesday morning.
    travel.to(ny(2026, 9, 8, 10, 0))
    ticket_reply(ticket=ticket, body="The one by the lifts.", by_user=carol, channel=Ticket.Channel.PORTAL)
    ticket.refresh_from_db()

    assert ticket.status == Ticket.Status.OPEN
    assert ticket.clock_stopped_at is None
    assert ticket.paused_seconds == 90 * 60
    assert ticket.resolution_due_at == ny(2026, 9, 8, 16, 30)
    assert ticket.resolution_warn_at == ny(2026, 9, 8, 14, 54)
    kinds = list(ticket.events.values_list("kind", flat=True))
    assert TicketEvent.Kind.CLOCK_PAUSED in kinds and TicketEvent.Kind.CLOCK_RESUMED in kinds


def test_paused_clock_shows_the_time_left_when_it_stopped(friday_ticket: Ticket, travel: Any, alex: Any) -> None:
    travel.to(ny(2026, 9, 4, 16, 30))
    ticket = ticket_set_status(ticket=friday_ticket, status=Ticket.Status.WAITING_CUSTOMER, by=alex)
    clocks = {c.target: c for c in ticket_clocks(ticket, now=ny(2026, 9, 9, 12, 0))}
    assert clocks["resolution"].state == "paused"
    assert clocks["resolution"].seconds_left == 6.5 * 3600


def test_breach_is_recorded_at_the_instant_it_happened_not_when_the_task_ran(
    friday_ticket: Ticket, travel: Any, alex: Any, carol: Any, django_capture_on_commit_callbacks: Any
) -> None:
    travel.to(ny(2026, 9, 4, 16, 0))
    ticket_reply(ticket=friday_ticket, body="Looking at it.", by_user=alex, channel=Ticket.Channel.STAFF)
    travel.to(ny(2026, 9, 4, 16, 30))
    ticket_set_status(ticket=friday_ticket, status=Ticket.Status.WAITING_CUSTOMER, by=alex)
    travel.to(ny(2026, 9, 8, 10, 0))
    ticket_reply(ticket=friday_ticket, body="Still broken.", by_user=carol, channel=Ticket.Channel.PORTAL)

    with subscribed("ticket.sla_breached") as received, django_capture_on_commit_callbacks(execute=True):
        assert sla_check(now=ny(2026, 9, 8, 16, 0)) == 1  # the warning at 14:54 only
        # The task runs late, on Wednesday morning: the breach still happened on Tuesday at 16:30.
        assert sla_check(now=ny(2026, 9, 9, 10, 0)) == 1
        assert sla_check(now=ny(2026, 9, 9, 10, 1)) == 0

    events = {(e.target, e.kind): e.at for e in SlaEvent.objects.filter(ticket=friday_ticket)}
    assert events == {
        ("resolution", "warning"): ny(2026, 9, 8, 14, 54),
        ("resolution", "breached"): ny(2026, 9, 8, 16, 30),
    }
    assert [event.data for event in received] == [
        {
            "ticket_id": friday_ticket.pk,
            "target": "resolution",
            "breached_at": "2026-09-08T20:30:00+00:00",  # stored in UTC
        }
    ]
    friday_ticket.refresh_from_db()
    assert friday_ticket.resolution_breached and not friday_ticket.first_response_breached


def test_a_paused_ticket_does_not_breach_while_waiting_on_the_customer(
    friday_ticket: Ticket, travel: Any, alex: Any
) -> None:
    travel.to(ny(2026, 9, 4, 16, 0))
    ticket_reply(ticket=friday_ticket, body="Can you send a photo?", by_user=alex, channel=Ticket.Channel.STAFF)
    ticket_set_status(ticket=friday_ticket, status=Ticket.Status.WAITING_CUSTOMER, by=alex)
    assert sla_check(now=ny(2026, 9, 30, 12, 0)) == 0
    assert not SlaEvent.objects.exists()


def test_unanswered_ticket_breaches_first_response_at_its_due_instant(friday_ticket: Ticket) -> None:
    sla_check(now=ny(2026, 9, 8, 9, 30))
    first = SlaEvent.objects.get(target="first_response", kind="breached")
    assert first.at == ny(2026, 9, 4, 17, 0)
    assert first.at.astimezone(UTC) == datetime(2026, 9, 4, 21, 0, tzinfo=UTC)


def test_late_first_response_is_a_breach_even_when_noticed_afterwards(
    friday_ticket: Ticket, travel: Any, alex: Any
) -> None:
    travel.to(ny(2026, 9, 8, 9, 15))
    ticket_reply(ticket=friday_ticket, body="Sorry for the wait.", by_user=alex, channel=Ticket.Channel.STAFF)
    sla_check(now=ny(2026, 9, 8, 9, 20))
    assert SlaEvent.objects.filter(target="first_response", kind="breached", at=ny(2026, 9, 4, 17, 0)).exists()


def test_ticket_resolved_in_time_records_no_breach(friday_ticket: Ticket, travel: Any, alex: Any) -> None:
    travel.to(ny(2026, 9, 4, 16, 0))
    ticket_resolve(ticket=friday_ticket, by=alex, resolution="Cleared the jam.")
    assert sla_check(now=ny(2026, 9, 20, 12, 0)) == 0
    clocks = {c.target: c.state for c in ticket_clocks(Ticket.objects.get(pk=friday_ticket.pk), now=ny(2026, 9, 20))}
    assert clocks == {"first_response": "met", "resolution": "met"}


def test_ticket_resolved_late_breaches_at_the_due_instant(friday_ticket: Ticket, travel: Any, alex: Any) -> None:
    travel.to(ny(2026, 9, 9, 11, 0))
    ticket_resolve(ticket=friday_ticket, by=alex, resolution="Replaced the drum.")
    sla_check(now=ny(2026, 9, 20, 12, 0))
    assert SlaEvent.objects.get(target="resolution", kind="breached").at == ny(2026, 9, 8, 15, 0)


def test_offering_target_wins_over_the_service_target(service: Any, offering: Any, carol_person: Any) -> None:
    make_target(service, resolution_minutes=999)
    own = make_target(service, offering=offering, resolution_minutes=120)
    ticket = make_ticket(carol_person, service, offering=offering)
    assert ticket.sla_target == own


def test_service_target_applies_without_an_offering_target(service: Any, carol_person: Any, dave: Any) -> None:
    general = make_target(service, resolution_minutes=999)
    ticket = make_ticket(dave, service)
    assert ticket.sla_target == general


def test_priority_change_takes_the_targets_of_the_new_priority(
    service: Any, carol_person: Any, alex: Any, travel: Any
) -> None:
    from serviceloop.desk.services import ticket_set_priority

    travel.to(ny(2026, 9, 2, 10, 0))
    calendar = make_calendar("America/New_York")
    make_target(service, priority="p3", calendar=calendar, resolution_minutes=480)
    make_target(service, priority="p1", calendar=calendar, resolution_minutes=60)
    ticket = make_ticket(carol_person, service)
    ticket = ticket_set_priority(ticket=ticket, by=alex, impact="high", urgency="high")
    assert ticket.priority == "p1"
    assert ticket.resolution_due_at == ny(2026, 9, 2, 11, 0)

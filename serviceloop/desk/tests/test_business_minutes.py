"""The business minutes the desk stores on a ticket follow its calendar: target, service, or office hours."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from serviceloop.accounts.models import Organisation
from serviceloop.desk.models import Ticket
from serviceloop.desk.services import ticket_move, ticket_reply, ticket_resolve, ticket_set_priority
from serviceloop.desk.services.business_minutes import business_minutes_refresh, service_calendar_ids
from serviceloop.desk.tests.factories import make_calendar, make_offering, make_relationship, make_service, make_target
from serviceloop.desk.tests.factories import make_ticket as open_ticket

pytestmark = pytest.mark.django_db
ALL_DAY = {str(day): [["00:00", "24:00"]] for day in range(7)}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def minutes(ticket: Ticket) -> tuple[int | None, int | None]:
    row = Ticket.objects.get(pk=ticket.pk)
    return row.response_business_minutes, row.resolution_business_minutes


def test_another_target_counts_the_minutes_again_in_its_calendar(
    travel: Any, service: Any, dave: Any, alex: Any
) -> None:
    make_target(service, priority=Ticket.Priority.P3, calendar=make_calendar("UTC", hours=ALL_DAY))
    make_target(service, priority=Ticket.Priority.P2, calendar=make_calendar("UTC"))  # 09–17 weekdays
    travel.to(utc("2026-09-12 10:00"))  # Saturday
    ticket = open_ticket(dave, service)
    travel.to(utc("2026-09-12 11:00"))
    ticket_reply(ticket=ticket, body="On it.", by_user=alex, channel=Ticket.Channel.STAFF)
    assert minutes(ticket) == (60, None)  # P3: 24×7
    ticket_set_priority(ticket=ticket, by=alex, impact=Ticket.Level.HIGH, urgency=Ticket.Level.MEDIUM)
    assert Ticket.objects.get(pk=ticket.pk).priority == Ticket.Priority.P2
    assert minutes(ticket) == (0, None)  # P2: office hours, nothing on a Saturday
    travel.to(utc("2026-09-14 10:30"))
    ticket_resolve(ticket=ticket, by=alex, resolution="Done.")
    assert minutes(ticket) == (0, 90)


def test_a_move_counts_them_in_the_new_service_s_calendar(
    travel: Any, service: Any, org_a: Organisation, dave: Any, alex: Any
) -> None:
    make_target(service, calendar=make_calendar("UTC"))
    night = make_service("Night desk")
    make_relationship(org_a, make_offering(night, "Night standard"))
    always = make_calendar("UTC", hours=ALL_DAY)
    make_target(night, priority=Ticket.Priority.P1, calendar=always)  # the service's calendar for its P3s
    assert service_calendar_ids([night.pk]) == {night.pk: always.pk}
    travel.to(utc("2026-09-12 10:00"))
    ticket = open_ticket(dave, service)
    travel.to(utc("2026-09-12 12:00"))
    ticket_resolve(ticket=ticket, by=alex, resolution="Done.")
    assert minutes(ticket) == (0, 0)  # office hours
    ticket_move(ticket=ticket, by=alex, service=night)
    assert minutes(ticket) == (120, 120)  # no target there: the night desk's 24×7


def test_the_refresh_catches_up_rows_written_without_the_services(service: Any, dave: Any) -> None:
    make_target(service, calendar=make_calendar("UTC"))
    ticket = open_ticket(dave, service)
    Ticket.objects.filter(pk=ticket.pk).update(
        opened_at=utc("2026-09-07 09:00"),
        first_response_at=utc("2026-09-07 09:20"),
        resolved_at=utc("2026-09-08 10:00"),
        status=Ticket.Status.CLOSED,
    )
    assert business_minutes_refresh() == 1
    assert minutes(ticket) == (20, 540)  # 8 h on Monday, 1 h on Tuesday
    assert business_minutes_refresh() == 0  # nothing left to change

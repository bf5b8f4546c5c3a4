"""Rows for desk tests: services, offerings, people, relationships, calendars, targets, tickets."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core import clock
from serviceloop.desk.models import BusinessCalendar, Holiday, SlaTarget, Ticket
from serviceloop.desk.services import ticket_create
from serviceloop.relationships.models import Person, Relationship, RelationshipRole

_counter = itertools.count(1)


def make_service(name: str = "", manager: User | None = None) -> Service:
    n = next(_counter)
    if manager is None:
        manager = User.objects.filter(role=User.Role.SERVICE_MANAGER).first() or User.objects.create_user(
            f"manager{n}@provider.example", role=User.Role.SERVICE_MANAGER
        )
    return Service.objects.create(
        name=name or f"Service {n}", slug=f"service-{n}", service_manager=manager, lifecycle="live"
    )


def make_offering(service: Service | None = None, name: str = "") -> Offering:
    n = next(_counter)
    service = service or make_service()
    return Offering.objects.create(service=service, name=name or f"Offering {n}", slug=f"offering-{n}")


def make_person(organisation: Organisation, email: str = "", user: User | None = None, name: str = "") -> Person:
    n = next(_counter)
    return Person.objects.create(
        organisation=organisation, email=email or f"person{n}@example.org", user=user, name=name or f"Person {n}"
    )


def make_relationship(organisation: Organisation, offering: Offering, **fields: Any) -> Relationship:
    return Relationship.objects.create(
        organisation=organisation, offering=offering, started_on=clock.now().date() - timedelta(days=100), **fields
    )


def grant(relationship: Relationship, person: Person, role: str) -> RelationshipRole:
    return RelationshipRole.objects.create(relationship=relationship, person=person, role=role)


def make_calendar(
    time_zone: str = "Europe/London",
    hours: dict[str, list[list[str]]] | None = None,
    holidays: tuple[date, ...] = (),
    name: str = "",
) -> BusinessCalendar:
    calendar = BusinessCalendar.objects.create(
        name=name or f"Calendar {next(_counter)}",
        time_zone=time_zone,
        working_hours=hours or {str(day): [["09:00", "17:00"]] for day in range(5)},
    )
    for day in holidays:
        Holiday.objects.create(calendar=calendar, date=day, name="Holiday")
    return calendar


def make_target(
    service: Service,
    *,
    priority: str = Ticket.Priority.P3,
    offering: Offering | None = None,
    calendar: BusinessCalendar | None = None,
    first_response_minutes: int = 60,
    resolution_minutes: int = 8 * 60,
    warning_percent: int = 80,
) -> SlaTarget:
    return SlaTarget.objects.create(
        service=service,
        offering=offering,
        priority=priority,
        calendar=calendar or make_calendar(),
        first_response_minutes=first_response_minutes,
        resolution_minutes=resolution_minutes,
        warning_percent=warning_percent,
    )


def make_ticket(
    requester: Person,
    service: Service | None = None,
    *,
    by: User | None = None,
    subject: str = "Printer on floor 3 is jammed",
    body: str = "It shows error E42 since this morning.",
    channel: str = Ticket.Channel.STAFF,
    **fields: Any,
) -> Ticket:
    return ticket_create(
        requester=requester,
        service=service or make_service(),
        type=fields.pop("type", Ticket.Type.INCIDENT),
        subject=subject,
        body=body,
        channel=channel,
        by=by,
        **fields,
    )

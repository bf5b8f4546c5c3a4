"""Fixtures and helpers of the maintenance tests (imported by the test_maint_* modules).

- `pia`: Pia Planner, a person of organisation A in Europe/Berlin holding the customer role in
  `relationship_a` (the mail goes to her); `carol_person` holds the user role (counted, not mailed)
- `bea`: a sponsor of organisation B on another offering of another service (never affected)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Service
from serviceloop.core.models import Event
from serviceloop.core.testing import Travel
from serviceloop.desk.tests.factories import grant, make_offering, make_person, make_relationship, make_service
from serviceloop.incidents.maintenance import maintenance_schedule
from serviceloop.incidents.models import Incident
from serviceloop.relationships.models import Person, Relationship

# A Monday morning in winter: Berlin is UTC+1.
MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def monday(travel: Travel) -> datetime:
    return travel.to(MONDAY)


@pytest.fixture
def pia(org_a: Organisation, relationship_a: Relationship) -> Person:
    person = make_person(org_a, email="pia@acme.example", name="Pia Planner")
    Person.objects.filter(pk=person.pk).update(time_zone="Europe/Berlin")
    person.refresh_from_db()
    grant(relationship_a, person, "customer")
    return person


@pytest.fixture
def bea(org_b: Organisation) -> Person:
    other = make_offering(make_service("Ride booking"), "Airport rides")
    relationship = make_relationship(org_b, other)
    person = make_person(org_b, email="bea@borealis.example", name="Bea Borealis")
    grant(relationship, person, "sponsor")
    return person


@pytest.fixture
def world(monday: datetime, pia: Person, carol_person: Person, bea: Person) -> dict[str, Any]:
    return {"now": monday, "pia": pia, "carol": carol_person, "bea": bea}


def schedule(by: User, service: Service, *, start: timedelta, length: timedelta, **fields: Any) -> Incident:
    from serviceloop.core import clock

    begin = clock.now() + start
    return maintenance_schedule(
        by=by,
        title=fields.pop("title", "Mail server upgrade"),
        services=[service],
        scheduled_for=begin,
        scheduled_until=begin + length,
        **fields,
    )


def event_names(maintenance: Incident) -> list[str]:
    events = Event.objects.filter(subject_type="incidents.incident", subject_id=maintenance.pk).order_by("pk")
    return list(events.values_list("name", flat=True))

"""Declaring an incident: affected organisations and users derived, plans and clocks, events, refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from serviceloop.core.errors import ConflictError, InvalidInput, NotAllowed
from serviceloop.core.models import Event
from serviceloop.desk.tests.factories import make_service
from serviceloop.incidents import events
from serviceloop.incidents.models import AffectedOrganisation, AudiencePlan, ComponentStatusChange, IncidentTicket
from serviceloop.incidents.services import incident_change, incident_link_ticket, incident_services_set
from serviceloop.incidents.tests.comms_factories import a_ticket, comms_world, declared

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def world(service: Any, org_a: Any, org_b: Any) -> Any:
    return comms_world(service, org_a, org_b)


def test_declared_alone_affects_every_organisation_on_the_service(world: Any, sam: Any, alex: Any, travel: Any) -> None:
    travel.to(START)
    incident = declared(world, sam, comms_lead=alex, impact_started_at=START - timedelta(minutes=20))

    assert incident.reference.startswith("MI-")
    assert incident.declared_at == START and incident.is_major
    affected = {a.organisation.name: (a.users_affected, a.users_total) for a in incident.affected_organisations.all()}
    assert affected == {world.rel_a.organisation.name: (3, 3), world.rel_b.organisation.name: (2, 2)}
    assert incident.users_affected == 5
    plans = {p.audience: p for p in AudiencePlan.objects.filter(incident=incident)}
    assert set(plans) == {"internal", "customers", "public"}
    assert plans["internal"].channels == ["email"]
    assert plans["customers"].channels == ["email", "status_page"]
    assert plans["public"].channels == ["status_page", "webhook"]
    assert all(p.owner == alex and p.next_due_at == START + timedelta(minutes=30) for p in plans.values())
    change = ComponentStatusChange.objects.get(incident=incident)
    assert (change.status, change.started_at, change.ended_at) == ("major_outage", START - timedelta(minutes=20), None)
    event = Event.objects.get(name=events.INCIDENT_DECLARED)
    assert event.data == {"incident_id": incident.pk, "kind": "incident", "severity": "sev1", "is_major": True}


def test_declared_from_a_ticket_on_one_offering(world: Any, sam: Any, settings: Any) -> None:
    settings.SERVICELOOP_INCIDENT_CADENCE_MINUTES = 15
    ticket = a_ticket(world)
    incident = declared(world, sam, services={}, offerings=[world.offering], tickets=[ticket], visibility="customers")

    assert list(incident.affected_organisations.values_list("organisation", flat=True)) == [ticket.organisation_id]
    assert incident.users_affected == 3
    assert IncidentTicket.objects.get(ticket=ticket).incident == incident
    assert Event.objects.filter(name=events.INCIDENT_TICKET_LINKED, data__ticket_id=ticket.pk).count() == 1
    plans = AudiencePlan.objects.filter(incident=incident)
    assert sorted(p.audience for p in plans) == ["customers", "internal"]
    assert {p.cadence_minutes for p in plans} == {15}
    assert all(p.owner == sam for p in plans)


def test_the_team_numbers_win_over_the_relationships(world: Any, sam: Any, org_a: Any) -> None:
    incident = declared(world, sam, organisations={org_a: 40})
    assert list(incident.affected_organisations.values_list("users_affected", "users_total")) == [(40, 40)]
    assert incident.users_affected == 40


def test_a_minor_incident_keeps_only_the_plans_asked_for(world: Any, sam: Any) -> None:
    minor = declared(world, sam, severity="sev3")
    assert list(AudiencePlan.objects.filter(incident=minor).values_list("audience", flat=True)) == ["public"]
    internal = declared(world, sam, severity="sev4", visibility="internal")
    assert not AudiencePlan.objects.filter(incident=internal).exists()
    kept = declared(world, sam, severity="sev3", audiences=["internal"])
    assert list(AudiencePlan.objects.filter(incident=kept).values_list("audience", flat=True)) == ["internal"]


def test_customers_may_not_declare(world: Any, carol: Any) -> None:
    with pytest.raises(NotAllowed):
        declared(world, carol)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": " "}, "title"),
        ({"severity": "sev9"}, "severity"),
        ({"visibility": "everyone"}, "visibility"),
        ({"services": {}}, "services"),
        ({"audiences": ["public"], "visibility": "internal"}, "audiences"),
    ],
)
def test_bad_declarations_name_the_field(world: Any, sam: Any, fields: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        declared(world, sam, **fields)
    assert refused.value.field == field


def test_a_ticket_links_to_one_incident_and_brings_its_organisation(world: Any, sam: Any, org_b: Any) -> None:
    first = declared(world, sam, organisations={org_b: None})
    ticket = a_ticket(world)
    incident_link_ticket(incident=first, ticket=ticket, by=sam)
    first.refresh_from_db()
    assert AffectedOrganisation.objects.filter(incident=first).count() == 2
    assert first.users_affected == 5
    second = declared(world, sam)
    with pytest.raises(ConflictError, match=first.reference):
        incident_link_ticket(incident=second, ticket=ticket, by=sam)


def test_narrowing_visibility_stops_the_plans_it_no_longer_allows(world: Any, sam: Any) -> None:
    incident = declared(world, sam)
    incident_change(incident=incident, by=sam, visibility="internal", title="Mail down for everyone")
    active = AudiencePlan.objects.filter(incident=incident, is_active=True)
    assert list(active.values_list("audience", flat=True)) == ["internal"]
    incident.refresh_from_db()
    assert incident.title == "Mail down for everyone" and incident.version == 2


def test_the_affected_services_can_be_replaced(world: Any, sam: Any, travel: Any) -> None:
    travel.to(START)
    incident = declared(world, sam)
    calendars = make_service("Calendars", manager=sam)
    travel.to(START + timedelta(minutes=15))
    incident_services_set(incident=incident, by=sam, services={calendars: "degraded_performance"})
    rows = list(
        ComponentStatusChange.objects.filter(incident=incident).values_list(
            "service", "status", "started_at", "ended_at"
        )
    )
    assert rows == [
        (world.service.pk, "major_outage", START, START + timedelta(minutes=15)),
        (calendars.pk, "degraded_performance", START + timedelta(minutes=15), None),
    ]
    assert list(incident.affected_services.values_list("service", flat=True)) == [calendars.pk]

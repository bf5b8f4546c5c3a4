"""Declaring a major incident from its page, from tickets, and linking tickets from the queue's side."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from serviceloop.core import clock
from serviceloop.desk.tests.factories import make_person, make_ticket
from serviceloop.incidents.models import AffectedService, Incident, IncidentTicket
from serviceloop.incidents.tests.pages_rows import make_incident

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def tickets(carol_person: Any, service: Any, offering: Any, travel: Any, alex: Any) -> list[Any]:
    start = travel.to(clock.now().replace(second=0, microsecond=0) - timedelta(hours=1))
    first = make_ticket(carol_person, service, offering=offering, subject="No mail since 9", by=alex)
    travel.to(start + timedelta(minutes=20))
    second = make_ticket(carol_person, service, offering=offering, subject="Outlook says offline", by=alex)
    travel.to(start + timedelta(hours=1))
    return [first, second]


def test_declaring_from_tickets_prefills_services_organisations_and_the_earliest_opening(
    alex: Any, tickets: list[Any], service: Any, org_a: Any
) -> None:
    query = "&".join(f"ticket={t.public_id}" for t in tickets)
    response = _client(alex).get(f"/incidents/declare/?{query}")
    form = response.context["form"]
    assert response.status_code == 200
    assert form[f"status_{service.public_id}"].value() == "major_outage"
    assert list(form["organisations"].value()) == [org_a.pk]
    assert form["impact_started_at"].value() == timezone.make_naive(tickets[0].opened_at)
    body = response.content.decode()
    assert tickets[0].reference in body and tickets[1].reference in body
    assert 'type="datetime-local"' in body and "autofocus" in body


def test_declaring_needs_a_title_and_an_affected_service_and_says_so_next_to_the_fields(
    alex: Any, service: Any
) -> None:
    response = _client(alex).post("/incidents/declare/", {"title": "", "severity": "sev1", "visibility": "public"})
    assert response.status_code == 422
    body = response.content.decode()
    assert "This field is required." in body and "Choose the status of at least one affected service." in body
    assert not Incident.objects.exists()


def test_declaring_creates_the_incident_links_the_tickets_and_opens_its_page(
    alex: Any, sam: Any, tickets: list[Any], service: Any, org_a: Any
) -> None:
    data = {
        "title": "Mail is down",
        "severity": "sev1",
        "visibility": "customers",
        f"status_{service.public_id}": "partial_outage",
        "owner": sam.pk,
        "comms_lead": alex.pk,
        "impact_started_at": tickets[0].opened_at.strftime("%Y-%m-%dT%H:%M"),
        "tickets": [t.public_id for t in tickets],
        "description": "MX records gone",
    }
    response = _client(alex).post("/incidents/declare/", data)
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/incidents/{incident.public_id}/"
    assert any("is declared, 2 ticket(s) linked" in m for m in _messages(response))
    assert incident.owner == sam and incident.comms_lead == alex and incident.severity == "sev1"
    assert AffectedService.objects.get(incident=incident).component_status == "partial_outage"
    assert set(IncidentTicket.objects.values_list("ticket_id", flat=True)) == {t.pk for t in tickets}
    assert incident.affected_organisations.filter(organisation=org_a).exists()
    page = _client(alex).get(response["Location"]).content.decode()
    assert "Mail is down" in page and "Communication clocks" in page


def test_the_ticket_page_offers_to_link_or_declare_and_then_shows_the_incident(
    alex: Any, tickets: list[Any], service: Any, org_a: Any
) -> None:
    ticket = tickets[0]
    page = _client(alex).get(f"/desk/tickets/{ticket.public_id}/").content.decode()
    assert f'href="/incidents/link/?ticket={ticket.public_id}"' in page
    assert f'href="/incidents/declare/?ticket={ticket.public_id}"' in page
    assert "Link to a major incident" in page and "Declare a major incident from this ticket" in page
    incident = make_incident("Mail is down", services=[service], organisations=[org_a])
    IncidentTicket.objects.create(incident=incident, ticket=ticket, linked_by=alex)
    page = _client(alex).get(f"/desk/tickets/{ticket.public_id}/").content.decode()
    assert f'Part of <a href="/incidents/{incident.public_id}/">{incident.reference} Mail is down</a>' in page


def test_the_link_page_lists_open_incidents_on_the_tickets_service_first(
    alex: Any, sam: Any, tickets: list[Any], service: Any
) -> None:
    from serviceloop.desk.tests.factories import make_service

    other = make_incident("Payroll is down", services=[make_service("Payroll", manager=sam)], severity="sev1")
    ours = make_incident("Mail is down", services=[service], severity="sev2")
    make_incident("Old", services=[service], status=Incident.Status.RESOLVED)
    response = _client(alex).get(f"/incidents/link/?ticket={tickets[0].public_id}")
    listed = list(response.context["page_obj"].object_list)
    assert listed == [ours, other]
    assert "Old" not in [i.title for i in listed]


def test_linking_a_ticket_from_the_link_page_goes_back_to_the_ticket(
    alex: Any, tickets: list[Any], service: Any, org_a: Any
) -> None:
    incident = make_incident("Mail is down", services=[service], organisations=[org_a])
    ticket = tickets[0]
    response = _client(alex).post(
        f"/incidents/{incident.public_id}/tickets/",
        {"ticket": ticket.public_id, "next": f"/desk/tickets/{ticket.public_id}/"},
    )
    assert response.status_code == 302 and response["Location"] == f"/desk/tickets/{ticket.public_id}/"
    assert IncidentTicket.objects.get(ticket=ticket).incident == incident
    assert any("1 ticket(s) linked" in m for m in _messages(response))


def test_candidate_tickets_are_listed_and_linked_all_at_once(
    alex: Any, tickets: list[Any], service: Any, org_a: Any, carol_person: Any
) -> None:
    incident = make_incident(
        "Mail is down",
        services=[service],
        organisations=[org_a],
        impact_started_at=tickets[0].opened_at - timedelta(minutes=1),
    )
    elsewhere = make_ticket(make_person(org_a), subject="Printer jam", by=alex)
    page = _client(alex).get(f"/incidents/{incident.public_id}/")
    candidates = list(page.context["candidates"])
    assert candidates == tickets and elsewhere not in candidates
    assert "Candidate tickets" in page.content.decode() and "Link all 2" in page.content.decode()
    response = _client(alex).post(f"/incidents/{incident.public_id}/tickets/", {"all": "1"})
    assert response.status_code == 302 and response["Location"] == f"/incidents/{incident.public_id}/#tickets"
    assert IncidentTicket.objects.filter(incident=incident).count() == 2
    assert list(_client(alex).get(f"/incidents/{incident.public_id}/").context["candidates"]) == []


def test_linking_nothing_says_so(alex: Any, service: Any) -> None:
    incident = make_incident("Mail is down", services=[service])
    response = _client(alex).post(f"/incidents/{incident.public_id}/tickets/", {})
    assert response.status_code == 302
    assert "Choose a ticket to link." in _messages(response)

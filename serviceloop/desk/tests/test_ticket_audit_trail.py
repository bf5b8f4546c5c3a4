"""A ticket's audit trail: what the desk records shows in the event log, linked back to the ticket."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from serviceloop.core.models import Event
from serviceloop.desk.services import ticket_resolve
from serviceloop.desk.tests.factories import make_ticket


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_event_log_lists_a_resolution_with_who_resolved_it(alex: Any, carol_person: Any, service: Any) -> None:
    ticket = make_ticket(carol_person, service, by=alex)
    ticket_resolve(ticket=ticket, by=alex, resolution="Replaced the toner.")
    response = _client(alex).get(reverse("core:event_log"), {"name": "ticket.resolved"})
    rows = response.context["rows"]
    assert [(row["event"].name, row["event"].actor_label) for row in rows] == [
        ("ticket.resolved", "alex@provider.example")
    ]
    # The object cell links to the ticket's staff page, although core cannot import the desk.
    assert rows[0]["url"] == reverse("desk:ticket", kwargs={"public_id": ticket.public_id})
    assert ticket.reference in response.content.decode()


def test_a_tickets_history_page_shows_only_that_tickets_events(alex: Any, carol_person: Any, service: Any) -> None:
    ticket = make_ticket(carol_person, service, by=alex, subject="First")
    other = make_ticket(carol_person, service, by=alex, subject="Second")
    ticket_resolve(ticket=ticket, by=alex, resolution="Done.")
    ticket_resolve(ticket=other, by=alex, resolution="Done too.")
    url = reverse("core:object_history", kwargs={"subject_type": "desk.ticket", "public_id": ticket.public_id})
    rows = _client(alex).get(url).context["rows"]
    assert {row["event"].subject_id for row in rows} == {ticket.pk}
    assert {row["event"].name for row in rows} >= {"ticket.created", "ticket.resolved"}
    assert Event.objects.filter(subject_id=other.pk, subject_type="desk.ticket").exists()


def test_the_ticket_page_links_to_its_history(alex: Any, carol_person: Any, service: Any) -> None:
    ticket = make_ticket(carol_person, service, by=alex)
    page = _client(alex).get(reverse("desk:ticket", kwargs={"public_id": ticket.public_id})).content.decode()
    url = reverse("core:object_history", kwargs={"subject_type": "desk.ticket", "public_id": ticket.public_id})
    assert f'href="{url}"' in page


def test_the_customer_portal_never_links_to_the_audit_trail(carol: Any, carol_person: Any, service: Any) -> None:
    ticket = make_ticket(carol_person, service, by=carol, channel="portal")
    page = _client(carol).get(reverse("desk:portal_ticket", kwargs={"public_id": ticket.public_id})).content.decode()
    assert "/core/events/" not in page

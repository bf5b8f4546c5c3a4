"""Resolving many tickets from the queue: a resolution is asked for, applied to each ticket (each
requester's resolution notice carries it), and a batch is all or none, naming every ticket refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from serviceloop.accounts.testing import api_client_for
from serviceloop.core.models import Event
from serviceloop.desk.models import Ticket, TicketEvent
from serviceloop.desk.services import ticket_close, ticket_resolve
from serviceloop.desk.tests.factories import make_ticket

RESOLUTION = "The mail server was restarted; mail flows again."


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def pair(alex: Any, carol_person: Any, dave: Any, service: Any) -> list[Ticket]:
    """Two tickets of the same outage, from Carol and from Dave."""
    return [
        make_ticket(carol_person, service, by=alex, subject="No mail since nine"),
        make_ticket(dave, service, by=alex, subject="Mail is stuck in the outbox"),
    ]


def _unchanged(tickets: list[Ticket]) -> None:
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.NEW and ticket.resolution == "" and ticket.resolved_at is None
    ids = [t.pk for t in tickets]
    assert not TicketEvent.objects.filter(ticket_id__in=ids, kind=TicketEvent.Kind.RESOLVED).exists()
    assert not Event.objects.filter(name="ticket.resolved").exists()


def test_the_queue_offers_a_resolve_action_with_a_resolution_field(alex: Any, pair: list[Ticket]) -> None:
    page = client_for(alex).get(reverse("desk:queue")).content.decode()
    assert '<option value="resolve">Resolve</option>' in page
    assert '<label for="id_resolution">Resolution' in page and 'data-bulk="resolve"' in page
    assert "Sent to each requester with the resolution notice." in page
    # Resolving has its own action now: the state list no longer offers it without a text.
    bulk_states = page[page.index('id="id_status"') :].split("</select>")[0]
    assert 'value="waiting_customer"' in bulk_states and 'value="resolved"' not in bulk_states


def test_resolving_from_the_queue_mails_each_requester_the_resolution(
    alex: Any, pair: list[Ticket], smtp_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(alex)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("desk:bulk"),
            {
                "tickets": [t.public_id for t in pair],
                "action": "resolve",
                "resolution": RESOLUTION,
                "next": "queue=all",
            },
        )
    assert response.status_code == 302 and response["Location"].endswith("/desk/queue/?queue=all")
    for ticket in pair:
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.RESOLVED and ticket.resolution == RESOLUTION
        assert ticket.events.get(kind=TicketEvent.Kind.RESOLVED).note == RESOLUTION
    mails = smtp_server.wait_for(2)
    notices = {str(m["To"]): m for m in mails if any(str(m["Message-ID"]).startswith(f"<{t.reference}.") for t in pair)}
    assert set(notices) == {"carol@acme.example", "dave@acme.example"}
    for notice in notices.values():
        assert RESOLUTION in notice.get_body(("plain",)).get_content()
    page = client.get(response["Location"]).content.decode()
    assert "2 ticket(s) resolved." in page


def test_resolving_from_the_queue_without_a_resolution_is_refused_next_to_the_field(
    alex: Any, pair: list[Ticket]
) -> None:
    response = client_for(alex).post(
        reverse("desk:bulk"),
        {"tickets": [t.public_id for t in pair], "action": "resolve", "resolution": "   ", "next": "type=incident"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert '<p class="error" role="alert">Give a resolution for the selected tickets: each requester reads it.</p>' in (
        page
    )
    # The selection and the filters are kept, so trying again is one step.
    for ticket in pair:
        assert f'value="{ticket.public_id}" aria-label="Select {ticket.reference}" checked' in page
    assert '<option value="incident" selected>Incident</option>' in page
    _unchanged(pair)


def test_one_ticket_that_cannot_be_resolved_refuses_the_batch_and_every_refusal_is_named(
    alex: Any, carol_person: Any, service: Any, pair: list[Ticket]
) -> None:
    closed = ticket_close(ticket=make_ticket(carol_person, service, by=alex, subject="Old one"), by=alex)
    resolved = ticket_resolve(ticket=make_ticket(carol_person, service, by=alex), by=alex, resolution="Done.")
    events_before = Event.objects.count()
    response = client_for(alex).post(
        reverse("desk:bulk"),
        {
            "tickets": [pair[0].public_id, closed.public_id, pair[1].public_id, resolved.public_id],
            "action": "resolve",
            "resolution": RESOLUTION,
        },
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert (
        f"None of the 4 tickets was resolved. {closed.reference}: A closed ticket cannot be resolved. "
        f"{resolved.reference} is already resolved."
    ) in page
    assert RESOLUTION in page  # the text typed is still there
    for ticket in pair:
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.NEW and ticket.resolution == ""
    assert Event.objects.count() == events_before  # no history, no outbox row, no mail


def test_the_api_resolves_many_tickets_with_one_resolution(alex: Any, pair: list[Ticket]) -> None:
    response = api_client_for(alex).post(
        "/api/desk/bulk",
        {"tickets": [t.public_id for t in pair], "action": "resolve", "resolution": RESOLUTION},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert {row["status"] for row in response.json()["updated"]} == {"resolved"}
    assert set(Ticket.objects.filter(pk__in=[t.pk for t in pair]).values_list("resolution", flat=True)) == {RESOLUTION}


@pytest.mark.parametrize(
    "body",
    [
        {"action": "resolve"},
        {"action": "resolve", "resolution": " \n "},
        {"action": "status", "status": "resolved"},
    ],
)
def test_the_api_refuses_a_bulk_resolve_without_a_resolution(
    alex: Any, pair: list[Ticket], body: dict[str, str]
) -> None:
    response = api_client_for(alex).post(
        "/api/desk/bulk", {"tickets": [t.public_id for t in pair], **body}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["field"] == "resolution"
    assert response.json()["message"] == "Give a resolution for the selected tickets: each requester reads it."
    _unchanged(pair)


def test_the_api_names_the_tickets_that_refuse_and_writes_nothing(
    alex: Any, carol_person: Any, service: Any, pair: list[Ticket]
) -> None:
    closed = ticket_close(ticket=make_ticket(carol_person, service, by=alex), by=alex)
    response = api_client_for(alex).post(
        "/api/desk/bulk",
        {"tickets": [pair[0].public_id, closed.public_id, pair[1].public_id], "action": "resolve", "resolution": "x"},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["message"] == (
        f"None of the 3 tickets was resolved. {closed.reference}: A closed ticket cannot be resolved."
    )
    _unchanged(pair)


def test_customers_cannot_resolve_in_bulk_nor_reach_other_organisations_tickets(
    carol: Any, alex: Any, bob_person: Any, service: Any, pair: list[Ticket]
) -> None:
    body = {"tickets": [t.public_id for t in pair], "action": "resolve", "resolution": RESOLUTION}
    assert api_client_for(carol).post("/api/desk/bulk", body, content_type="application/json").status_code == 403
    assert client_for(carol).post(reverse("desk:bulk"), body).status_code == 403
    _unchanged(pair)

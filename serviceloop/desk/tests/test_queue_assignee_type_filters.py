"""The staff queue and the API list narrowed by assignee (me, unassigned, a named agent) and by ticket type."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs

import pytest
from django.test import Client
from django.urls import reverse

from serviceloop.accounts.testing import api_client_for
from serviceloop.desk.models import Ticket
from serviceloop.desk.services import ticket_assign, ticket_resolve
from serviceloop.desk.tests.factories import make_ticket


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def tickets(alex: Any, sam: Any, carol_person: Any, dave: Any, bob_person: Any, service: Any) -> dict[str, Ticket]:
    """Alex's incident, Sam's complaint, nobody's question (of organisation A), and Bob's request (B)."""
    alexs = make_ticket(carol_person, service, by=alex, subject="Alex has the printer")
    sams = make_ticket(dave, service, by=alex, subject="Sam has the complaint", type=Ticket.Type.COMPLAINT)
    nobodys = make_ticket(carol_person, service, by=alex, subject="Nobody has the question", type=Ticket.Type.QUESTION)
    bobs = make_ticket(bob_person, service, by=alex, subject="Bob's request", type=Ticket.Type.REQUEST)
    ticket_assign(ticket=alexs, by=alex, assignee=alex)
    ticket_assign(ticket=sams, by=alex, assignee=sam)
    ticket_assign(ticket=bobs, by=alex, assignee=sam)
    return {"alex": alexs, "sam": sams, "nobody": nobodys, "bob": bobs}


def subjects(page: str, tickets: dict[str, Ticket]) -> set[str]:
    return {key for key, ticket in tickets.items() if ticket.subject.replace("'", "&#x27;") in page}


def test_the_queue_narrows_to_my_tickets_the_unassigned_ones_or_a_named_agents(
    alex: Any, sam: Any, tickets: dict[str, Ticket]
) -> None:
    client = client_for(alex)
    queue = reverse("desk:queue")
    assert subjects(client.get(queue + "?assignee=me").content.decode(), tickets) == {"alex"}
    assert subjects(client.get(queue + "?assignee=unassigned").content.decode(), tickets) == {"nobody"}
    page = client.get(queue + f"?assignee={sam.public_id}").content.decode()
    assert subjects(page, tickets) == {"sam", "bob"}
    # The filter bar says what is chosen, and offers the choices with labels.
    assert '<label for="f-assignee">Assignee</label>' in page
    assert f'<option value="{sam.public_id}" selected>Sam Manager</option>' in page
    assert '<option value="me">Me</option>' in page and '<option value="unassigned">Unassigned</option>' in page


def test_the_queue_narrows_to_a_type_and_says_how_to_clear_an_empty_result(
    alex: Any, tickets: dict[str, Ticket]
) -> None:
    client = client_for(alex)
    page = client.get(reverse("desk:queue") + "?type=complaint").content.decode()
    assert subjects(page, tickets) == {"sam"}
    assert '<option value="complaint" selected>Complaint</option>' in page
    empty = client.get(reverse("desk:queue") + "?type=compliment").content.decode()
    assert subjects(empty, tickets) == set()
    assert 'No tickets match. <a href="?queue=open">Clear the filters</a>' in empty
    # A type that does not exist narrows nothing (as the other choices of the bar).
    assert subjects(client.get(reverse("desk:queue") + "?type=nonsense").content.decode(), tickets) == set(tickets)


def test_saved_filters_keep_the_assignee_and_type_filters(alex: Any, sam: Any, tickets: dict[str, Ticket]) -> None:
    ticket_resolve(ticket=tickets["sam"], by=sam, resolution="Apologised and refunded.")
    client = client_for(alex)
    page = client.get(reverse("desk:queue") + f"?assignee={sam.public_id}&type=complaint").content.decode()
    [tab] = re.findall(r'href="\?(queue=resolved[^"]*)"', page)
    assert parse_qs(html.unescape(tab)) == {
        "queue": ["resolved"],
        "assignee": [sam.public_id],
        "type": ["complaint"],
    }  # no sort chosen: the page's default (time left) is not written into the link
    # Open queue: the resolved complaint is not in it; the Resolved tab with the same filters shows it.
    assert subjects(page, tickets) == set()
    resolved = client.get(reverse("desk:queue") + f"?queue=resolved&assignee={sam.public_id}&type=complaint")
    assert subjects(resolved.content.decode(), tickets) == {"sam"}
    mine = client.get(reverse("desk:queue") + "?queue=mine&type=incident").content.decode()
    assert subjects(mine, tickets) == {"alex"}


def _listed(client: Client, query: str) -> set[str]:
    response = client.get("/api/desk/tickets?" + query)
    assert response.status_code == 200, response.content
    return {row["subject"] for row in response.json()["items"]}


def test_the_api_list_narrows_by_assignee_and_type(alex: Any, sam: Any, tickets: dict[str, Ticket]) -> None:
    client = api_client_for(alex)
    assert _listed(client, "assignee=me") == {"Alex has the printer"}
    assert _listed(client, "assignee=unassigned") == {"Nobody has the question"}
    assert _listed(client, f"assignee={sam.public_id}") == {"Sam has the complaint", "Bob's request"}
    assert _listed(client, f"assignee={sam.public_id}&type=request") == {"Bob's request"}
    assert _listed(client, "type=question&queue=open") == {"Nobody has the question"}


def test_the_api_refuses_an_unknown_assignee_or_type_with_a_message(
    alex: Any, carol: Any, tickets: dict[str, Ticket]
) -> None:
    client = api_client_for(alex)
    response = client.get("/api/desk/tickets?assignee=nobody-here")
    assert response.status_code == 422
    assert response.json()["field"] == "assignee" and '"unassigned"' in response.json()["message"]
    # A customer's public id names no staff member either.
    assert client.get(f"/api/desk/tickets?assignee={carol.public_id}").status_code == 422
    assert client.get("/api/desk/tickets?type=praise").status_code == 422


def test_customers_filtering_by_assignee_see_only_their_organisations_tickets(
    carol: Any, bob: Any, sam: Any, dave: Any, tickets: dict[str, Ticket], relationship_a: Any, carol_person: Any
) -> None:
    from serviceloop.desk.tests.factories import grant

    grant(relationship_a, carol_person, "customer")  # Carol sees all of organisation A
    assert _listed(api_client_for(carol), f"assignee={sam.public_id}") == {"Sam has the complaint"}
    assert _listed(api_client_for(carol), "assignee=unassigned") == {"Nobody has the question"}
    assert _listed(api_client_for(bob), f"assignee={sam.public_id}&type=complaint") == set()
    assert _listed(api_client_for(bob), f"assignee={sam.public_id}") == {"Bob's request"}

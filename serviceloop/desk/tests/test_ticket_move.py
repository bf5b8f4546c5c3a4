"""Agents move a ticket to another service (or offering) its organisation consumes, from the ticket page
and the API: kept in the history and the event log, SLA targets of the new place; customers cannot."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.testing import api_client_for
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core.errors import NotAllowed
from serviceloop.core.models import Event
from serviceloop.desk.models import Ticket, TicketEvent
from serviceloop.desk.services import ticket_close, ticket_move
from serviceloop.desk.tests.factories import grant, make_offering, make_relationship, make_service, make_target
from serviceloop.desk.tests.factories import make_ticket as _make_ticket
from serviceloop.relationships.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def payroll_run(sam: User) -> Offering:
    return make_offering(make_service("Payroll", manager=sam), "Monthly payroll run")


@pytest.fixture
def next_day(sam: User) -> Offering:
    return make_offering(make_service("Parcel delivery", manager=sam), "Next-day parcels")


@pytest.fixture
def same_day(next_day: Offering) -> Offering:
    return make_offering(next_day.service, "Same-day parcels")


@pytest.fixture
def acme(org_a: Organisation, payroll_run: Offering, next_day: Offering, same_day: Offering) -> Organisation:
    for offering in (payroll_run, next_day, same_day):
        make_relationship(org_a, offering)
    return org_a


@pytest.fixture
def ticket(carol_person: Person, acme: Organisation, payroll_run: Offering) -> Ticket:
    """Carol's question that landed on Payroll by mistake (it is about a parcel)."""
    return _make_ticket(
        carol_person, payroll_run.service, offering=payroll_run, subject="Where is my parcel?", channel="email"
    )


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def move_api(user: User, ticket: Ticket, **body: Any) -> Any:
    return api_client_for(user).post(
        f"/api/desk/tickets/{ticket.public_id}/move", body, content_type="application/json"
    )


# ---------------------------------------------------------------- the API


def test_an_agent_moves_a_ticket_through_the_api_and_the_history_says_from_where_to_where_by_whom(
    alex: User, ticket: Ticket, next_day: Offering
) -> None:
    response = move_api(
        alex, ticket, service=next_day.service.public_id, offering=next_day.public_id, note="About a parcel"
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["service"]["name"], data["offering"]["name"]) == ("Parcel delivery", "Next-day parcels")
    ticket.refresh_from_db()
    assert (ticket.service, ticket.offering) == (next_day.service, next_day)
    moved = ticket.events.get(kind=TicketEvent.Kind.MOVED)
    assert (moved.from_value, moved.to_value, moved.by, moved.note) == (
        "Payroll — Monthly payroll run",
        "Parcel delivery — Next-day parcels",
        alex,
        "About a parcel",
    )
    history = api_client_for(alex).get(f"/api/desk/tickets/{ticket.public_id}/events").json()
    assert {"kind": "moved", "by": "Alex Agent"}.items() <= history[-1].items()


def test_a_move_records_the_event_ticket_moved_with_both_places(
    alex: User, ticket: Ticket, payroll_run: Offering, next_day: Offering
) -> None:
    move_api(alex, ticket, service=next_day.service.public_id, offering=next_day.public_id)
    event = Event.objects.get(name="ticket.moved")
    assert event.data == {
        "ticket_id": ticket.pk,
        "from_service_id": payroll_run.service_id,
        "from_offering_id": payroll_run.pk,
        "service_id": next_day.service_id,
        "offering_id": next_day.pk,
    }
    assert (event.actor_id, event.subject_id) == (alex.pk, ticket.pk)


def test_the_sla_targets_become_those_of_the_new_service(
    alex: User, carol_person: Person, acme: Organisation, payroll_run: Offering, next_day: Offering
) -> None:
    make_target(payroll_run.service, resolution_minutes=5 * 8 * 60)
    parcels_target = make_target(next_day.service, resolution_minutes=60)
    ticket = _make_ticket(carol_person, payroll_run.service, offering=payroll_run)
    before = ticket.resolution_due_at
    move_api(alex, ticket, service=next_day.service.public_id, offering=next_day.public_id)
    ticket.refresh_from_db()
    assert ticket.sla_target == parcels_target
    assert ticket.resolution_due_at is not None and before is not None and ticket.resolution_due_at < before
    assert "SLA targets now those of Parcel delivery — Next-day parcels" in ticket.events.get(kind="moved").note


def test_a_service_without_targets_leaves_the_ticket_without_clocks(
    alex: User, carol_person: Person, acme: Organisation, payroll_run: Offering, next_day: Offering
) -> None:
    make_target(payroll_run.service)
    ticket = _make_ticket(carol_person, payroll_run.service, offering=payroll_run)
    assert ticket.resolution_due_at is not None
    move_api(alex, ticket, service=next_day.service.public_id, offering=next_day.public_id)
    ticket.refresh_from_db()
    assert (ticket.sla_target, ticket.resolution_due_at, ticket.first_response_due_at) == (None, None, None)
    assert ticket.events.get(kind="moved").note == "no SLA target here"


def test_an_offering_with_a_target_of_its_own_gets_its_target(
    alex: User, ticket: Ticket, next_day: Offering, same_day: Offering
) -> None:
    make_target(next_day.service, resolution_minutes=8 * 60)
    own = make_target(next_day.service, offering=same_day, resolution_minutes=4 * 60)
    move_api(alex, ticket, service=same_day.service.public_id, offering=same_day.public_id)
    ticket.refresh_from_db()
    assert ticket.sla_target == own


def test_moving_to_a_service_with_several_consumed_offerings_and_none_named_leaves_the_offering_empty(
    alex: User, ticket: Ticket, next_day: Offering
) -> None:
    response = move_api(alex, ticket, service=next_day.service.public_id)
    assert response.status_code == 200
    assert response.json()["offering"] is None


def test_moving_to_the_one_consumed_offering_of_a_service_picks_it(
    alex: User, ticket: Ticket, service: Service, offering: Offering
) -> None:
    # Acme consumes the mailbox service (relationship_a, through carol_person) by one offering.
    response = move_api(alex, ticket, service=service.public_id)
    assert response.json()["offering"]["name"] == offering.name


def test_a_service_the_organisation_does_not_consume_is_refused_with_a_message(
    alex: User, ticket: Ticket, sam: User
) -> None:
    laptops = make_service("Laptop provisioning", manager=sam)
    response = move_api(alex, ticket, service=laptops.public_id)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "service_not_consumed"
    assert body["message"] == (
        "Acme Logistics does not consume Laptop provisioning; move the ticket to a service it consumes."
    )
    ticket.refresh_from_db()
    assert ticket.service.name == "Payroll"
    assert not ticket.events.filter(kind="moved").exists()


def test_an_offering_of_another_service_is_refused(alex: User, ticket: Ticket, next_day: Offering) -> None:
    response = move_api(alex, ticket, service=ticket.service.public_id, offering=next_day.public_id)
    assert (response.status_code, response.json()["code"]) == (422, "offering_not_of_service")


def test_an_offering_the_organisation_does_not_consume_is_refused(
    alex: User, ticket: Ticket, next_day: Offering
) -> None:
    express = make_offering(next_day.service, "Express parcels")
    response = move_api(alex, ticket, service=next_day.service.public_id, offering=express.public_id)
    assert (response.status_code, response.json()["code"]) == (422, "offering_not_consumed")


def test_an_unknown_service_is_a_404(alex: User, ticket: Ticket) -> None:
    assert move_api(alex, ticket, service="nope").status_code == 404


def test_a_bad_body_is_a_422(alex: User, ticket: Ticket) -> None:
    assert move_api(alex, ticket, service="").status_code == 422
    assert move_api(alex, ticket, service=ticket.service.public_id, note="x" * 501).status_code == 422


def test_a_closed_ticket_stays_where_it_is(alex: User, ticket: Ticket, next_day: Offering) -> None:
    ticket_close(ticket=ticket, by=alex)
    response = move_api(alex, ticket, service=next_day.service.public_id, offering=next_day.public_id)
    assert (response.status_code, response.json()["code"]) == (409, "ticket_closed")


def test_moving_to_where_it_already_is_changes_nothing(alex: User, ticket: Ticket, payroll_run: Offering) -> None:
    response = move_api(alex, ticket, service=payroll_run.service.public_id, offering=payroll_run.public_id)
    assert response.status_code == 200
    assert not ticket.events.filter(kind="moved").exists()
    assert not Event.objects.filter(name="ticket.moved").exists()


def test_a_customer_cannot_move_their_own_ticket(
    carol: User, carol_person: Person, ticket: Ticket, next_day: Offering, relationship_a: Any
) -> None:
    # Carol sees the whole organisation's tickets (customer role), so the refusal is a 403.
    grant(relationship_a, carol_person, "customer")
    response = move_api(carol, ticket, service=next_day.service.public_id, offering=next_day.public_id)
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.service.name == "Payroll"
    with pytest.raises(NotAllowed):
        ticket_move(ticket=ticket, by=carol, service=next_day.service, offering=next_day)


def test_a_customer_of_another_organisation_gets_a_404(bob: User, ticket: Ticket, next_day: Offering) -> None:
    response = move_api(bob, ticket, service=next_day.service.public_id, offering=next_day.public_id)
    assert response.status_code == 404


def test_managers_and_administrators_move_tickets_too(
    sam: User, ada: User, ticket: Ticket, next_day: Offering, payroll_run: Offering
) -> None:
    assert move_api(sam, ticket, service=next_day.service.public_id, offering=next_day.public_id).status_code == 200
    assert (
        move_api(ada, ticket, service=payroll_run.service.public_id, offering=payroll_run.public_id).status_code == 200
    )
    assert ticket.events.filter(kind="moved").count() == 2


# ---------------------------------------------------------------- the ticket page


def test_the_ticket_page_offers_only_what_the_organisation_consumes(
    alex: User, ticket: Ticket, next_day: Offering, sam: User
) -> None:
    elsewhere = make_offering(make_service("Ride booking", manager=sam), "Business rides")
    page = client_for(alex).get(reverse("desk:ticket", args=[ticket.public_id])).content.decode()
    assert 'id="move"' in page
    assert f"Parcel delivery — {next_day.name}" in page
    assert elsewhere.name not in page


def test_an_agent_moves_a_ticket_from_its_page_and_sees_the_move_in_the_history(
    alex: User, ticket: Ticket, next_day: Offering
) -> None:
    client = client_for(alex)
    url = reverse("desk:ticket", args=[ticket.public_id])
    response = client.post(
        reverse("desk:ticket_move", args=[ticket.public_id]), {"offering": next_day.pk, "note": "About a parcel"}
    )
    assert response.status_code == 302 and response["Location"] == url
    ticket.refresh_from_db()
    assert (ticket.service, ticket.offering) == (next_day.service, next_day)
    page = client.get(url).content.decode()
    assert "is now on Parcel delivery — Next-day parcels" in page
    assert "Moved</strong>: Payroll — Monthly payroll run → Parcel delivery — Next-day parcels" in page
    assert "Alex Agent" in page


def test_the_move_form_refuses_a_choice_outside_the_list_next_to_the_field(
    alex: User, ticket: Ticket, sam: User
) -> None:
    elsewhere = make_offering(make_service("Ride booking", manager=sam), "Business rides")
    response = client_for(alex).post(reverse("desk:ticket_move", args=[ticket.public_id]), {"offering": elsewhere.pk})
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.service.name == "Payroll"


def test_a_customer_cannot_use_the_move_page(carol: User, ticket: Ticket, next_day: Offering) -> None:
    response = client_for(carol).post(reverse("desk:ticket_move", args=[ticket.public_id]), {"offering": next_day.pk})
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.service.name == "Payroll"

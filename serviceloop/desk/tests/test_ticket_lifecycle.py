"""Tickets through their life: references, priority matrix, states, assignment, reopen, history."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from serviceloop.core.errors import ConflictError, InvalidInput, NotAllowed
from serviceloop.core.testing import subscribed
from serviceloop.desk.models import Message, PriorityRule, Team, TicketEvent
from serviceloop.desk.services import (
    person_for_user,
    references_allocate,
    ticket_assign,
    ticket_close,
    ticket_reopen,
    ticket_reply,
    ticket_resolve,
    ticket_set_status,
    tickets_bulk_set_status,
    tickets_close_resolved,
)
from serviceloop.desk.tests.factories import make_service, make_ticket


def test_ticket_gets_a_unique_reference_of_six_digits(carol_person: Any, service: Any) -> None:
    first, second = make_ticket(carol_person, service), make_ticket(carol_person, service)
    assert re.fullmatch(r"SL-\d{6}", first.reference)
    assert first.reference != second.reference


def test_references_are_allocated_in_blocks_without_overlap(db: Any) -> None:
    block = references_allocate(3)
    assert len(set(block + references_allocate(2))) == 5


def test_creating_records_the_first_message_and_history(carol_person: Any, service: Any, carol: Any) -> None:
    ticket = make_ticket(carol_person, service, by=carol, channel="portal", body="Broken since Monday.")
    message = ticket.messages.get()
    assert (message.kind, message.channel, message.author_person, message.body) == (
        "public",
        "portal",
        carol_person,
        "Broken since Monday.",
    )
    assert ticket.events.get().kind == TicketEvent.Kind.CREATED
    assert ticket.organisation_id == carol_person.organisation_id
    assert ticket.offering is not None  # the one offering of the service organisation A consumes


def test_priority_comes_from_the_impact_urgency_matrix(carol_person: Any, service: Any) -> None:
    assert make_ticket(carol_person, service, impact="high", urgency="high").priority == "p1"
    assert make_ticket(carol_person, service, impact="low", urgency="medium").priority == "p4"


def test_matrix_cell_can_be_configured(carol_person: Any, service: Any) -> None:
    PriorityRule.objects.create(impact="low", urgency="low", priority="p2")
    assert make_ticket(carol_person, service, impact="low", urgency="low").priority == "p2"


def test_customer_cannot_open_a_ticket_for_a_service_their_organisation_does_not_use(
    carol_person: Any, carol: Any
) -> None:
    with pytest.raises(InvalidInput, match="does not use this service"):
        make_ticket(carol_person, make_service(), by=carol, channel="portal")


def test_empty_subject_is_refused(carol_person: Any, service: Any) -> None:
    with pytest.raises(InvalidInput, match="subject cannot be empty"):
        make_ticket(carol_person, service, subject="  ")


def test_events_are_delivered_after_commit(
    carol_person: Any, service: Any, alex: Any, django_capture_on_commit_callbacks: Any
) -> None:
    names = ("ticket.created", "ticket.resolved", "ticket.reopened", "ticket.message_posted")
    with subscribed(*names) as seen:
        with django_capture_on_commit_callbacks(execute=True):
            ticket = make_ticket(carol_person, service)
            assert seen == []  # nothing before commit
        with django_capture_on_commit_callbacks(execute=True):
            ticket_resolve(ticket=ticket, by=alex, resolution="Done")
            ticket_reopen(ticket=ticket, by_user=alex)
    assert [(event.name, event.data["ticket_id"]) for event in seen] == [
        ("ticket.created", ticket.pk),
        ("ticket.message_posted", ticket.pk),
        ("ticket.resolved", ticket.pk),
        ("ticket.reopened", ticket.pk),
    ]
    assert [event.actor_id for event in seen[2:]] == [alex.pk, alex.pk]


def test_staff_public_reply_is_the_first_response_and_opens_the_ticket(
    carol_person: Any, service: Any, alex: Any
) -> None:
    ticket = make_ticket(carol_person, service)
    ticket_reply(ticket=ticket, body="On it.", by_user=alex, channel="staff")
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None and ticket.status == "open"


def test_internal_note_is_not_a_first_response(carol_person: Any, service: Any, alex: Any) -> None:
    ticket = make_ticket(carol_person, service)
    note = ticket_reply(ticket=ticket, body="Check the toner.", by_user=alex, channel="staff", internal=True)
    ticket.refresh_from_db()
    assert note.kind == Message.Kind.INTERNAL and ticket.first_response_at is None


def test_customer_cannot_write_internal_notes(carol_person: Any, service: Any, carol: Any) -> None:
    ticket = make_ticket(carol_person, service)
    with pytest.raises(NotAllowed):
        ticket_reply(ticket=ticket, body="psst", by_user=carol, channel="portal", internal=True)


def test_duplicate_email_message_id_is_refused(carol_person: Any, service: Any) -> None:
    make_ticket(carol_person, service, email_message_id="<a@b>")
    with pytest.raises(ConflictError, match="already been recorded"):
        make_ticket(carol_person, service, email_message_id="<a@b>")


def test_every_state_change_is_recorded_with_who_and_when(carol_person: Any, service: Any, alex: Any) -> None:
    ticket = make_ticket(carol_person, service)
    ticket_set_status(ticket=ticket, status="open", by=alex)
    ticket_set_status(ticket=ticket, status="waiting_third_party", by=alex)
    changes = list(ticket.events.filter(kind="status").values_list("from_value", "to_value", "by"))
    assert changes == [("new", "open", alex.pk), ("open", "waiting_third_party", alex.pk)]


def test_closed_ticket_cannot_change_state(carol_person: Any, service: Any, alex: Any) -> None:
    ticket = ticket_close(ticket=make_ticket(carol_person, service), by=alex)
    with pytest.raises(ConflictError, match="cannot become open"):
        ticket_set_status(ticket=ticket, status="open", by=alex)


def test_resolving_a_closed_ticket_is_refused(carol_person: Any, service: Any, alex: Any) -> None:
    ticket = ticket_close(ticket=make_ticket(carol_person, service), by=alex)
    with pytest.raises(ConflictError, match="closed"):
        ticket_resolve(ticket=ticket, by=alex, resolution="done")


def test_reassignments_and_hops_are_counted(carol_person: Any, service: Any, alex: Any, sam: Any) -> None:
    team = Team.objects.create(name="Service desk")
    ticket = make_ticket(carol_person, service)
    ticket = ticket_assign(ticket=ticket, by=alex, assignee=alex, team=team)
    ticket = ticket_assign(ticket=ticket, by=alex, assignee=sam, team=team)
    assert (ticket.assignment_hops, ticket.reassignment_count, ticket.status) == (2, 1, "open")


def test_tickets_cannot_be_assigned_to_customers(carol_person: Any, service: Any, alex: Any, carol: Any) -> None:
    with pytest.raises(InvalidInput, match="staff members only"):
        ticket_assign(ticket=make_ticket(carol_person, service), by=alex, assignee=carol)


def test_first_contact_resolution_is_recorded(carol_person: Any, service: Any, alex: Any) -> None:
    ticket = make_ticket(carol_person, service)
    ticket_reply(ticket=ticket, body="Restart it.", by_user=alex, channel="staff")
    assert ticket_resolve(ticket=ticket, by=alex, resolution="Restarted").first_contact_resolution is True


def test_customer_reopens_within_the_window(
    carol_person: Any, service: Any, alex: Any, carol: Any, travel: Any
) -> None:
    ticket = ticket_resolve(ticket=make_ticket(carol_person, service), by=alex, resolution="Done")
    travel.by(days=13)
    ticket = ticket_reopen(ticket=ticket, by_user=carol)
    assert (ticket.status, ticket.reopen_count, ticket.resolved_at, ticket.first_contact_resolution) == (
        "open",
        1,
        None,
        False,
    )


def test_customer_cannot_reopen_after_the_window(
    carol_person: Any, service: Any, alex: Any, carol: Any, travel: Any, settings: Any
) -> None:
    settings.SERVICELOOP_REOPEN_DAYS = 3
    ticket = ticket_resolve(ticket=make_ticket(carol_person, service), by=alex, resolution="Done")
    travel.by(days=4)
    with pytest.raises(ConflictError, match="within 3 days"):
        ticket_reopen(ticket=ticket, by_user=carol)


def test_resolved_tickets_close_automatically_after_the_window(
    carol_person: Any, service: Any, alex: Any, travel: Any
) -> None:
    ticket = ticket_resolve(ticket=make_ticket(carol_person, service), by=alex, resolution="Done")
    travel.by(days=15)
    assert tickets_close_resolved() == 1
    ticket.refresh_from_db()
    assert ticket.status == "closed" and ticket.closed_automatically


def test_bulk_state_change_is_all_or_nothing(carol_person: Any, service: Any, alex: Any) -> None:
    open_one = make_ticket(carol_person, service)
    closed = ticket_close(ticket=make_ticket(carol_person, service), by=alex)
    with pytest.raises(ConflictError, match=closed.reference):
        tickets_bulk_set_status(tickets=[open_one, closed], by=alex, status="waiting_third_party")
    open_one.refresh_from_db()
    assert open_one.status == "new"


def test_a_customer_without_a_contact_record_gets_one_on_first_use(carol: Any) -> None:
    person = person_for_user(carol)
    assert (person.organisation_id, person.email, person.user) == (carol.organisation_id, carol.email, carol)
    assert person_for_user(carol) == person


def test_existing_contact_record_with_the_same_email_is_linked(carol: Any, org_a: Any) -> None:
    from serviceloop.desk.tests.factories import make_person

    existing = make_person(org_a, email="CAROL@acme.example")
    assert person_for_user(carol) == existing


def test_resolve_keeps_resolved_at_for_feedback(carol_person: Any, service: Any, alex: Any) -> None:
    ticket = ticket_resolve(ticket=make_ticket(carol_person, service), by=alex, resolution="Done")
    assert ticket.resolved_at is not None and ticket.resolved_at - ticket.opened_at < timedelta(minutes=1)


def test_a_requester_reply_to_a_resolved_ticket_reopens_it(
    carol_person: Any, service: Any, alex: Any, carol: Any, travel: Any
) -> None:
    ticket = ticket_resolve(ticket=make_ticket(carol_person, service), by=alex, resolution="Done")
    travel.by(days=2)
    ticket_reply(ticket=ticket, body="Still broken, sorry.", by_user=carol, channel="portal")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.reopen_count, ticket.resolved_at) == ("open", 1, None)
    assert ticket.events.filter(kind=TicketEvent.Kind.REOPENED).count() == 1


def test_a_reply_after_the_reopen_window_leaves_the_ticket_resolved(
    carol_person: Any, service: Any, alex: Any, carol: Any, travel: Any, settings: Any
) -> None:
    settings.SERVICELOOP_REOPEN_DAYS = 3
    ticket = ticket_resolve(ticket=make_ticket(carol_person, service), by=alex, resolution="Done")
    travel.by(days=4)
    ticket_reply(ticket=ticket, body="Thanks again!", by_user=carol, channel="portal")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.reopen_count) == ("resolved", 0)


def test_resolving_without_saying_how_is_refused(carol_person: Any, service: Any, alex: Any) -> None:
    with pytest.raises(InvalidInput, match="how the ticket was resolved") as caught:
        ticket_resolve(ticket=make_ticket(carol_person, service), by=alex, resolution="  ")
    assert caught.value.field == "resolution"

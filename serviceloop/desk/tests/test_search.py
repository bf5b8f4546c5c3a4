"""Ticket search through the queue page, the portal page and the API list: by reference, requester,
email, organisation and words, ranked, and never across organisations or into internal notes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.testing import api_client_for
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core.models import Event
from serviceloop.desk.models import Ticket, TicketSequence
from serviceloop.desk.search import search_terms
from serviceloop.desk.services import ticket_reply
from serviceloop.desk.tests.factories import grant, make_person, make_relationship, make_ticket
from serviceloop.relationships.models import Person, Relationship
from serviceloop.relationships.services import organisation_update, person_update

BEN_EMAIL = "customer@acme.example"


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def queue_refs(user: User, q: str, **params: str) -> list[str]:
    response = client_for(user).get(reverse("desk:queue"), {"queue": "all", "q": q, **params})
    assert response.status_code == 200
    return re.findall(r'aria-label="Select (SL-\d+)"', response.content.decode())


def portal_refs(user: User, q: str) -> list[str]:
    response = client_for(user).get(reverse("desk:portal"), {"status": "all", "q": q})
    assert response.status_code == 200
    return re.findall(r'/desk/portal/tickets/[^"/]+/">(SL-\d+)</a>', response.content.decode())


def api_refs(user: User, q: str, **params: str) -> list[str]:
    response = api_client_for(user).get("/api/desk/tickets", {"q": q, **params})
    assert response.status_code == 200, response.content
    return [item["reference"] for item in response.json()["items"]]


@pytest.fixture
def ben(org_a: Organisation, relationship_a: Relationship) -> Person:
    return make_person(org_a, email=BEN_EMAIL, name="Ben Yilmaz")


@pytest.fixture
def ben_ticket(ben: Person, service: Service, db: Any) -> Ticket:
    """Ben's ticket, SL-104001 (the counter set so that the issue's example holds)."""
    TicketSequence.objects.update_or_create(name="ticket", defaults={"value": 104000})
    ticket = make_ticket(ben, service, subject="VPN drops every hour", body="Since the update on Monday.")
    assert ticket.reference == "SL-104001"
    return ticket


@pytest.fixture
def carol_sees_acme(carol_person: Person, relationship_a: Relationship) -> Person:
    """Carol holds the customer role: she sees (and searches) every ticket of Acme."""
    grant(relationship_a, carol_person, "customer")
    return carol_person


@pytest.fixture
def others(dave: Person, bob_person: Person, offering: Offering, service: Service, ben_ticket: Ticket) -> list[Ticket]:
    """Tickets that must not come up for Ben's searches: another Acme person's, and Borealis's."""
    make_relationship(bob_person.organisation, offering)
    return [
        make_ticket(dave, service, subject="Keyboard sticky", body="Coffee, sorry."),
        make_ticket(bob_person, service, subject="Payroll export", body="The CSV is empty."),
    ]


# ---------------------------------------------------------------- parsing (no database)


@pytest.mark.parametrize("text", ["SL-104001", "sl-104001", "Sl104001", "104001", "[SL-104001]", " #104001 "])
def test_a_reference_is_recognised_with_or_without_its_prefix(text: str) -> None:
    assert search_terms(text).references == ("SL-104001",)
    assert search_terms(text).words == ("104001",)


def test_words_next_to_a_number_are_not_a_reference() -> None:
    terms = search_terms("error E42 on XSL-9")
    assert terms.references == ()
    assert terms.words == ("error", "E42", "on", "XSL", "9")


def test_an_email_address_is_recognised_case_insensitively() -> None:
    terms = search_terms(" Customer@ACME.example ")
    assert terms.email == BEN_EMAIL
    assert terms.words == ("Customer", "ACME", "example")
    assert search_terms("customer acme").email == ""
    assert search_terms("customer@acme").email == ""  # part of an address: its words, as prefixes


# ---------------------------------------------------------------- the four searches of the issue

EXAMPLES = ["SL-104001", "sl-104001", "104001", "Ben Yilmaz", BEN_EMAIL, "CUSTOMER@Acme.Example"]


@pytest.mark.parametrize("q", EXAMPLES)
def test_staff_find_the_ticket_in_the_queue(q: str, alex: User, ben_ticket: Ticket, others: Any) -> None:
    assert queue_refs(alex, q) == ["SL-104001"]


@pytest.mark.parametrize("q", EXAMPLES)
def test_staff_find_the_ticket_through_the_api(q: str, alex: User, ben_ticket: Ticket, others: Any) -> None:
    assert api_refs(alex, q) == ["SL-104001"]


@pytest.mark.parametrize("q", EXAMPLES)
def test_customer_finds_the_ticket_in_the_portal(
    q: str, carol: User, carol_sees_acme: Any, ben_ticket: Ticket, others: Any
) -> None:
    assert portal_refs(carol, q) == ["SL-104001"]


@pytest.mark.parametrize("q", EXAMPLES)
def test_customer_finds_the_ticket_through_the_api(
    q: str, carol: User, carol_sees_acme: Any, ben_ticket: Ticket, others: Any
) -> None:
    assert api_refs(carol, q) == ["SL-104001"]


@pytest.mark.parametrize("q", ["Ben Yil", "yilm", "customer@acme", "customer"])
def test_partial_names_and_addresses_find_the_requester(q: str, alex: User, ben_ticket: Ticket, others: Any) -> None:
    assert queue_refs(alex, q) == ["SL-104001"]


def test_part_of_an_address_finds_everyone_at_that_domain(
    alex: User, carol: User, carol_sees_acme: Any, ben_ticket: Ticket, others: Any
) -> None:
    dave_ticket = others[0]
    assert set(queue_refs(alex, "acme.example")) == {"SL-104001", dave_ticket.reference}
    assert set(portal_refs(carol, "acme.example")) == {"SL-104001", dave_ticket.reference}


def test_the_organisation_name_finds_its_tickets(alex: User, ben_ticket: Ticket, others: Any) -> None:
    dave_ticket, bob_ticket = others
    assert set(api_refs(alex, "Acme Logistics")) == {"SL-104001", dave_ticket.reference}
    assert api_refs(alex, "Borealis") == [bob_ticket.reference]


def test_words_of_the_conversation_still_find_a_ticket(alex: User, ben_ticket: Ticket, others: Any) -> None:
    ticket_reply(ticket=ben_ticket, body="Replaced the tunnel certificate", by_user=alex, channel="staff")
    assert queue_refs(alex, "tunnel certificates") == ["SL-104001"]
    assert queue_refs(alex, "vpn monday") == ["SL-104001"]


def test_a_query_of_punctuation_only_finds_nothing(alex: User, ben_ticket: Ticket) -> None:
    assert api_refs(alex, "*") == []
    assert queue_refs(alex, "--") == []


# ---------------------------------------------------------------- ranking


def test_the_referenced_ticket_comes_before_one_that_mentions_its_number(
    alex: User, carol: User, carol_sees_acme: Any, dave: Person, service: Service, ben_ticket: Ticket
) -> None:
    # Newer, and its text holds the number twice: text rank alone would put it first.
    mention = make_ticket(dave, service, subject="Same as SL-104001", body="Like 104001 last week, see SL-104001.")
    expected = ["SL-104001", mention.reference]
    for q in ("SL-104001", "104001"):
        assert queue_refs(alex, q) == expected
        assert api_refs(alex, q) == expected
        assert portal_refs(carol, q) == expected


def test_the_requesters_tickets_come_before_tickets_that_mention_the_name(
    alex: User, dave: Person, service: Service, ben_ticket: Ticket
) -> None:
    mention = make_ticket(dave, service, subject="Ben Yilmaz called", body="Ben Yilmaz asked about Ben Yilmaz's VPN.")
    assert queue_refs(alex, "Ben Yilmaz") == ["SL-104001", mention.reference]


def test_a_whole_address_is_that_address_not_its_words(
    alex: User, org_a: Organisation, carol_person: Person, service: Service, ben_ticket: Ticket
) -> None:
    # Both hold the words "customer", "acme" and "example"; neither is Ben's address.
    longer = make_ticket(make_person(org_a, email="customer.care@acme.example", name="Care Desk"), service)
    carols = make_ticket(carol_person, service)  # Carol Customer, carol@acme.example
    assert api_refs(alex, BEN_EMAIL) == ["SL-104001"]
    assert api_refs(alex, "customer.care@acme.example") == [longer.reference]
    assert set(api_refs(alex, "customer acme")) == {"SL-104001", longer.reference, carols.reference}


def test_an_address_in_the_conversation_is_found_after_the_requesters_tickets(
    alex: User, dave: Person, service: Service, ben_ticket: Ticket
) -> None:
    mention = make_ticket(dave, service, subject="Forwarded", body=f"Please reply to {BEN_EMAIL} directly.")
    assert queue_refs(alex, BEN_EMAIL) == ["SL-104001", mention.reference]


def test_an_explicit_sort_wins_over_the_ranking(alex: User, dave: Person, service: Service, ben_ticket: Ticket) -> None:
    mention = make_ticket(dave, service, subject="Same as 104001")
    assert queue_refs(alex, "104001", sort="newest") == [mention.reference, "SL-104001"]
    assert api_refs(alex, "104001", sort="oldest") == ["SL-104001", mention.reference]
    assert api_refs(alex, "104001", sort="relevance") == ["SL-104001", mention.reference]
    assert api_refs(alex, "104001") == ["SL-104001", mention.reference]


def test_the_queue_offers_the_default_sort_and_keeps_an_explicit_one(alex: User, ben_ticket: Ticket) -> None:
    page = client_for(alex).get(reverse("desk:queue"), {"q": "vpn"}).content.decode()
    assert '<option value="">Default: best match when searching, else time left</option>' in page
    page = client_for(alex).get(reverse("desk:queue"), {"q": "vpn", "sort": "oldest"}).content.decode()
    assert '<option value="oldest" selected>' in page


def test_an_unknown_sort_is_refused_by_the_api(alex: User) -> None:
    response = api_client_for(alex).get("/api/desk/tickets", {"q": "vpn", "sort": "bogus"})
    assert response.status_code == 422


def test_an_empty_search_says_what_search_looks_for(
    alex: User, carol: User, carol_sees_acme: Any, ben_ticket: Ticket
) -> None:
    page = client_for(alex).get(reverse("desk:queue"), {"q": "nothing-like-this"}).content.decode()
    assert "No ticket matches “nothing-like-this” in “All open”" in page and "search all tickets" in page
    page = client_for(carol).get(reverse("desk:portal"), {"q": "nothing-like-this"}).content.decode()
    assert "No ticket matches “nothing-like-this” here" in page


# ---------------------------------------------------------------- tenancy and what customers may search


@pytest.mark.parametrize("q", ["SL-104001", "104001", BEN_EMAIL, "Ben Yilmaz", "Acme", "VPN"])
def test_bob_finds_nothing_of_acme(q: str, bob: User, bob_person: Person, ben_ticket: Ticket, others: Any) -> None:
    assert api_refs(bob, q) == []
    assert portal_refs(bob, q) == []


def test_carol_as_a_plain_user_finds_only_her_own_tickets(
    carol: User, carol_person: Person, service: Service, ben_ticket: Ticket
) -> None:
    own = make_ticket(carol_person, service, subject="VPN for Ben Yilmaz too")
    assert api_refs(carol, "SL-104001") == []
    assert portal_refs(carol, BEN_EMAIL) == []
    assert portal_refs(carol, "Ben Yilmaz") == [own.reference]


def test_an_internal_note_never_makes_a_ticket_match_for_customers(
    alex: User, carol: User, carol_sees_acme: Any, ben_ticket: Ticket
) -> None:
    ticket_reply(
        ticket=ben_ticket, body="Escalated to the zebrafish team", by_user=alex, channel="staff", internal=True
    )
    assert portal_refs(carol, "zebrafish") == []
    assert api_refs(carol, "zebrafish ben") == []
    assert queue_refs(alex, "zebrafish") == ["SL-104001"]


# ---------------------------------------------------------------- the documents follow renames


def _deliver(name: str) -> None:
    from serviceloop.core.events import event_dispatch

    for event in Event.objects.filter(name=name, completed_at__isnull=True):
        event_dispatch(event_id=event.pk)


def test_a_renamed_requester_is_found_by_the_new_name_and_email(
    sam: User, alex: User, ben: Person, ben_ticket: Ticket
) -> None:
    person_update(person=ben, by=sam, name="Ben Yildiz", email="ben.yildiz@acme.example")
    _deliver("person.updated")
    assert api_refs(alex, "Yildiz") == ["SL-104001"]
    assert api_refs(alex, "ben.yildiz@acme.example") == ["SL-104001"]
    assert api_refs(alex, "Yilmaz") == []
    assert api_refs(alex, BEN_EMAIL) == []


def test_a_renamed_organisation_is_found_by_its_new_name(
    sam: User, alex: User, org_a: Organisation, ben_ticket: Ticket
) -> None:
    organisation_update(organisation=org_a, by=sam, name="Zephyr Freight")
    _deliver("organisation.updated")
    assert api_refs(alex, "Zephyr") == ["SL-104001"]
    assert api_refs(alex, "Logistics") == []


def test_a_ticket_moved_in_the_admin_is_found_by_its_new_requester(
    alex: User, bob_person: Person, ben_ticket: Ticket
) -> None:
    from serviceloop.desk.admin import TicketAdmin

    ben_ticket.requester, ben_ticket.organisation = bob_person, bob_person.organisation
    TicketAdmin(Ticket, admin_site=None).save_model(None, ben_ticket, form=None, change=True)  # type: ignore[arg-type]
    assert api_refs(alex, "Borealis") == ["SL-104001"]
    assert api_refs(alex, "Ben Yilmaz") == []


def _admin_post(ada: User, url: str, **changes: Any) -> None:
    client = client_for(ada)
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(changes)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""


def test_a_requester_renamed_in_the_admin_is_found_by_the_new_name(
    ada: User, alex: User, ben: Person, ben_ticket: Ticket
) -> None:
    _admin_post(ada, reverse("admin:relationships_person_change", args=[ben.pk]), name="Ben Kaya")
    assert Event.objects.get(name="person.updated").data["changed"] == ["name"]
    _deliver("person.updated")
    assert api_refs(alex, "Ben Kaya") == ["SL-104001"]


def test_an_organisation_renamed_in_the_admin_is_found_by_its_new_name(
    ada: User, alex: User, org_a: Organisation, ben_ticket: Ticket
) -> None:
    _admin_post(ada, reverse("admin:accounts_organisation_change", args=[org_a.pk]), name="Zephyr Freight")
    _deliver("organisation.updated")
    assert api_refs(alex, "Zephyr") == ["SL-104001"]

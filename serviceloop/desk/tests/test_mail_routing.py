"""Mail routing: a new mail ticket opens on the service of the address it was sent to, then of the
first matching rule, then the default; a route applies only to a service the sender's organisation
consumes, and the inbound-mail row and the ticket's history say which route chose and why.

Mail goes in as a provider sends it: posted raw to the webhook with a staff token, then processed
by the worker (the commit's callbacks; one test runs a real Celery worker on a real broker).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.testing import api_client_for
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core.testing import wait_until
from serviceloop.desk.models import InboundMail, MailRoute, Ticket, TicketEvent
from serviceloop.desk.services.mail_in import mail_receive
from serviceloop.desk.tests.factories import make_offering, make_relationship, make_service, make_ticket
from serviceloop.desk.tests.mail_factories import raw_mail
from serviceloop.relationships.models import Person

pytestmark = pytest.mark.django_db
URL = "/api/desk/mail/inbound"
PAYSLIP = "My payslip for November shows the wrong tax code."


@pytest.fixture
def payroll(sam: User) -> Service:
    service = make_service("Payroll", manager=sam)
    service.slug = "payroll"
    service.save(update_fields=["slug"])
    return service


@pytest.fixture
def parcels(sam: User) -> Service:
    service = make_service("Parcel delivery", manager=sam)
    service.slug = "parcel-delivery"
    service.save(update_fields=["slug"])
    return service


@pytest.fixture
def payroll_run(payroll: Service) -> Offering:
    return make_offering(payroll, "Monthly payroll run")


@pytest.fixture
def acme_consumes_both(org_a: Organisation, payroll_run: Offering, parcels: Service, settings: Any) -> None:
    """Acme uses the mailbox, payroll and parcels; the configured default is parcels (the arbitrary service)."""
    make_relationship(org_a, payroll_run)
    make_relationship(org_a, make_offering(parcels, "Next-day parcels"))
    settings.SERVICELOOP_MAIL_DEFAULT_SERVICE = "parcel-delivery"


def route(service: Service, **fields: Any) -> MailRoute:
    return MailRoute.objects.create(service=service, **fields)


@pytest.fixture
def deliver(alex: User, django_capture_on_commit_callbacks: Any) -> Iterator[Any]:
    """Post one raw mail to the webhook as the provider does, let the worker apply it, return staff's view of it."""
    client = api_client_for(alex)

    def run(data: bytes) -> dict[str, Any]:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.generic("POST", URL, data=data, content_type="message/rfc822")
        assert response.status_code == 202, response.content
        detail = client.get(f"{URL}/{response.json()['id']}")
        assert detail.status_code == 200
        return detail.json()  # type: ignore[no-any-return]

    yield run


def ticket_of(detail: dict[str, Any]) -> Ticket:
    return Ticket.objects.select_related("service", "offering").get(reference=detail["ticket"])


def routed_note(ticket: Ticket) -> str:
    return ticket.events.get(kind=TicketEvent.Kind.ROUTED).note


# ---------------------------------------------------------------- by address


def test_a_payslip_question_to_the_payroll_address_lands_on_payroll_not_the_default(
    deliver: Any, carol_person: Person, acme_consumes_both: None, payroll: Service, payroll_run: Offering
) -> None:
    route(payroll, address="payroll@desk.example")
    detail = deliver(raw_mail(to="Payroll team <payroll@desk.example>", subject="Payslip wrong", body=PAYSLIP))
    ticket = ticket_of(detail)
    assert (detail["outcome"], ticket.service, ticket.offering) == ("created", payroll, payroll_run)
    assert detail["route"] == "address payroll@desk.example → Payroll"
    assert routed_note(ticket) == "address payroll@desk.example → Payroll"
    assert ticket.events.get(kind=TicketEvent.Kind.ROUTED).to_value == "Payroll — Monthly payroll run"


def test_without_a_route_the_same_mail_goes_to_the_default_and_says_so(
    deliver: Any, carol_person: Person, acme_consumes_both: None, parcels: Service
) -> None:
    detail = deliver(raw_mail(to="payroll@desk.example", subject="Payslip wrong", body=PAYSLIP))
    assert ticket_of(detail).service == parcels
    assert detail["route"] == "the default service (parcel-delivery) → Parcel delivery"


def test_the_envelope_recipient_routes_a_mail_that_came_by_bcc(
    deliver: Any, carol_person: Person, acme_consumes_both: None, payroll: Service
) -> None:
    route(payroll, address="payroll@desk.example")
    raw = raw_mail(to="colleague@acme.example", headers={"Delivered-To": "payroll@desk.example"})
    assert ticket_of(deliver(raw)).service == payroll


def test_x_original_to_routes_a_mail_forwarded_from_the_route_address(
    deliver: Any, carol_person: Person, acme_consumes_both: None, payroll: Service
) -> None:
    route(payroll, address="payroll@desk.example")
    raw = raw_mail(to="desk@serviceloop.localhost", headers={"X-Original-To": "PAYROLL@Desk.Example"})
    detail = deliver(raw)
    assert ticket_of(detail).service == payroll
    assert detail["route"] == "address payroll@desk.example → Payroll"


def test_an_address_in_cc_routes_too(
    deliver: Any, carol_person: Person, acme_consumes_both: None, payroll: Service
) -> None:
    route(payroll, address="payroll@desk.example")
    raw = raw_mail(to="boss@acme.example", headers={"Cc": "Payroll <Payroll@desk.example>"})
    assert ticket_of(deliver(raw)).service == payroll


def test_a_plus_tag_on_a_route_address_still_matches_the_route(
    deliver: Any, carol_person: Person, acme_consumes_both: None, payroll: Service
) -> None:
    route(payroll, address="payroll@desk.example")
    detail = deliver(raw_mail(to="payroll+urgent@desk.example"))
    assert ticket_of(detail).service == payroll
    assert detail["route"] == "address payroll+urgent@desk.example (as payroll@desk.example) → Payroll"


def test_the_desks_own_address_with_a_service_slug_as_tag_routes_to_that_service(
    deliver: Any, carol_person: Person, acme_consumes_both: None, payroll: Service
) -> None:
    detail = deliver(raw_mail(to="desk+payroll@serviceloop.localhost"))
    assert ticket_of(detail).service == payroll
    assert detail["route"] == "address desk+payroll@serviceloop.localhost (tag payroll) → Payroll"


def test_a_route_to_a_service_the_organisation_does_not_consume_is_passed_over_with_the_reason(
    deliver: Any, carol_person: Person, service: Service, payroll: Service
) -> None:
    # Acme consumes only the mailbox service: the payroll address cannot open a ticket on payroll.
    route(payroll, address="payroll@desk.example")
    detail = deliver(raw_mail(to="payroll@desk.example", body=PAYSLIP))
    ticket = ticket_of(detail)
    assert ticket.service == service
    expected = (
        "the organisation's first live service → Email & collaboration; "
        "passed over: address payroll@desk.example: Acme Logistics does not consume Payroll"
    )
    assert detail["route"] == expected
    assert routed_note(ticket) == expected


def test_a_route_to_a_retired_service_is_passed_over(
    deliver: Any, carol_person: Person, acme_consumes_both: None, payroll: Service, parcels: Service
) -> None:
    route(payroll, address="payroll@desk.example")
    Service.objects.filter(pk=payroll.pk).update(lifecycle=Service.Lifecycle.RETIRED)
    detail = deliver(raw_mail(to="payroll@desk.example"))
    assert ticket_of(detail).service == parcels
    assert "address payroll@desk.example: Payroll is not live" in detail["route"]


def test_an_inactive_route_is_not_used(
    deliver: Any, carol_person: Person, acme_consumes_both: None, payroll: Service, parcels: Service
) -> None:
    route(payroll, address="payroll@desk.example", is_active=False)
    assert ticket_of(deliver(raw_mail(to="payroll@desk.example"))).service == parcels


def test_the_address_comes_before_the_rules(
    deliver: Any, carol_person: Person, acme_consumes_both: None, payroll: Service, parcels: Service
) -> None:
    route(parcels, address="parcels@desk.example")
    route(payroll, keywords="payslip", position=1)
    detail = deliver(raw_mail(to="parcels@desk.example", subject="Payslip", body=PAYSLIP))
    assert ticket_of(detail).service == parcels


# ---------------------------------------------------------------- by rule


def test_a_keyword_in_the_body_routes_mail_to_the_shared_address(
    deliver: Any, carol_person: Person, acme_consumes_both: None, payroll: Service
) -> None:
    route(payroll, keywords="salary, payslip")
    detail = deliver(raw_mail(subject="Question", body="Where are my Payslips from last year?"))
    assert ticket_of(detail).service == payroll
    assert detail["route"] == "rule 100 (keyword “payslip”) → Payroll"


def test_a_keyword_matches_at_the_start_of_a_word_only(
    deliver: Any, carol_person: Person, acme_consumes_both: None, payroll: Service, parcels: Service
) -> None:
    route(payroll, keywords="tax")
    detail = deliver(raw_mail(subject="Syntax error in the tracking page", body="The page shows a syntax error."))
    assert ticket_of(detail).service == parcels


def test_rules_are_tried_from_the_lowest_position_up(
    deliver: Any, carol_person: Person, acme_consumes_both: None, payroll: Service, parcels: Service
) -> None:
    route(parcels, keywords="november", position=20)
    route(payroll, keywords="payslip", position=10)
    detail = deliver(raw_mail(subject="Payslip", body=PAYSLIP))
    assert ticket_of(detail).service == payroll
    assert detail["route"].startswith("rule 10 ")


def test_a_rule_for_the_senders_organisation_applies_to_its_people_only(
    deliver: Any,
    carol_person: Person,
    bob_person: Person,
    org_a: Organisation,
    org_b: Organisation,
    acme_consumes_both: None,
    payroll_run: Offering,
    payroll: Service,
    offering: Offering,
) -> None:
    make_relationship(org_b, offering)
    make_relationship(org_b, payroll_run)
    route(payroll, sender_organisation=org_a)
    acme = deliver(raw_mail(subject="Hello", body="A question."))
    assert ticket_of(acme).service == payroll
    assert acme["route"] == "rule 100 (sender of Acme Logistics) → Payroll"
    borealis = deliver(raw_mail(sender="bob@borealis.example", subject="Hello", body="A question."))
    assert ticket_of(borealis).service == offering.service


def test_a_rule_with_keywords_and_an_organisation_needs_both(
    deliver: Any,
    carol_person: Person,
    org_b: Organisation,
    acme_consumes_both: None,
    payroll: Service,
    parcels: Service,
) -> None:
    route(payroll, keywords="payslip", sender_organisation=org_b)
    assert ticket_of(deliver(raw_mail(subject="Payslip", body=PAYSLIP))).service == parcels


def test_a_rule_passed_over_for_an_unconsumed_service_lets_the_next_rule_apply(
    deliver: Any, carol_person: Person, acme_consumes_both: None, payroll: Service, sam: User
) -> None:
    laptops = make_service("Laptop provisioning", manager=sam)
    route(laptops, keywords="payslip", position=1)
    route(payroll, keywords="payslip", position=2)
    detail = deliver(raw_mail(subject="Payslip", body=PAYSLIP))
    assert ticket_of(detail).service == payroll
    assert detail["route"] == (
        "rule 2 (keyword “payslip”) → Payroll; passed over: rule 1 (keyword “payslip”): "
        "Acme Logistics does not consume Laptop provisioning"
    )


# ---------------------------------------------------------------- what routing leaves alone


def test_a_reply_stays_on_its_ticket_whatever_address_it_was_sent_to(
    carol_person: Person, acme_consumes_both: None, payroll: Service, parcels: Service
) -> None:
    route(payroll, address="payroll@desk.example")
    ticket = make_ticket(carol_person, parcels)
    result = mail_receive(
        raw=raw_mail(to="payroll@desk.example", subject=f"Re: [{ticket.reference}] Printer"), source="webhook"
    )
    assert (result.outcome, result.ticket) == ("replied", ticket)
    ticket.refresh_from_db()
    assert ticket.service == parcels
    assert result.log.route == ""


def test_mail_from_a_route_address_is_a_loop_and_ignored(carol_person: Person, payroll: Service) -> None:
    route(payroll, address="payroll@desk.example")
    result = mail_receive(raw=raw_mail(sender="payroll@desk.example"), source="webhook")
    assert (result.outcome, result.reason) == (
        "ignored",
        "loop: the mail comes from one of the desk's route addresses.",
    )
    assert not Ticket.objects.exists()


def test_a_ticket_opened_from_the_portal_has_no_routing_history(carol_person: Person, service: Service) -> None:
    ticket = make_ticket(carol_person, service)
    assert not ticket.events.filter(kind=TicketEvent.Kind.ROUTED).exists()


# ---------------------------------------------------------------- a real worker


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_routes_the_payslip_mail_to_payroll(
    celery_worker: Any, carol_person: Person, acme_consumes_both: None, payroll: Service, alex: User
) -> None:
    route(payroll, address="payroll@desk.example")
    client: Client = api_client_for(alex)
    response = client.generic(
        "POST",
        URL,
        data=raw_mail(to="payroll@desk.example", subject="Payslip wrong", body=PAYSLIP),
        content_type="message/rfc822",
    )
    assert response.status_code == 202
    public_id = response.json()["id"]
    wait_until(
        lambda: InboundMail.objects.filter(public_id=public_id, outcome="created").exists(),
        message="the worker applied the mail",
    )
    log = InboundMail.objects.get(public_id=public_id)
    assert log.ticket is not None and log.ticket.service == payroll
    assert log.route == "address payroll@desk.example → Payroll"

"""POST /api/desk/mail/inbound: raw MIME in, stored and answered 202; the worker parses and applies it,
and staff read the outcome at GET /api/desk/mail/inbound/{id}.

Tests run tasks eagerly; `deliver` lets the commit's callbacks run (the kick that asks the worker to
process the stored mail), as they do outside a test's transaction.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from serviceloop.accounts.testing import api_client_for
from serviceloop.core.models import OutgoingMail
from serviceloop.core.tasks import sweep_once
from serviceloop.desk.models import InboundMail, Message, OrganisationMailPolicy, Ticket
from serviceloop.desk.services import ticket_resolve
from serviceloop.desk.tests.factories import grant, make_person, make_ticket
from serviceloop.desk.tests.mail_factories import many_parts_mail, nested_mail, raw_mail
from serviceloop.relationships.models import Person

pytestmark = pytest.mark.django_db
URL = "/api/desk/mail/inbound"
ACK = "We have received your request"


def post(client: Client, data: bytes, **extra: Any) -> Any:
    return client.generic("POST", URL, data=data, content_type="message/rfc822", **extra)


@pytest.fixture
def deliver(alex: Any, django_capture_on_commit_callbacks: Any) -> Iterator[Any]:
    """Post one mail as the mail provider would (a staff token), let the worker run, return its row as staff read it."""
    client = api_client_for(alex)

    def run(data: bytes) -> dict[str, Any]:
        with django_capture_on_commit_callbacks(execute=True):
            response = post(client, data)
        assert response.status_code == 202, response.content
        detail = client.get(f"{URL}/{response.json()['id']}")
        assert detail.status_code == 200
        return detail.json()  # type: ignore[no-any-return]

    yield run


def with_auth_results(raw: bytes, *values: str) -> bytes:
    """Authentication-Results headers on top, as the receiving servers prepend them (the first is topmost)."""
    return b"".join(f"Authentication-Results: {value}\r\n".encode() for value in values) + raw


# ---------------------------------------------------------------- stored, answered 202, applied by the worker


def test_a_staff_token_posts_a_mail_that_is_stored_and_then_opens_a_ticket(
    alex: Any, carol_person: Person, django_capture_on_commit_callbacks: Any
) -> None:
    client = api_client_for(alex)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, raw_mail(subject="Scanner offline"))
        assert response.status_code == 202
        body = response.json()
        assert (body["outcome"], body["ticket"]) == ("received", None)
        # Nothing was parsed in the request: only the raw mail is stored.
        log = InboundMail.objects.get(public_id=body["id"])
        assert (log.outcome, log.from_email, log.source) == ("received", "", "webhook")
        assert bytes(log.raw).startswith(b"From: Carol Customer")
        assert not Ticket.objects.exists()
    ticket = Ticket.objects.get()
    detail = client.get(f"{URL}/{body['id']}").json()
    assert (detail["outcome"], detail["reason"], detail["ticket"]) == ("created", "new ticket", ticket.reference)
    assert detail["message"] == ticket.messages.get().public_id
    assert (detail["from_email"], detail["subject"]) == ("carol@acme.example", "Scanner offline")


def test_a_mail_the_broker_never_delivered_is_applied_by_the_sweep(
    alex: Any, carol_person: Person, travel: Any
) -> None:
    response = post(api_client_for(alex), raw_mail(subject="Scanner offline"))  # no commit callbacks: no kick
    assert response.status_code == 202
    assert not Ticket.objects.exists()
    travel.by(seconds=31)
    sweep_once()
    assert InboundMail.objects.get().outcome == "created"
    assert Ticket.objects.get().subject == "Scanner offline"


def test_the_shared_secret_header_is_enough(carol_person: Person, settings: Any) -> None:
    settings.SERVICELOOP_MAIL_WEBHOOK_SECRET = "s3cret-value"
    response = post(Client(), raw_mail(), HTTP_X_SERVICELOOP_MAIL_SECRET="s3cret-value")
    assert response.status_code == 202
    assert InboundMail.objects.get().source == "webhook"


def test_a_wrong_secret_or_no_secret_configured_is_refused(carol_person: Person, settings: Any) -> None:
    settings.SERVICELOOP_MAIL_WEBHOOK_SECRET = ""
    assert post(Client(), raw_mail(), HTTP_X_SERVICELOOP_MAIL_SECRET="").status_code == 401
    settings.SERVICELOOP_MAIL_WEBHOOK_SECRET = "s3cret-value"
    assert post(Client(), raw_mail(), HTTP_X_SERVICELOOP_MAIL_SECRET="guess").status_code == 401
    assert not InboundMail.objects.exists()


def test_a_customer_token_may_not_post_mail(carol: Any, carol_person: Person) -> None:
    response = post(api_client_for(carol), raw_mail())
    assert response.status_code == 403
    assert not InboundMail.objects.exists()


def test_only_staff_read_inbound_mail(carol: Any, alex: Any, carol_person: Person) -> None:
    mail_id = post(api_client_for(alex), raw_mail()).json()["id"]
    assert api_client_for(carol).get(f"{URL}/{mail_id}").status_code == 403
    assert api_client_for(carol).get(URL).status_code == 403
    assert Client().get(f"{URL}/{mail_id}").status_code == 401
    assert api_client_for(alex).get(f"{URL}/nosuchmail").status_code == 404
    assert api_client_for(alex).get(URL, {"outcome": "lost"}).status_code == 422


def test_a_reply_is_applied_to_the_ticket(deliver: Any, carol_person: Person) -> None:
    reference = deliver(raw_mail())["ticket"]
    reply = deliver(raw_mail(subject=f"Re: [{reference}] Printer"))
    assert (reply["outcome"], reply["ticket"], reply["reason"]) == ("replied", reference, "threaded by reference")


def test_an_auto_reply_is_ignored_with_the_reason(deliver: Any, carol_person: Person) -> None:
    detail = deliver(raw_mail(headers={"Auto-Submitted": "auto-replied"}))
    assert (detail["outcome"], detail["ticket"]) == ("ignored", None)
    assert "auto-replied" in detail["reason"].lower()


def test_the_same_message_id_twice_is_one_ticket_and_a_logged_duplicate(deliver: Any, carol_person: Person) -> None:
    raw = raw_mail(message_id="<once@acme.example>")
    first, second = deliver(raw), deliver(raw)
    assert (first["outcome"], second["outcome"]) == ("created", "ignored")
    assert second["reason"].startswith("duplicate") and second["ticket"] == first["ticket"]
    assert Ticket.objects.count() == 1


def test_input_that_is_not_a_mail_is_422_and_nothing_is_stored(alex: Any) -> None:
    response = post(api_client_for(alex), b"\x00\x01\x02 this is not a mail")
    assert response.status_code == 422
    assert response.json()["code"] == "not_a_mail"
    assert response.json()["message"].startswith("This is not a mail:")
    assert post(api_client_for(alex), b"").status_code == 422
    assert not InboundMail.objects.exists()


# ---------------------------------------------------------------- limits


def test_a_mail_over_the_size_limit_is_413_and_nothing_is_stored(alex: Any, settings: Any) -> None:
    settings.SERVICELOOP_MAIL_MAX_BYTES = 10_000
    response = post(api_client_for(alex), b"Subject: big\r\n\r\n" + b"x" * 10_000)
    assert response.status_code == 413
    assert response.json()["code"] == "mail_too_large"
    assert "10000 bytes" in response.json()["message"]
    assert not InboundMail.objects.exists()


def test_the_mail_of_200000_parts_is_refused_fast_as_rejected_with_the_limit(
    deliver: Any, carol_person: Person
) -> None:
    raw = many_parts_mail(200_000)
    started = time.monotonic()
    detail = deliver(raw)
    elapsed = time.monotonic() - started
    print(f"\n200,000-part mail ({len(raw) / 1e6:.1f} MB): stored, refused by the worker in {elapsed:.2f} s")
    assert detail["outcome"] == "rejected"
    assert detail["reason"].startswith("too_many_parts: The mail has more than 500 MIME parts.")
    assert not Ticket.objects.exists()
    assert elapsed < 5  # it took 30 s and a worker timeout before the limits


def test_a_mail_within_the_part_limit_is_applied(deliver: Any, carol_person: Person) -> None:
    assert deliver(many_parts_mail(400))["outcome"] == "created"


def test_a_mail_nested_deeper_than_the_limit_is_rejected(deliver: Any, carol_person: Person, settings: Any) -> None:
    assert deliver(nested_mail(12))["reason"].startswith("too_deep: The mail nests MIME parts more than 10 levels")
    settings.SERVICELOOP_MAIL_MAX_DEPTH = 3
    assert deliver(nested_mail(4))["outcome"] == "rejected"
    assert deliver(nested_mail(3))["outcome"] == "created"


def test_a_mail_with_too_many_headers_is_rejected(deliver: Any, carol_person: Person) -> None:
    headers = b"".join(f"X-Filler-{n}: {n}\r\n".encode() for n in range(1001))
    detail = deliver(headers + raw_mail())
    assert detail["outcome"] == "rejected"
    assert detail["reason"].startswith("too_many_headers:")


# ---------------------------------------------------------------- who may write into a ticket


@pytest.fixture
def resolved_ticket(carol_person: Person, service: Any, alex: Any) -> Ticket:
    ticket = make_ticket(carol_person, service)
    return ticket_resolve(ticket=ticket, by=alex, resolution="Restarted the spooler.")


def _unchanged(ticket: Ticket) -> None:
    ticket.refresh_from_db()
    assert (ticket.status, ticket.reopen_count, ticket.messages.count()) == ("resolved", 0, 1)


def test_a_person_of_the_organisation_without_a_role_is_held_and_does_not_reopen(
    deliver: Any, resolved_ticket: Ticket, dave: Person
) -> None:
    detail = deliver(raw_mail(sender="dave@acme.example", subject=f"Re: [{resolved_ticket.reference}] reopen"))
    assert (detail["outcome"], detail["ticket"]) == ("held", resolved_ticket.reference)
    assert detail["reason"].startswith("not_a_participant: dave@acme.example takes no part in")
    _unchanged(resolved_ticket)


def test_a_forged_from_of_another_organisations_customer_never_lands_on_the_ticket(
    deliver: Any, resolved_ticket: Ticket, bob_person: Person
) -> None:
    detail = deliver(raw_mail(sender="bob@borealis.example", subject=f"Re: [{resolved_ticket.reference}] mine now"))
    assert detail["outcome"] == "held"
    _unchanged(resolved_ticket)


def test_with_policy_new_a_non_participant_opens_a_ticket_of_their_own_organisation(
    deliver: Any, resolved_ticket: Ticket, bob_person: Person, offering: Any, org_b: Any, settings: Any
) -> None:
    from serviceloop.desk.tests.factories import make_relationship

    make_relationship(org_b, offering)
    settings.SERVICELOOP_MAIL_NONPARTICIPANT = "new"
    detail = deliver(raw_mail(sender="bob@borealis.example", subject=f"Re: [{resolved_ticket.reference}] mine now"))
    assert detail["outcome"] == "created"
    assert Ticket.objects.get(reference=detail["ticket"]).organisation == org_b
    _unchanged(resolved_ticket)


def test_a_role_holder_of_the_relationship_and_staff_are_participants(
    deliver: Any, carol_person: Person, service: Any, org_a: Any, relationship_a: Any, sam: Any, settings: Any
) -> None:
    ticket = make_ticket(carol_person, service)
    erin = make_person(org_a, email="erin@acme.example", name="Erin")
    grant(relationship_a, erin, "customer")
    by_erin = deliver(raw_mail(sender="erin@acme.example", subject=f"Re: [{ticket.reference}] any news?"))
    assert (by_erin["outcome"], by_erin["ticket"]) == ("replied", ticket.reference)
    # A staff address may write into any ticket, so a forged one must not: without a trusted DMARC
    # pass its mail is held, with it the mail is the staff member's reply.
    forged = deliver(
        raw_mail(sender=sam.email, subject=f"Re: [{ticket.reference}] on it", message_id="<forged@x.example>")
    )
    assert forged["outcome"] == "held" and forged["reason"].startswith("staff_unverified:")
    settings.SERVICELOOP_MAIL_AUTHSERV_ID = "mx.desk.example"
    by_staff = deliver(
        with_auth_results(
            raw_mail(sender=sam.email, subject=f"Re: [{ticket.reference}] on it", message_id="<s@x.example>"),
            f"mx.desk.example; dmarc=pass header.from={sam.email.rpartition('@')[2]}",
        )
    )
    assert by_staff["outcome"] == "replied"
    message = Message.objects.get(public_id=by_staff["message"])
    assert (message.author_user, message.author_person) == (sam, None)


def test_a_dmarc_pass_about_another_domain_does_not_make_a_staff_address_true(
    deliver: Any, carol_person: Person, service: Any, sam: Any, settings: Any
) -> None:
    ticket = make_ticket(carol_person, service)
    settings.SERVICELOOP_MAIL_AUTHSERV_ID = "mx.desk.example"
    staff_domain = sam.email.rpartition("@")[2]
    # The receiving server vouches for evil.example, the domain the forger owns: not for the staff address.
    other = deliver(
        with_auth_results(
            raw_mail(sender=sam.email, subject=f"Re: [{ticket.reference}] on it", message_id="<o@x.example>"),
            "mx.desk.example; dmarc=pass header.from=evil.example",
        )
    )
    assert other["outcome"] == "held" and other["reason"].startswith("staff_unverified:")
    # A From with the staff address followed by a second "@": no address at all, never the staff member's.
    doubled = deliver(
        with_auth_results(
            raw_mail(
                sender=f"{sam.email}@evil.example",
                subject=f"Re: [{ticket.reference}] on it",
                message_id="<d@x.example>",
            ),
            f"mx.desk.example; dmarc=pass header.from={staff_domain}",
        )
    )
    assert doubled["outcome"] != "replied"
    assert not Message.objects.filter(ticket=ticket, author_user=sam).exists()


def test_an_agent_releases_a_held_mail_to_its_ticket(
    deliver: Any, resolved_ticket: Ticket, dave: Person, alex: Any
) -> None:
    held = deliver(raw_mail(sender="dave@acme.example", subject=f"Re: [{resolved_ticket.reference}] still broken"))
    client = api_client_for(alex)
    listed = client.get(URL, {"outcome": "held"}).json()
    assert [row["id"] for row in listed["items"]] == [held["id"]]
    released = client.post(f"{URL}/{held['id']}/release")
    assert released.status_code == 200
    body = released.json()
    assert (body["outcome"], body["ticket"], body["reviewed_by"]) == ("replied", resolved_ticket.reference, alex.email)
    assert Message.objects.get(public_id=body["message"]).author_person == dave
    assert client.post(f"{URL}/{held['id']}/release").status_code == 409


def test_an_agent_discards_a_held_mail_and_nothing_is_applied(
    deliver: Any, resolved_ticket: Ticket, bob_person: Person, alex: Any, carol: Any
) -> None:
    held = deliver(raw_mail(sender="bob@borealis.example", subject=f"Re: [{resolved_ticket.reference}] mine"))
    assert api_client_for(carol).post(f"{URL}/{held['id']}/discard").status_code == 403
    response = api_client_for(alex).post(f"{URL}/{held['id']}/discard")
    assert response.status_code == 200
    assert response.json()["outcome"] == "discarded"
    assert response.json()["reason"].startswith(f"discarded by {alex.email}; it was held: not_a_participant")
    _unchanged(resolved_ticket)
    assert api_client_for(alex).post(f"{URL}/{held['id']}/release").status_code == 409


# ---------------------------------------------------------------- the receiving server's verdict


def test_the_topmost_authentication_results_is_recorded_and_a_dmarc_fail_is_held(
    deliver: Any, resolved_ticket: Ticket
) -> None:
    raw = with_auth_results(
        raw_mail(subject=f"Re: [{resolved_ticket.reference}] reopen"),
        "mx.desk.example; dkim=none; spf=softfail smtp.mailfrom=acme.example; dmarc=fail header.from=acme.example",
        # Written by the sender, below the receiving server's: never read.
        "mx.desk.example; dkim=pass; spf=pass; dmarc=pass",
    )
    detail = deliver(raw)
    assert (detail["auth_dmarc"], detail["auth_dkim"], detail["auth_spf"]) == ("fail", "none", "softfail")
    assert detail["auth_results"].startswith("mx.desk.example; dkim=none")
    assert detail["outcome"] == "held"
    assert detail["reason"].startswith("dmarc_fail:")
    _unchanged(resolved_ticket)


def test_with_an_authserv_id_only_that_servers_header_is_trusted(
    deliver: Any, carol_person: Person, settings: Any
) -> None:
    settings.SERVICELOOP_MAIL_AUTHSERV_ID = "mx.desk.example"
    raw = with_auth_results(raw_mail(), "forger.example; dmarc=fail", "mx.desk.example; dmarc=pass (p=reject)")
    detail = deliver(raw)
    assert (detail["auth_dmarc"], detail["outcome"]) == ("pass", "created")


def test_an_organisation_that_requires_dmarc_gets_only_mail_that_passes(
    deliver: Any, carol_person: Person, org_a: Any, settings: Any
) -> None:
    OrganisationMailPolicy.objects.create(organisation=org_a, require_dmarc_pass=True)
    unsigned = deliver(raw_mail(subject="No verdict"))
    assert (unsigned["outcome"], unsigned["auth_dmarc"]) == ("held", "")
    assert unsigned["reason"].startswith("dmarc_required:") and "no DMARC verdict" in unsigned["reason"]
    # The sender's own header vouches for nothing while no receiving server is trusted.
    claimed = deliver(
        with_auth_results(
            raw_mail(subject="Self-signed", message_id="<self@x.example>"),
            "mx.desk.example; dmarc=pass header.from=acme.example",
        )
    )
    assert claimed["outcome"] == "held" and "SERVICELOOP_MAIL_AUTHSERV_ID is not set" in claimed["reason"]
    settings.SERVICELOOP_MAIL_AUTHSERV_ID = "mx.desk.example"
    passed = deliver(
        with_auth_results(raw_mail(subject="Signed"), "mx.desk.example; dmarc=pass header.from=acme.example")
    )
    assert passed["outcome"] == "created"
    assert list(Ticket.objects.values_list("subject", flat=True)) == ["Signed"]


# ---------------------------------------------------------------- acknowledgements


def test_acknowledgements_are_limited_per_address_and_hour_and_quote_nothing(
    deliver: Any, carol_person: Person, settings: Any, travel: Any
) -> None:
    settings.SERVICELOOP_MAIL_ACK_PER_HOUR = 3
    for n in range(5):
        deliver(raw_mail(subject=f"Buy cheap pills {n}", body="Visit https://spam.example now"))
    assert Ticket.objects.count() == 5
    acks = OutgoingMail.objects.filter(subject__endswith=ACK)
    assert acks.count() == 3
    for ack in acks:
        assert ack.to == ["carol@acme.example"]
        assert "spam.example" not in ack.text and "spam.example" not in ack.html
        assert "pills" not in ack.subject + ack.text + ack.html
    travel.by(hours=1)
    deliver(raw_mail(subject="Another hour"))
    assert OutgoingMail.objects.filter(subject__endswith=ACK).count() == 4


def test_a_held_mail_that_the_limits_now_refuse_answers_409_on_release(
    deliver: Any, resolved_ticket: Ticket, dave: Person, alex: Any, settings: Any
) -> None:
    held = deliver(raw_mail(sender="dave@acme.example", subject=f"Re: [{resolved_ticket.reference}] still broken"))
    settings.SERVICELOOP_MAIL_MAX_HEADERS = 2  # lowered by an operator after the mail was held
    response = api_client_for(alex).post(f"{URL}/{held['id']}/release")
    assert response.status_code == 409, response.content
    assert "Discard it instead" in response.json()["message"]
    assert api_client_for(alex).get(f"{URL}/{held['id']}").json()["outcome"] == "held"

"""Inbound mail applied to the desk: new tickets, threaded replies, refusals, each with its log row."""

from __future__ import annotations

from typing import Any

import pytest

from serviceloop.catalogue.models import Service
from serviceloop.desk.mail_out import message_mail_id
from serviceloop.desk.models import Attachment, InboundMail, Message, Ticket
from serviceloop.desk.services import ticket_close, ticket_reply
from serviceloop.desk.services.mail_in import mail_receive
from serviceloop.desk.tests.factories import make_offering, make_relationship, make_ticket
from serviceloop.desk.tests.mail_factories import raw_mail
from serviceloop.relationships.models import Person

pytestmark = pytest.mark.django_db


def receive(raw: bytes) -> Any:
    return mail_receive(raw=raw, source="webhook")


def test_mail_from_a_known_contact_opens_a_ticket_on_the_service_their_organisation_uses(
    carol_person: Person, service: Any
) -> None:
    result = receive(raw_mail(subject="VPN drops every hour", message_id="<m1@acme.example>"))
    assert result.outcome == "created"
    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.requester, ticket.service, ticket.channel) == (
        "VPN drops every hour",
        carol_person,
        service,
        "email",
    )
    message = ticket.messages.get()
    assert message.email_message_id == "m1@acme.example"
    assert message.body == "It shows error E42 since this morning."
    log = InboundMail.objects.get()
    assert (log.outcome, log.ticket, log.message, log.from_email) == ("created", ticket, message, "carol@acme.example")


def test_the_configured_default_service_is_used_when_the_organisation_consumes_it(
    carol_person: Person, org_a: Any, settings: Any
) -> None:
    other = make_offering(name="Laptops")
    make_relationship(org_a, other)
    settings.SERVICELOOP_MAIL_DEFAULT_SERVICE = other.service.slug
    receive(raw_mail())
    assert Ticket.objects.get().service == other.service


def test_a_reply_threads_by_in_reply_to_and_quoted_history_is_trimmed(carol_person: Person) -> None:
    ticket = make_ticket(carol_person, Service.objects.get(), email_message_id="first@acme.example")
    raw = raw_mail(
        subject="Something unrelated",
        in_reply_to="<first@acme.example>",
        body="It works again, thanks.\n\nOn Mon, Alex wrote:\n> Please restart the printer.\n> Alex\n",
    )
    result = receive(raw)
    assert (result.outcome, result.ticket) == ("replied", ticket)
    reply = ticket.messages.order_by("pk").last()
    assert reply is not None and reply.body == "It works again, thanks."
    assert (reply.author_person, reply.channel, reply.in_reply_to) == (carol_person, "email", "first@acme.example")


def test_a_reply_to_our_notification_threads_by_our_message_id(carol_person: Person, alex: Any) -> None:
    ticket = make_ticket(carol_person, Service.objects.get())
    answer = ticket_reply(ticket=ticket, body="Please restart it.", by_user=alex, channel="staff")
    result = receive(raw_mail(subject="Re: hello", in_reply_to=f"<{message_mail_id(answer)}>"))
    assert (result.outcome, result.ticket, result.reason) == ("replied", ticket, "threaded by header")


def test_a_reply_threads_by_the_reference_in_the_subject(carol_person: Person) -> None:
    ticket = make_ticket(carol_person, Service.objects.get())
    result = receive(raw_mail(subject=f"Re: [{ticket.reference}] Printer on floor 3 is jammed"))
    assert (result.outcome, result.ticket, result.reason) == ("replied", ticket, "threaded by reference")


def test_a_reference_from_another_organisation_is_held_and_never_attaches_to_the_ticket(
    carol_person: Person, bob_person: Person, org_b: Any, offering: Any
) -> None:
    ticket = make_ticket(carol_person, Service.objects.get())
    make_relationship(org_b, offering)
    result = receive(raw_mail(sender="bob@borealis.example", subject=f"Re: [{ticket.reference}] give me this"))
    assert (result.outcome, result.ticket) == ("held", ticket)
    assert result.reason.startswith("not_a_participant:")
    assert ticket.messages.count() == 1


def test_a_reference_from_another_organisation_opens_the_senders_own_ticket_when_the_policy_says_new(
    carol_person: Person, bob_person: Person, org_b: Any, offering: Any, settings: Any
) -> None:
    settings.SERVICELOOP_MAIL_NONPARTICIPANT = "new"
    ticket = make_ticket(carol_person, Service.objects.get())
    make_relationship(org_b, offering)
    result = receive(raw_mail(sender="bob@borealis.example", subject=f"Re: [{ticket.reference}] give me this"))
    assert result.outcome == "created"
    assert result.ticket != ticket and result.ticket.organisation == org_b
    assert ticket.messages.count() == 1


def test_the_same_mail_twice_is_recorded_once(carol_person: Person) -> None:
    raw = raw_mail(message_id="<once@acme.example>")
    receive(raw)
    second = receive(raw)
    assert (second.outcome, second.reason.split(":")[0]) == ("ignored", "duplicate")
    assert Ticket.objects.count() == 1 and Message.objects.count() == 1
    assert InboundMail.objects.count() == 2


@pytest.mark.parametrize(
    ("headers", "sender", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, "carol@acme.example", "auto_reply"),
        ({"Precedence": "bulk"}, "carol@acme.example", "auto_reply"),
        ({"X-Serviceloop-Loop": "1"}, "carol@acme.example", "auto_reply"),
        ({}, "MAILER-DAEMON@mx.acme.example", "bounce"),
    ],
)
def test_auto_replies_bounces_and_loops_create_nothing_and_send_nothing(
    carol_person: Person, headers: dict[str, str], sender: str, reason: str, mailoutbox: Any
) -> None:
    subject = "Undelivered Mail Returned to Sender" if reason == "bounce" else "Out of office"
    result = receive(raw_mail(sender=sender, subject=subject, headers=headers))
    assert result.outcome == "ignored"
    assert result.reason.startswith(reason)
    assert not Ticket.objects.exists()
    assert mailoutbox == []


def test_unknown_sender_of_a_known_domain_becomes_a_person_of_that_organisation(
    org_a: Any, relationship_a: Any, settings: Any
) -> None:
    settings.SERVICELOOP_MAIL_UNKNOWN_SENDERS = "create"
    result = receive(raw_mail(sender="Nina New <nina@acme.example>"))
    assert result.outcome == "created"
    nina = Person.objects.get(email="nina@acme.example")
    assert (nina.organisation, nina.name, result.ticket.requester) == (org_a, "Nina New", nina)


def test_unknown_sender_of_an_unknown_domain_is_rejected(org_a: Any, relationship_a: Any) -> None:
    result = receive(raw_mail(sender="mallory@evil.example"))
    assert (result.outcome, result.reason.split(":")[0]) == ("rejected", "unknown_sender")
    assert not Person.objects.filter(email="mallory@evil.example").exists()
    assert InboundMail.objects.get().outcome == "rejected"


def test_unknown_senders_are_rejected_when_the_policy_says_so(org_a: Any, relationship_a: Any, settings: Any) -> None:
    settings.SERVICELOOP_MAIL_UNKNOWN_SENDERS = "reject"
    result = receive(raw_mail(sender="nina@acme.example"))
    assert result.outcome == "rejected"
    assert not Person.objects.filter(email="nina@acme.example").exists()


def test_attachments_are_kept_and_a_too_large_one_is_dropped_with_a_note(carol_person: Person, settings: Any) -> None:
    settings.SERVICELOOP_ATTACHMENT_MAX_BYTES = 1000
    raw = raw_mail(
        attachments=[("error.txt", "text/plain", b"E42 paper jam"), ("huge.pdf", "application/pdf", b"%" * 5000)]
    )
    result = receive(raw)
    assert result.outcome == "created"
    [kept] = Attachment.objects.all()
    assert (kept.filename, kept.size, kept.file.read()) == ("error.txt", 13, b"E42 paper jam")
    assert "huge.pdf" in result.message.body and "not stored" in result.message.body


def test_html_only_mail_is_stored_as_safe_text(carol_person: Person) -> None:
    html = "<p>The <b>screen</b> is black.</p><script>alert(1)</script><p>Since today.</p>"
    result = receive(raw_mail(html=html))
    body = result.message.body
    assert "screen" in body and "Since today." in body
    assert "<" not in body and "alert" not in body


def test_a_reply_to_a_closed_ticket_opens_a_follow_up(carol_person: Person, alex: Any) -> None:
    ticket = make_ticket(carol_person, Service.objects.get())
    ticket_close(ticket=ticket, by=alex)
    result = receive(raw_mail(subject=f"Re: [{ticket.reference}] again"))
    assert result.outcome == "created" and result.ticket != ticket
    assert ticket.reference in result.message.body

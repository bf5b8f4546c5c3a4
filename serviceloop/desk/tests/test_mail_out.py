"""Mail to the requester, delivered through a real SMTP server on loopback and parsed as received."""

from __future__ import annotations

from typing import Any

import pytest

from serviceloop.catalogue.models import Service
from serviceloop.desk.mail_parse import parse_message
from serviceloop.desk.models import Message
from serviceloop.desk.services import ticket_reply, ticket_resolve, ticket_set_status
from serviceloop.desk.services.mail_in import mail_receive
from serviceloop.desk.tests.factories import make_ticket
from serviceloop.relationships.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Any:
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_a_new_ticket_is_acknowledged_with_its_reference_and_a_thread_root(
    carol: Any, carol_person: Person, service: Service, smtp_server: Any, commit: Any
) -> None:
    with commit():
        ticket = make_ticket(carol_person, service, by=carol, channel="portal", subject="VPN drops")
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "carol@acme.example"
    assert mail["Subject"] == f"[{ticket.reference}] We have received your request"
    assert mail["Reply-To"] == "desk@serviceloop.localhost"
    assert mail["Auto-Submitted"] == "auto-generated"
    opening = ticket.messages.get()
    assert mail["Message-ID"] == f"<{opening.email_message_id}>"
    assert opening.email_message_id.startswith(f"{ticket.reference}.{opening.public_id}@")
    assert mail["References"] == f"<{ticket.reference}@serviceloop.localhost>"
    # The acknowledgement quotes nothing the sender wrote: not the body, not the subject.
    assert "It shows error E42" not in mail.get_body(("plain",)).get_content()
    assert "VPN drops" not in mail.as_string()
    assert ticket.reference in mail.get_body(("html",)).get_content()


def test_a_public_reply_is_mailed_in_full_threaded_to_the_requesters_last_mail(
    carol_person: Person, service: Service, alex: Any, smtp_server: Any, commit: Any
) -> None:
    with commit():
        ticket = make_ticket(carol_person, service, by=alex, email_message_id="carol-1@acme.example")
    with commit():
        answer = ticket_reply(ticket=ticket, body="Please restart the <printer>.", by_user=alex, channel="staff")
    mails = smtp_server.wait_for(2)
    reply = mails[1]
    answer.refresh_from_db()
    assert reply["Message-ID"] == f"<{answer.email_message_id}>"
    assert reply["In-Reply-To"] == "<carol-1@acme.example>"
    assert reply["References"].split() == [f"<{ticket.reference}@serviceloop.localhost>", "<carol-1@acme.example>"]
    assert "Please restart the <printer>." in reply.get_body(("plain",)).get_content()
    assert "Please restart the &lt;printer&gt;." in reply.get_body(("html",)).get_content()


def test_internal_notes_and_the_requesters_own_messages_are_not_mailed(
    carol: Any, carol_person: Person, service: Service, alex: Any, smtp_server: Any, commit: Any
) -> None:
    ticket = make_ticket(carol_person, service, by=alex)
    with commit():
        ticket_reply(ticket=ticket, body="Looks like the driver.", by_user=alex, channel="staff", internal=True)
        ticket_reply(ticket=ticket, body="Any news?", by_user=carol, channel="portal")
    assert smtp_server.messages == []


def test_waiting_on_the_customer_and_the_resolution_are_mailed(
    carol_person: Person, service: Service, alex: Any, smtp_server: Any, commit: Any
) -> None:
    ticket = make_ticket(carol_person, service, by=alex)
    with commit():
        ticket_set_status(ticket=ticket, status="waiting_customer", by=alex)
    with commit():
        ticket_resolve(ticket=ticket, by=alex, resolution="Replaced the toner.")
    # Resolving also sends the feedback survey (another app's mail): keep the desk's own.
    waiting, resolved = [m for m in smtp_server.wait_for(2) if str(m["Message-ID"]).startswith(f"<{ticket.reference}.")]
    assert "waiting on customer" in waiting.get_body(("plain",)).get_content()
    assert resolved["Subject"] == f"[{ticket.reference}] {ticket.subject}"
    assert "Replaced the toner." in resolved.get_body(("html",)).get_content()
    assert "resolved" in resolved.get_body(("plain",)).get_content()


def test_the_requesters_answer_to_a_notification_comes_back_to_the_ticket(
    carol_person: Person, service: Service, alex: Any, smtp_server: Any, commit: Any
) -> None:
    ticket = make_ticket(carol_person, service, by=alex)
    with commit():
        ticket_reply(ticket=ticket, body="Which floor?", by_user=alex, channel="staff")
    [mail] = smtp_server.wait_for(1)
    answer = (
        f"From: carol@acme.example\r\nTo: {mail['Reply-To']}\r\nSubject: Re: {mail['Subject']}\r\n"
        f"Message-ID: <a1@acme.example>\r\nIn-Reply-To: {mail['Message-ID']}\r\n"
        f"References: {mail['References']} {mail['Message-ID']}\r\n\r\nFloor 3.\r\n"
    ).encode()
    assert parse_message(answer).in_reply_to
    result = mail_receive(raw=answer, source="webhook")
    assert (result.outcome, result.ticket) == ("replied", ticket)
    assert Message.objects.filter(ticket=ticket, body="Floor 3.").exists()

"""Real-world mail through the desk's inbound path: a From without angle brackets, unnamed
attachments, header text in a charset other than the one declared (issue 11)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from serviceloop.catalogue.models import Service
from serviceloop.desk.models import Attachment, InboundMail, Ticket
from serviceloop.desk.services.mail_in import mail_receive
from serviceloop.desk.tests.factories import make_ticket
from serviceloop.relationships.models import Person

pytestmark = pytest.mark.django_db


def receive(raw: bytes) -> Any:
    return mail_receive(raw=raw, source="webhook")


def mail(sender: bytes, *, subject: bytes = b"Printer on floor 3", extra: bytes = b"", body: bytes = b"") -> bytes:
    head = b"From: " + sender + b"\r\nTo: desk@serviceloop.localhost\r\nSubject: " + subject + b"\r\n"
    head += b"Message-ID: <rw-" + base64.b32encode(sender + subject).rstrip(b"=")[:20] + b"@acme.example>\r\n"
    return head + extra + b"\r\n" + (body or b"It shows error E42.\r\n")


def test_a_known_contact_writing_without_angle_brackets_is_the_requester(carol_person: Person) -> None:
    result = receive(mail(b"Carol Customer carol@acme.example"))
    assert result.outcome == "created"
    assert result.ticket.requester == carol_person
    assert Person.objects.filter(email__iexact="carol@acme.example").count() == 1
    assert InboundMail.objects.get().from_email == "carol@acme.example"


@pytest.mark.parametrize(
    "sender",
    [b"Ben Yilmaz ben@acme.example", b'"Ben Yilmaz" ben@acme.example', b"ben@acme.example (Ben Yilmaz)"],
)
def test_an_unknown_sender_without_angle_brackets_becomes_the_right_person(
    sender: bytes, org_a: Any, relationship_a: Any, settings: Any
) -> None:
    settings.SERVICELOOP_MAIL_UNKNOWN_SENDERS = "create"
    result = receive(mail(sender))
    assert result.outcome == "created"
    ben = Person.objects.get(email="ben@acme.example")
    assert (ben.name, ben.organisation, result.ticket.requester) == ("Ben Yilmaz", org_a, ben)


def test_a_reply_without_angle_brackets_threads_to_the_senders_ticket(carol_person: Person) -> None:
    ticket = make_ticket(carol_person, Service.objects.get())
    result = receive(mail(b"carol@acme.example (Carol Customer)", subject=f"Re: [{ticket.reference}] Printer".encode()))
    assert (result.outcome, result.ticket) == ("replied", ticket)


def test_unnamed_attachments_reach_the_ticket_with_names_from_their_type(carol_person: Person) -> None:
    parts = [
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nThe invoice and a photo of the error.",
        b"Content-Type: application/pdf\r\nContent-Disposition: attachment\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(b"%PDF-1.4 invoice"),
        b"Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(b"\x89PNG photo"),
        b"Content-Type: text/plain\r\nContent-Disposition: inline\r\n\r\nSent from the third floor.",
    ]
    body = b"".join(b"--B\r\n" + part + b"\r\n" for part in parts) + b"--B--\r\n"
    extra = b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n"
    result = receive(mail(b"Carol Customer <carol@acme.example>", extra=extra, body=body))
    assert result.outcome == "created"
    stored = {a.filename: (a.content_type, a.file.read()) for a in Attachment.objects.filter(ticket=result.ticket)}
    assert stored == {
        "attachment-1.pdf": ("application/pdf", b"%PDF-1.4 invoice"),
        "image-2.png": ("image/png", b"\x89PNG photo"),
    }
    assert result.message.body == "The invoice and a photo of the error.\n\nSent from the third floor."


def test_a_shift_jis_subject_in_a_latin1_mail_opens_a_ticket_with_the_japanese_subject(carol_person: Person) -> None:
    subject = "【至急】プリンターが動きません"
    extra = b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n"
    result = receive(mail(b"Carol Customer <carol@acme.example>", subject=subject.encode("shift_jis"), extra=extra))
    assert result.outcome == "created"
    assert Ticket.objects.get().subject == subject
    assert InboundMail.objects.get().subject == subject


def test_bytes_no_charset_explains_are_stored_as_replacement_characters(carol_person: Person) -> None:
    # On PostgreSQL a surrogate left in the text would make the insert fail; every field is UTF-8.
    raw = mail(b"Carol Customer <carol@acme.example>", subject=b"E42 \xff\xfe\xfd", body=b"Paper \x80\xff jam\r\n")
    raw = raw.replace(b"Message-ID: <rw-", b"Message-ID: <\xff\xfe-")
    result = receive(raw)
    assert result.outcome == "created"
    ticket = Ticket.objects.get()
    message = ticket.messages.get()
    for text in (ticket.subject, message.body, message.email_message_id or ""):
        text.encode("utf-8")
    assert ticket.subject.startswith("E42 ") and message.email_message_id.startswith("\ufffd")

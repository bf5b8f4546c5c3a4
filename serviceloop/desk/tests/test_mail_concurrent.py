"""The same mail delivered twice at once (a provider's retry, two pollers): one ticket or reply, a
202 for both deliveries, and an InboundMail row for each, the second saying it was a duplicate."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from serviceloop.accounts.testing import api_client_for, at_once
from serviceloop.desk.models import InboundMail, Message, Ticket
from serviceloop.desk.services.mail_in import mail_receive
from serviceloop.desk.tests.mail_factories import raw_mail
from serviceloop.relationships.models import Person

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/api/desk/mail/inbound"


def _post(client: Client, data: bytes) -> Any:
    return client.generic("POST", URL, data=data, content_type="message/rfc822")


def test_the_same_new_mail_posted_twice_at_once_opens_one_ticket(alex: Any, carol_person: Person) -> None:
    lost = duplicated = 0
    for round_ in range(5):
        raw = raw_mail(subject=f"Scanner offline {round_}", message_id=f"<race-{round_}@acme.example>")
        one, two = api_client_for(alex), api_client_for(alex)
        answers = at_once(lambda: _post(one, raw), lambda: _post(two, raw))  # noqa: B023
        assert sorted(str(getattr(a, "status_code", a)) for a in answers) == ["202", "202"], answers
        # Eager tasks: the worker ran at each request's commit, so each answer shows its outcome.
        second = next(a.json() for a in answers if a.json()["outcome"] != "created")
        assert second["outcome"] == "ignored" and second["reason"].startswith("duplicate"), second
        tickets = Ticket.objects.filter(subject=f"Scanner offline {round_}").count()
        lost += tickets == 0
        duplicated += max(0, tickets - 1)
        logs = InboundMail.objects.filter(email_message_id=f"race-{round_}@acme.example")
        assert sorted(logs.values_list("outcome", flat=True)) == ["created", "ignored"]
        assert second["ticket"] == logs.get(outcome="created").ticket.reference
    assert (lost, duplicated) == (0, 0)


def test_the_same_reply_received_twice_at_once_is_added_once(carol_person: Person) -> None:
    mail_receive(raw=raw_mail(subject="Printer jammed", message_id="<first@acme.example>"), source="imap")
    ticket = Ticket.objects.get()
    reply = raw_mail(
        subject=f"Re: [{ticket.reference}] Printer jammed",
        body="Still jammed.",
        message_id="<reply@acme.example>",
        in_reply_to="<first@acme.example>",
    )
    results = at_once(lambda: mail_receive(raw=reply, source="imap"), lambda: mail_receive(raw=reply, source="imap"))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.outcome for r in results) == ["ignored", "replied"], [(r.outcome, r.reason) for r in results]
    assert Message.objects.filter(email_message_id="reply@acme.example").count() == 1
    assert InboundMail.objects.filter(email_message_id="reply@acme.example").count() == 2

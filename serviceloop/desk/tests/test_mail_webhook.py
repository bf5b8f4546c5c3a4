"""POST /api/desk/mail/inbound: raw MIME in, {outcome, ticket, reason} out."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from serviceloop.accounts.testing import api_client_for
from serviceloop.desk.api_mail import MAX_MAIL_BYTES
from serviceloop.desk.models import InboundMail, Ticket
from serviceloop.desk.tests.mail_factories import raw_mail
from serviceloop.relationships.models import Person

pytestmark = pytest.mark.django_db
URL = "/api/desk/mail/inbound"


def post(client: Client, data: bytes, **extra: Any) -> Any:
    return client.generic("POST", URL, data=data, content_type="message/rfc822", **extra)


def test_a_staff_token_posts_a_mail_that_opens_a_ticket(alex: Any, carol_person: Person) -> None:
    response = post(api_client_for(alex), raw_mail(subject="Scanner offline"))
    assert response.status_code == 201
    ticket = Ticket.objects.get()
    assert response.json() == {
        "outcome": "created",
        "reason": "new ticket",
        "ticket": ticket.reference,
        "message": ticket.messages.get().public_id,
    }


def test_the_shared_secret_header_is_enough(carol_person: Person, settings: Any) -> None:
    settings.SERVICELOOP_MAIL_WEBHOOK_SECRET = "s3cret-value"
    response = post(Client(), raw_mail(), HTTP_X_SERVICELOOP_MAIL_SECRET="s3cret-value")
    assert response.status_code == 201
    assert InboundMail.objects.get().source == "webhook"


def test_a_wrong_secret_or_no_secret_configured_is_refused(carol_person: Person, settings: Any) -> None:
    settings.SERVICELOOP_MAIL_WEBHOOK_SECRET = ""
    assert post(Client(), raw_mail(), HTTP_X_SERVICELOOP_MAIL_SECRET="").status_code == 401
    settings.SERVICELOOP_MAIL_WEBHOOK_SECRET = "s3cret-value"
    assert post(Client(), raw_mail(), HTTP_X_SERVICELOOP_MAIL_SECRET="guess").status_code == 401
    assert not Ticket.objects.exists()


def test_a_customer_token_may_not_post_mail(carol: Any, carol_person: Person) -> None:
    response = post(api_client_for(carol), raw_mail())
    assert response.status_code == 403
    assert not InboundMail.objects.exists()


def test_a_reply_answers_200_with_the_ticket(alex: Any, carol_person: Person) -> None:
    client = api_client_for(alex)
    reference = post(client, raw_mail()).json()["ticket"]
    response = post(client, raw_mail(subject=f"Re: [{reference}] Printer"))
    assert response.status_code == 200
    assert (response.json()["outcome"], response.json()["ticket"]) == ("replied", reference)


def test_an_auto_reply_answers_200_ignored_with_the_reason(alex: Any, carol_person: Person) -> None:
    response = post(api_client_for(alex), raw_mail(headers={"Auto-Submitted": "auto-replied"}))
    assert response.status_code == 200
    body = response.json()
    assert (body["outcome"], body["ticket"]) == ("ignored", None)
    assert "auto-replied" in body["reason"].lower()


def test_input_that_is_not_a_mail_is_422_with_the_parsers_message(alex: Any) -> None:
    response = post(api_client_for(alex), b"\x00\x01\x02 this is not a mail")
    assert response.status_code == 422
    assert response.json()["code"] == "not_a_mail"
    assert response.json()["message"].startswith("This is not a mail:")
    assert post(api_client_for(alex), b"").status_code == 422


def test_a_mail_over_25_mb_is_413(alex: Any) -> None:
    response = post(api_client_for(alex), b"Subject: big\r\n\r\n" + b"x" * MAX_MAIL_BYTES)
    assert response.status_code == 413
    assert response.json()["code"] == "mail_too_large"

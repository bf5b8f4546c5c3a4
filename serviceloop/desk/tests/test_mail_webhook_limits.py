"""The inbound mail webhook is limited per address, before the secret is checked (guesses count too)."""

from __future__ import annotations

from typing import Any

from django.test import Client, override_settings

from serviceloop.desk.models import InboundMail
from serviceloop.desk.tests.mail_factories import raw_mail
from serviceloop.relationships.models import Person

URL = "/api/desk/mail/inbound"


def _post(secret: str, address: str = "203.0.113.9", **fields: Any) -> Any:
    return Client(REMOTE_ADDR=address).generic(
        "POST", URL, data=raw_mail(**fields), content_type="message/rfc822", HTTP_X_SERVICELOOP_MAIL_SECRET=secret
    )


@override_settings(SERVICELOOP_RATE_MAIL_WEBHOOK_IP="20/1m", SERVICELOOP_MAIL_WEBHOOK_SECRET="s3cret-value")
def test_mail_past_the_limit_of_one_address_is_refused_and_not_stored(carol_person: Person, travel: Any) -> None:
    assert [_post("guess").status_code for _ in range(10)] == [401] * 10
    assert [_post("s3cret-value", subject=f"Scanner {n}").status_code for n in range(10)] == [201] * 10
    stored = InboundMail.objects.count()
    refused = _post("s3cret-value", subject="One too many")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["code"] == "rate_limited"
    assert InboundMail.objects.count() == stored
    assert _post("s3cret-value", address="198.51.100.1", subject="Other relay").status_code == 201
    travel.by(minutes=1)
    assert _post("s3cret-value", subject="After the wait").status_code == 201

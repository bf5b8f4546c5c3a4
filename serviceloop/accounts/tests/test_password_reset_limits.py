"""Password reset limits: per email the page answers as always but mails no more; per address 429."""

from __future__ import annotations

from typing import Any

from django.test import Client, override_settings
from django.urls import reverse

from serviceloop.accounts.models import User
from serviceloop.accounts.testing import make_user
from serviceloop.core.models import OutgoingMail

RESET = reverse("accounts:password_reset")
REALISTIC = {"SERVICELOOP_RATE_PASSWORD_RESET_EMAIL": "3/1h", "SERVICELOOP_RATE_PASSWORD_RESET_IP": "20/1h"}


@override_settings(**REALISTIC)
def test_twenty_requests_for_one_address_send_three_mails_and_look_the_same(
    smtp_server: Any, db: Any, django_capture_on_commit_callbacks: Any, travel: Any
) -> None:
    make_user("dana@provider.example", User.Role.AGENT)
    with django_capture_on_commit_callbacks(execute=True):
        answers = [Client().post(RESET, {"email": "dana@provider.example"}) for _ in range(20)]
    assert {(answer.status_code, answer["Location"]) for answer in answers} == {
        (302, reverse("accounts:password_reset_done"))
    }
    assert OutgoingMail.objects.count() == 3
    assert len(smtp_server.wait_for(3)) == 3

    travel.by(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(RESET, {"email": "dana@provider.example"})
    assert OutgoingMail.objects.count() == 4


@override_settings(**REALISTIC)
def test_one_address_asking_for_many_emails_gets_429_with_retry_after(db: Any) -> None:
    for n in range(20):
        make_user(f"user{n}@provider.example", User.Role.AGENT)
    client = Client(REMOTE_ADDR="203.0.113.9")
    answers = [client.post(RESET, {"email": f"user{n}@provider.example"}).status_code for n in range(20)]
    assert answers == [302] * 20
    mails = OutgoingMail.objects.count()
    refused = client.post(RESET, {"email": "user0@provider.example"})
    assert refused.status_code == 429
    assert refused["Retry-After"] == "3600"
    assert "Please wait" in refused.content.decode()
    assert OutgoingMail.objects.count() == mails
    # The form itself still opens: only sending is limited.
    assert client.get(RESET).status_code == 200
    assert Client(REMOTE_ADDR="198.51.100.1").post(RESET, {"email": "user1@provider.example"}).status_code == 302

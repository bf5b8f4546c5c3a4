"""Email sign-up on the public page: double opt-in, no enumeration, rate limits, one-click leave.

Through the real parts: the form is posted, the outbox sends to a real SMTP server on loopback, and
the links of the mail as received are followed.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from serviceloop.core.models import Event, OutgoingMail
from serviceloop.incidents import events
from serviceloop.incidents.models import Subscription
from serviceloop.incidents.tests.factories_subs import make_component

pytestmark = pytest.mark.django_db

SUBSCRIBE = "/status/subscribe/"


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Any:
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def mail_component() -> Any:
    return make_component("Email")


@pytest.fixture
def vpn_component() -> Any:
    return make_component("VPN")


def _sign_up(client: Client, email: str, commit: Any, **data: Any) -> Any:
    with commit():
        return client.post(SUBSCRIBE, {"email": email, "scope": "all", **data})


def _text(message: Any) -> str:
    return str(message.get_body(("plain",)).get_content())


def _link(text: str, name: str) -> str:
    match = re.search(rf"http://testserver(/status/subscribe/{name}/\S+/)", text)
    assert match, text
    return match.group(1)


def test_the_form_lists_public_services_only(mail_component: Any) -> None:
    make_component("Internal billing", is_public=False)
    page = Client().get(SUBSCRIBE)
    assert page.status_code == 200
    assert "Email" in page.content.decode()
    assert "Internal billing" not in page.content.decode()


def test_sign_up_mails_a_confirmation_and_counts_only_after_the_click(
    mail_component: Any, vpn_component: Any, smtp_server: Any, commit: Any
) -> None:
    client = Client()
    answer = _sign_up(client, "Pat@Example.org", commit, scope="some", services=[vpn_component.service.pk])
    assert answer.status_code == 302 and answer["Location"] == reverse("status_subscribe:sent")
    subscription = Subscription.objects.get()
    assert subscription.email == "pat@example.org" and subscription.confirmed_at is None
    assert not subscription.is_active
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "pat@example.org"
    confirm = _link(_text(mail), "confirm")
    # A GET (a mail scanner following the link) confirms nothing; the button does.
    assert client.get(confirm).status_code == 200
    subscription.refresh_from_db()
    assert subscription.confirmed_at is None
    with commit():
        done = client.post(confirm)
    assert done.status_code == 200 and "You are subscribed" in done.content.decode()
    subscription.refresh_from_db()
    assert subscription.is_active
    assert list(subscription.services.all()) == [vpn_component.service]
    assert Event.objects.filter(name=events.SUBSCRIPTION_CONFIRMED, subject_id=subscription.pk).count() == 1


def test_the_page_answers_alike_for_a_new_and_a_subscribed_address(
    mail_component: Any, smtp_server: Any, commit: Any
) -> None:
    client = Client()
    first = _sign_up(client, "pat@example.org", commit)
    Subscription.objects.update(confirmed_at="2026-11-01T00:00:00Z")
    again = _sign_up(client, "pat@example.org", commit)
    fresh = _sign_up(client, "new@example.org", commit)
    assert first.status_code == again.status_code == fresh.status_code == 302
    assert first["Location"] == again["Location"] == fresh["Location"]
    sent = Client().get(reverse("status_subscribe:sent"))
    assert "If the address can receive mail" in sent.content.decode()
    assert Subscription.objects.filter(email="pat@example.org").count() == 1
    messages = smtp_server.wait_for(3)
    reminder = [m for m in messages if m["To"] == "pat@example.org"][1]
    assert "already follows" in _text(reminder)
    assert "/status/subscribe/confirm/" not in _text(reminder)


def test_a_forged_or_expired_confirmation_link_is_refused(
    travel: Any, mail_component: Any, smtp_server: Any, commit: Any
) -> None:
    client = Client()
    _sign_up(client, "pat@example.org", commit)
    confirm = _link(_text(smtp_server.wait_for(1)[0]), "confirm")
    assert client.get(confirm[:-3] + "xx/").status_code == 404
    travel.by(days=8)
    assert client.post(confirm).status_code == 404
    assert Subscription.objects.get().confirmed_at is None


@override_settings(SERVICELOOP_RATE_STATUS_SUBSCRIBE_EMAIL="2/1h")
def test_sign_ups_past_the_limit_of_one_email_mail_nothing_and_answer_the_same(
    mail_component: Any, smtp_server: Any, commit: Any
) -> None:
    answers = [_sign_up(Client(REMOTE_ADDR=f"198.51.100.{n}"), "pat@example.org", commit) for n in range(4)]
    assert {a.status_code for a in answers} == {302}
    assert OutgoingMail.objects.filter(to=["pat@example.org"]).count() == 2


@override_settings(SERVICELOOP_RATE_STATUS_SUBSCRIBE_IP="3/1h")
def test_sign_ups_past_the_limit_of_one_client_address_are_refused(
    mail_component: Any, travel: Any, commit: Any
) -> None:
    client = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(3):
        assert _sign_up(client, f"person{n}@example.org", commit).status_code == 302
    refused = _sign_up(client, "one-more@example.org", commit)
    assert refused.status_code == 429 and int(refused["Retry-After"]) <= 3600
    assert not Subscription.objects.filter(email="one-more@example.org").exists()
    assert Client().get(SUBSCRIBE).status_code == 200  # the form itself is not counted
    travel.by(hours=1, seconds=1)
    assert _sign_up(client, "one-more@example.org", commit).status_code == 302


def test_a_bad_address_or_a_hidden_service_is_shown_next_to_the_field(mail_component: Any) -> None:
    hidden = make_component("Internal billing", is_public=False)
    page = Client().post(SUBSCRIBE, {"email": "not-an-address", "scope": "all"})
    assert page.status_code == 200 and "Enter a valid email address" in page.content.decode()
    page = Client().post(SUBSCRIBE, {"email": "pat@example.org", "scope": "some", "services": [hidden.service.pk]})
    assert page.status_code == 200 and "Select a valid choice" in page.content.decode()
    page = Client().post(SUBSCRIBE, {"email": "pat@example.org", "scope": "some"})
    assert "Tick at least one service" in page.content.decode()
    assert not Subscription.objects.exists()


def test_every_mail_unsubscribes_in_one_click_without_a_csrf_token(
    mail_component: Any, smtp_server: Any, commit: Any
) -> None:
    _sign_up(Client(), "pat@example.org", commit)
    [mail] = smtp_server.wait_for(1)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = str(mail["List-Unsubscribe"]).strip().strip("<>").removeprefix("http://testserver")
    client = Client(enforce_csrf_checks=True)
    assert client.get(url).status_code == 200
    assert Subscription.objects.get().unsubscribed_at is None
    with commit():
        answer = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200 and "You are unsubscribed" in answer.content.decode()
    assert Subscription.objects.get().unsubscribed_at is not None
    assert client.post(url).status_code == 200  # twice changes nothing
    assert Event.objects.filter(name=events.SUBSCRIPTION_ENDED).count() == 1


def test_the_manage_link_changes_the_services_followed(
    mail_component: Any, vpn_component: Any, smtp_server: Any, commit: Any
) -> None:
    client = Client()
    _sign_up(client, "pat@example.org", commit)
    with commit():
        client.post(_link(_text(smtp_server.wait_for(1)[0]), "confirm"))
    subscription = Subscription.objects.get()
    manage = reverse("status_subscribe:manage", kwargs={"token": subscription.token})
    assert client.get(manage).status_code == 200
    saved = client.post(manage, {"scope": "some", "services": [mail_component.service.pk]})
    assert saved.status_code == 200 and "Saved" in saved.content.decode()
    assert list(subscription.services.all()) == [mail_component.service]
    client.post(manage, {"scope": "all"})
    assert not subscription.services.exists()
    assert client.get(reverse("status_subscribe:manage", kwargs={"token": "nope"})).status_code == 404


def test_an_unconfirmed_subscription_has_no_manage_page(mail_component: Any, commit: Any) -> None:
    _sign_up(Client(), "pat@example.org", commit)
    token = Subscription.objects.get().token
    assert Client().get(reverse("status_subscribe:manage", kwargs={"token": token})).status_code == 404


def test_the_webhook_guide_is_public() -> None:
    page = Client().get(reverse("status_subscribe:webhooks"))
    assert page.status_code == 200 and "X-Serviceloop-Signature" in page.content.decode()

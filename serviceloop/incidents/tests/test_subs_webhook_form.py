"""A webhook asked for on the public form: its owner confirms it by mail and sees the secret once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client, override_settings

from serviceloop.incidents.models import Subscription
from serviceloop.incidents.tests.factories_subs import Receiver, make_component, make_incident, post_update
from serviceloop.incidents.webhooks import verify_signature

pytestmark = pytest.mark.django_db

FORM = "/status/subscribe/webhook/"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Any:
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_the_owner_confirms_and_the_webhook_then_receives_signed_posts(
    settings: Any, receiver: Receiver, smtp_server: Any, commit: Any
) -> None:
    settings.SERVICELOOP_WEBHOOK_ALLOW_PRIVATE = True
    component = make_component("Email")
    client = Client()
    with commit():
        answer = client.post(FORM, {"url": receiver.url, "owner_email": "ops@customer.example", "scope": "all"})
    assert answer.status_code == 302
    hook = Subscription.objects.get(kind=Subscription.Kind.WEBHOOK)
    assert hook.confirmed_at is None and hook.owner_email == "ops@customer.example"
    with commit():
        post_update(make_incident(component.service))
    assert receiver.received == []  # not confirmed: nothing is POSTed
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "ops@customer.example"
    text = str(mail.get_body(("plain",)).get_content())
    match = re.search(r"http://testserver(/status/subscribe/confirm/\S+/)", text)
    assert match, text
    assert hook.secret not in client.get(match.group(1)).content.decode()
    with commit():
        confirmed = client.post(match.group(1))
    assert hook.secret in confirmed.content.decode()
    assert hook.secret not in client.post(match.group(1)).content.decode()  # shown once
    with commit():
        post_update(make_incident(component.service))
    [received] = receiver.received
    assert verify_signature(
        hook.secret,
        received.headers["X-Serviceloop-Timestamp"],
        received.body,
        received.headers["X-Serviceloop-Signature"],
    )


def test_a_private_address_is_refused_on_the_form(settings: Any) -> None:
    settings.SERVICELOOP_WEBHOOK_ALLOW_PRIVATE = False
    page = Client().post(FORM, {"url": "http://192.168.1.20/hook", "owner_email": "ops@example.org", "scope": "all"})
    assert page.status_code == 200 and "public addresses only" in page.content.decode()
    assert not Subscription.objects.exists()


@override_settings(SERVICELOOP_RATE_STATUS_SUBSCRIBE_IP="2/1h")
def test_the_form_is_limited_per_client_address(settings: Any) -> None:
    settings.SERVICELOOP_WEBHOOK_ALLOW_PRIVATE = True
    client = Client(REMOTE_ADDR="203.0.113.5")
    data = {"url": "http://127.0.0.1:9/hook", "owner_email": "ops@example.org", "scope": "all"}
    assert [client.post(FORM, data).status_code for _ in range(3)] == [302, 302, 429]
    assert Subscription.objects.count() == 2

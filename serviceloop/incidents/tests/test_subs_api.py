"""The staff API of status subscriptions: list, webhooks, the delivery log, retry, enable, delete."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from serviceloop.accounts.testing import api_client_for
from serviceloop.core import clock
from serviceloop.incidents.models import Subscription, WebhookDelivery
from serviceloop.incidents.tests.factories_subs import (
    Receiver,
    make_component,
    make_email_subscription,
    make_incident,
    make_webhook,
    post_update,
)

pytestmark = pytest.mark.django_db

BASE = "/api/incidents/subscriptions"


@pytest.fixture(autouse=True)
def _loopback_receivers(settings: Any) -> None:
    settings.SERVICELOOP_WEBHOOK_ALLOW_PRIVATE = True


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Any:
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def mail_component() -> Any:
    return make_component("Email")


def test_staff_list_subscriptions_with_their_addresses(alex: Any, mail_component: Any) -> None:
    make_email_subscription("pat@example.org", mail_component.service)
    make_email_subscription("new@example.org", confirmed=False)
    answer = api_client_for(alex).get(BASE)
    assert answer.status_code == 200
    rows = {row["email"]: row for row in answer.json()["items"]}
    assert rows["pat@example.org"]["state"] == "active"
    assert rows["pat@example.org"]["services"] == [{"public_id": mail_component.service.public_id, "name": "Email"}]
    assert rows["new@example.org"]["state"] == "unconfirmed"
    only = api_client_for(alex).get(f"{BASE}?state=unconfirmed").json()["items"]
    assert [row["email"] for row in only] == ["new@example.org"]
    assert "secret" not in answer.json()["items"][0]


@pytest.mark.parametrize("who", ["carol", "bob"])
def test_customers_are_refused_every_route(who: str, request: Any, mail_component: Any) -> None:
    customer = request.getfixturevalue(who)
    hook = make_webhook("http://127.0.0.1:9/hook")
    client = api_client_for(customer)
    assert client.get(BASE).status_code == 403
    assert client.get(f"{BASE}/{hook.public_id}").status_code == 403
    assert client.get(f"{BASE}/{hook.public_id}/deliveries").status_code == 403
    assert client.post(f"{BASE}/{hook.public_id}/enable").status_code == 403
    assert client.delete(f"{BASE}/{hook.public_id}").status_code == 403
    body = {"url": "http://127.0.0.1:9/x", "owner_email": "ops@example.org"}
    assert client.post(f"{BASE}/webhooks", body, content_type="application/json").status_code == 403
    assert Subscription.objects.count() == 1


def test_staff_add_a_webhook_which_is_confirmed_at_once_and_shows_its_secret_once(
    sam: Any, mail_component: Any, receiver: Receiver, commit: Any
) -> None:
    client = api_client_for(sam)
    body = {"url": receiver.url, "owner_email": "Ops@Customer.example", "services": [mail_component.service.public_id]}
    answer = client.post(f"{BASE}/webhooks", body, content_type="application/json")
    assert answer.status_code == 201, answer.content
    created = answer.json()
    hook = Subscription.objects.get(public_id=created["public_id"])
    assert created["secret"] == hook.secret and created["state"] == "active"
    assert hook.owner_email == "ops@customer.example" and hook.is_active
    assert "secret" not in client.get(f"{BASE}/{hook.public_id}").json()
    with commit():
        post_update(make_incident(mail_component.service))
    assert len(receiver.received) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.org/x", "owner_email": "ops@example.org"}, "url"),
        ({"url": "http://127.0.0.1:9/x", "owner_email": "nobody"}, None),
        ({"url": "http://127.0.0.1:9/x", "owner_email": "ops@example.org", "services": ["nope"]}, "services"),
        ({"owner_email": "ops@example.org"}, "url"),
    ],
)
def test_a_bad_webhook_is_refused_with_a_message(alex: Any, body: dict[str, Any], field: str | None) -> None:
    answer = api_client_for(alex).post(f"{BASE}/webhooks", body, content_type="application/json")
    assert answer.status_code == 422
    assert answer.json()["message"]
    if field:
        assert field in answer.content.decode()
    assert not Subscription.objects.exists()


def test_a_private_receiver_is_refused_unless_allowed(alex: Any, settings: Any) -> None:
    settings.SERVICELOOP_WEBHOOK_ALLOW_PRIVATE = False
    body = {"url": "http://10.0.0.5/hook", "owner_email": "ops@example.org"}
    answer = api_client_for(alex).post(f"{BASE}/webhooks", body, content_type="application/json")
    assert answer.status_code == 422 and answer.json()["code"] == "webhook_private"


def test_the_delivery_log_retry_and_enable(
    alex: Any, mail_component: Any, receiver: Receiver, settings: Any, commit: Any
) -> None:
    settings.SERVICELOOP_WEBHOOK_MAX_ATTEMPTS = 1
    settings.SERVICELOOP_WEBHOOK_DISABLE_AFTER = 1
    hook = make_webhook(receiver.url)
    receiver.down()
    with commit():
        post_update(make_incident(mail_component.service))
    client = api_client_for(alex)
    [row] = client.get(f"{BASE}/{hook.public_id}/deliveries").json()["items"]
    assert row["status"] == "failed" and row["last_status_code"] == 503
    assert [(a["number"], a["status_code"], a["succeeded"]) for a in row["attempt_log"]] == [(1, 503, False)]
    assert row["payload"]["incident"]["name"] == "Mail is slow"
    assert client.get(f"{BASE}/{hook.public_id}").json()["state"] == "disabled"
    # Enabling sends what waited (nothing here: the one delivery failed for good); the retry sends it.
    receiver.up()
    with commit():
        enabled = client.post(f"{BASE}/{hook.public_id}/enable")
    assert enabled.status_code == 200 and enabled.json()["state"] == "active"
    assert client.post(f"{BASE}/{hook.public_id}/enable").status_code == 409
    with commit():
        retried = client.post(f"{BASE}/deliveries/{row['public_id']}/retry")
    assert retried.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.attempt_log.count() == 2
    again = client.post(f"{BASE}/deliveries/{row['public_id']}/retry")
    assert again.status_code == 409 and "Only a failed delivery" in again.json()["message"]
    assert (
        client.get(f"{BASE}/{hook.public_id}/deliveries?status=delivered").json()["items"][0]["status"] == "delivered"
    )


def test_enabling_sends_the_deliveries_that_waited(
    alex: Any, mail_component: Any, receiver: Receiver, commit: Any
) -> None:
    hook = make_webhook(receiver.url)
    incident = make_incident(mail_component.service)
    receiver.down()
    with commit():
        post_update(incident)
    Subscription.objects.filter(pk=hook.pk).update(disabled_at=clock.now())
    receiver.up()
    with commit():
        api_client_for(alex).post(f"{BASE}/{hook.public_id}/enable")
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.DELIVERED


def test_staff_delete_a_subscription_and_its_log(
    alex: Any, mail_component: Any, receiver: Receiver, commit: Any
) -> None:
    hook = make_webhook(receiver.url)
    with commit():
        post_update(make_incident(mail_component.service))
    client = api_client_for(alex)
    assert client.delete(f"{BASE}/{hook.public_id}").status_code == 204
    assert not Subscription.objects.exists() and not WebhookDelivery.objects.exists()
    assert client.delete(f"{BASE}/{hook.public_id}").status_code == 404


def test_an_email_subscription_cannot_be_enabled(alex: Any) -> None:
    subscription = make_email_subscription("pat@example.org")
    answer = api_client_for(alex).post(f"{BASE}/{subscription.public_id}/enable")
    assert answer.status_code == 409 and answer.json()["code"] == "not_webhook"


def test_unknown_ids_answer_404(alex: Any) -> None:
    client = api_client_for(alex)
    assert client.get(f"{BASE}/nope").status_code == 404
    assert client.post(f"{BASE}/deliveries/nope/retry").status_code == 404

"""Status webhooks through a real HTTP receiver on loopback: signed POSTs in Statuspage's shape,
retries with back-off on the moved clock, the attempt log, disabling and the owner's mail."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from serviceloop.core import clock
from serviceloop.core.models import Event
from serviceloop.core.tasks import sweep_once
from serviceloop.incidents import events
from serviceloop.incidents.models import Subscription, WebhookAttempt, WebhookDelivery
from serviceloop.incidents.tasks import webhook_sweep
from serviceloop.incidents.tests.factories_subs import (
    Receiver,
    make_component,
    make_incident,
    make_maintenance,
    make_webhook,
    post_update,
    record_maintenance,
)
from serviceloop.incidents.webhooks import verify_signature

pytestmark = pytest.mark.django_db


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


def _post(incident: Any, commit: Any, **fields: Any) -> Any:
    with commit():
        update, _ = post_update(incident, **fields)
    return update


def _sweep(commit: Any) -> None:
    with commit():
        webhook_sweep()


def test_an_update_is_posted_signed_in_statuspage_shape(mail_component: Any, receiver: Receiver, commit: Any) -> None:
    hook = make_webhook(receiver.url)
    incident = make_incident(mail_component.service)
    update = _post(incident, commit, body="Mail is delayed.")
    [received] = receiver.received
    headers = received.headers
    assert headers["Content-Type"] == "application/json"
    assert verify_signature(
        hook.secret, headers["X-Serviceloop-Timestamp"], received.body, headers["X-Serviceloop-Signature"]
    )
    assert headers["X-Serviceloop-Signature"].startswith("v1=")
    assert headers["X-Serviceloop-Event"] == events.INCIDENT_UPDATE_POSTED
    body = received.json()
    assert body["meta"]["unsubscribe"] == f"http://testserver/status/subscribe/unsubscribe/{hook.token}/"
    assert body["meta"]["documentation"] == "http://testserver/status/subscribe/webhooks/"
    payload = body["incident"]
    assert payload["id"] == incident.public_id and payload["name"] == "Mail is slow"
    assert payload["status"] == "investigating" and payload["impact"] == "major"
    assert "scheduled_for" not in payload
    assert payload["shortlink"] == f"http://testserver/status/incidents/{incident.public_id}/"
    [posted] = payload["incident_updates"]
    assert posted["id"] == update.public_id and posted["body"] == "Mail is delayed."
    assert [c["name"] for c in payload["components"]] == ["Email"]
    assert payload["components"][0]["status"] == "major_outage"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.DELIVERED and delivery.attempts == 1
    assert delivery.last_status_code == 204 and delivery.last_duration_ms is not None


def test_a_changed_component_is_posted_as_a_component_update(
    mail_component: Any, receiver: Receiver, commit: Any
) -> None:
    make_webhook(receiver.url)
    incident = make_incident(mail_component.service)
    change = {"code": mail_component.service.public_id, "name": "Email", "old_status": "operational"}
    _post(incident, commit, affected_components=[{**change, "new_status": "partial_outage"}])
    bodies = [r.json() for r in receiver.received]
    assert len(bodies) == 2
    [component] = [b for b in bodies if "component_update" in b]
    assert component["component_update"]["old_status"] == "operational"
    assert component["component_update"]["new_status"] == "partial_outage"
    assert component["component_update"]["component_id"] == mail_component.public_id
    assert component["component"]["name"] == "Email" and component["component"]["status"] == "partial_outage"
    assert "meta" in component


def test_a_maintenance_body_has_its_window(mail_component: Any, receiver: Receiver, commit: Any) -> None:
    make_webhook(receiver.url)
    maintenance = make_maintenance(mail_component.service)
    with commit():
        record_maintenance(maintenance, events.MAINTENANCE_SCHEDULED)
    [received] = receiver.received
    payload = received.json()["incident"]
    assert payload["impact"] == "maintenance" and payload["status"] == "scheduled"
    assert payload["scheduled_for"].startswith(f"{maintenance.scheduled_for:%Y-%m-%dT%H:%M}")
    assert payload["scheduled_until"]
    assert received.headers["X-Serviceloop-Event"] == events.MAINTENANCE_SCHEDULED


def test_a_webhook_following_other_services_hears_nothing(receiver: Receiver, commit: Any) -> None:
    mail, vpn = make_component("Email"), make_component("VPN")
    make_webhook(receiver.url, vpn.service)
    _post(make_incident(mail.service), commit)
    assert receiver.received == []
    assert not WebhookDelivery.objects.exists()


def test_failures_are_retried_with_back_off_and_every_attempt_is_logged(
    mail_component: Any, receiver: Receiver, travel: Any, commit: Any
) -> None:
    travel.to(clock.now())
    hook = make_webhook(receiver.url)
    receiver.fail(2)
    _post(make_incident(mail_component.service), commit)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.PENDING and delivery.attempts == 1
    assert delivery.next_attempt_at == clock.now() + timedelta(seconds=30)
    travel.by(seconds=29)
    _sweep(commit)
    assert len(receiver.received) == 1  # not due yet
    travel.by(seconds=1)
    _sweep(commit)
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.next_attempt_at == clock.now() + timedelta(seconds=60)
    travel.by(seconds=60)
    _sweep(commit)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED and delivery.attempts == 3
    log = list(WebhookAttempt.objects.filter(delivery=delivery).values_list("number", "status_code", "succeeded"))
    assert log == [(1, 503, False), (2, 503, False), (3, 204, True)]
    assert "HTTP 503" in WebhookAttempt.objects.get(delivery=delivery, number=1).error
    # Each attempt is signed anew with its own time; the receiver can check every one.
    stamps = [r.headers["X-Serviceloop-Timestamp"] for r in receiver.received]
    assert len(set(stamps)) == 3
    for received in receiver.received:
        assert verify_signature(
            hook.secret,
            received.headers["X-Serviceloop-Timestamp"],
            received.body,
            received.headers["X-Serviceloop-Signature"],
            now=clock.now(),
        )


def test_back_off_doubles_up_to_an_hour() -> None:
    from serviceloop.incidents.webhooks import backoff

    assert [backoff(n).total_seconds() for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_a_timeout_a_redirect_and_a_refused_connection_are_failures(
    mail_component: Any, receiver: Receiver, settings: Any, commit: Any
) -> None:
    settings.SERVICELOOP_WEBHOOK_TIMEOUT = 0.3
    receiver.delay = 1.0
    make_webhook(receiver.url)
    _post(make_incident(mail_component.service), commit)
    attempt = WebhookAttempt.objects.get()
    assert not attempt.succeeded and attempt.status_code is None and "timed out" in attempt.error.lower()
    receiver.delay = 0
    receiver.answer = 302
    WebhookDelivery.objects.update(next_attempt_at=clock.now())
    _sweep(commit)
    second = WebhookAttempt.objects.get(number=2)
    assert not second.succeeded and second.status_code == 302
    receiver.stop()
    WebhookDelivery.objects.update(next_attempt_at=clock.now())
    _sweep(commit)
    third = WebhookAttempt.objects.get(number=3)
    assert not third.succeeded and third.status_code is None and "refused" in third.error.lower()


def test_repeated_failed_deliveries_disable_the_webhook_and_mail_its_owner(
    mail_component: Any, receiver: Receiver, settings: Any, travel: Any, smtp_server: Any, commit: Any
) -> None:
    settings.SERVICELOOP_WEBHOOK_MAX_ATTEMPTS = 2
    settings.SERVICELOOP_WEBHOOK_DISABLE_AFTER = 2
    travel.to(clock.now())
    hook = make_webhook(receiver.url, owner_email="ops@customer.example")
    receiver.down()
    incident = make_incident(mail_component.service)
    _post(incident, commit)
    _post(incident, commit, body="Still looking.")
    travel.by(seconds=30)
    _sweep(commit)
    assert WebhookDelivery.objects.filter(status=WebhookDelivery.Status.FAILED).count() == 2
    hook.refresh_from_db()
    assert hook.disabled_at is not None and hook.consecutive_failures == 2 and not hook.is_active
    assert Event.objects.filter(name=events.WEBHOOK_DISABLED, subject_id=hook.pk).count() == 1
    [notice] = smtp_server.wait_for(1)
    assert notice["To"] == "ops@customer.example"
    assert receiver.url in str(notice["Subject"])
    assert "HTTP 503" in str(notice.get_body(("plain",)).get_content())
    # Disabled: later events are not sent to it.
    posts = len(receiver.received)
    _post(incident, commit, body="Fixed.")
    assert len(receiver.received) == posts
    assert WebhookDelivery.objects.count() == 2


def test_a_success_ends_the_run_of_failures(
    mail_component: Any, receiver: Receiver, settings: Any, commit: Any
) -> None:
    settings.SERVICELOOP_WEBHOOK_MAX_ATTEMPTS = 1
    hook = make_webhook(receiver.url)
    incident = make_incident(mail_component.service)
    receiver.fail(1)
    _post(incident, commit)
    hook.refresh_from_db()
    assert hook.consecutive_failures == 1
    _post(incident, commit)
    hook.refresh_from_db()
    assert hook.consecutive_failures == 0 and hook.disabled_at is None


def test_a_lost_kick_only_delays_the_delivery(mail_component: Any, receiver: Receiver, travel: Any) -> None:
    # No after-commit callbacks run (the broker was down for the event and the delivery alike).
    travel.to(clock.now())
    make_webhook(receiver.url)
    post_update(make_incident(mail_component.service))
    assert not WebhookDelivery.objects.exists()
    travel.by(seconds=31)
    sweep_once()  # core's sweep delivers the event to our subscriber, which writes the delivery
    assert WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).count() == 1
    assert receiver.received == []
    webhook_sweep()
    assert len(receiver.received) == 1
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.DELIVERED


def test_an_unsubscribed_webhook_gets_nothing_more(mail_component: Any, receiver: Receiver, commit: Any) -> None:
    hook = make_webhook(receiver.url)
    Subscription.objects.filter(pk=hook.pk).update(unsubscribed_at=clock.now())
    _post(make_incident(mail_component.service), commit)
    assert receiver.received == []

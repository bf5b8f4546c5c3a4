"""Durable events: recorded with the change, delivered to every subscriber at least once, effects once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction

from serviceloop.core import events
from serviceloop.core.events import (
    delivery_retry,
    event_dispatch,
    event_record,
    events_due,
    subscriber,
)
from serviceloop.core.models import Event, EventDelivery, IdempotencyKey
from serviceloop.core.tasks import sweep_once

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry() -> Any:
    """A clean subscriber table for the test; the apps' own subscribers come back afterwards."""
    saved = {name: list(entries) for name, entries in events._SUBSCRIBERS.items()}
    events._SUBSCRIBERS.clear()
    yield events._SUBSCRIBERS
    events._SUBSCRIBERS.clear()
    events._SUBSCRIBERS.update(saved)


def _marker(event: Any) -> None:
    # A subscriber whose effect is a row: a delivery marked done must have written exactly one.
    IdempotencyKey.objects.create(
        scope="test", key=f"effect-{event.pk}", fingerprint="", status_code=200, content_type="", body=b""
    )


def test_an_event_records_name_subject_actor_and_data(alex: Any, org_a: Any) -> None:
    event = event_record("organisation.noticed", subject=org_a, by=alex, reason="test", when=org_a.created_at)
    stored = Event.objects.get(pk=event.pk)
    assert (stored.name, stored.subject_type, stored.subject_id) == (
        "organisation.noticed",
        "accounts.organisation",
        org_a.pk,
    )
    assert stored.subject_label == str(org_a)
    assert (stored.actor_id, stored.actor_label) == (alex.pk, alex.email)
    assert stored.data["reason"] == "test"
    assert stored.data["when"].endswith("+00:00")  # times are stored in UTC


def test_an_event_without_subscribers_is_complete_at_once(registry: Any, alex: Any) -> None:
    event = event_record("nobody.listens", by=alex)
    assert event.completed_at is not None
    assert events_due() == []


def test_a_rolled_back_change_records_no_event(registry: Any) -> None:
    subscriber("thing.happened", name="tests.marker")(_marker)
    with pytest.raises(RuntimeError), transaction.atomic():
        event_record("thing.happened")
        raise RuntimeError("the change fails")
    assert not Event.objects.exists()


def test_every_subscriber_gets_the_event_once_even_when_dispatched_twice(registry: Any) -> None:
    subscriber("thing.happened", name="tests.one")(_marker)
    seen: list[int] = []
    subscriber("thing.happened", name="tests.two")(lambda event: seen.append(event.pk))
    event = event_record("thing.happened")
    assert event_dispatch(event_id=event.pk) is True
    assert event_dispatch(event_id=event.pk) is True
    assert IdempotencyKey.objects.filter(key=f"effect-{event.pk}").count() == 1
    assert seen == [event.pk]
    deliveries = EventDelivery.objects.filter(event=event)
    assert sorted(deliveries.values_list("subscriber", "status")) == [
        ("tests.one", "delivered"),
        ("tests.two", "delivered"),
    ]
    assert Event.objects.get(pk=event.pk).completed_at is not None


def test_a_failing_subscriber_is_rolled_back_and_retried_with_back_off(registry: Any, travel: Any) -> None:
    attempts: list[int] = []

    def flaky(event: Any) -> None:
        attempts.append(1)
        _marker(event)  # written, then rolled back with the failure
        if len(attempts) < 3:
            raise ConnectionError("downstream is down")

    subscriber("thing.happened", name="tests.flaky")(flaky)
    event = event_record("thing.happened")
    assert event_dispatch(event_id=event.pk) is False
    assert not IdempotencyKey.objects.exists()
    delivery = EventDelivery.objects.get(event=event)
    assert delivery.status == EventDelivery.Status.PENDING
    assert delivery.attempts == 1
    assert "downstream is down" in delivery.last_error
    event.refresh_from_db()
    assert event.next_attempt_at is not None
    assert timedelta(0) < event.next_attempt_at - travel.now() <= timedelta(minutes=5)

    # Not due yet: the sweep leaves it; once due, it tries again.
    assert sweep_once()["events"] == 0
    travel.by(minutes=5)
    assert sweep_once()["events"] == 1
    travel.by(minutes=5)
    sweep_once()
    delivery.refresh_from_db()
    assert delivery.status == EventDelivery.Status.DELIVERED
    assert delivery.attempts == 3
    assert IdempotencyKey.objects.filter(key=f"effect-{event.pk}").count() == 1


def test_retries_are_never_more_than_five_minutes_apart() -> None:
    gaps = [events.backoff(attempt) for attempt in range(1, 40)]
    assert gaps == sorted(gaps)
    assert max(gaps) == timedelta(minutes=5)


def test_a_subscriber_failing_past_the_retry_window_is_marked_failed_and_can_be_retried(
    registry: Any, travel: Any, settings: Any, ada: Any
) -> None:
    settings.SERVICELOOP_EVENT_RETRY_HOURS = 1
    broken = {"yes": True}

    def fragile(event: Any) -> None:
        if broken["yes"]:
            raise ValueError("bad data")
        _marker(event)

    subscriber("thing.happened", name="tests.fragile")(fragile)
    event = event_record("thing.happened")
    for _ in range(20):
        travel.by(minutes=5)
        sweep_once()
    delivery = EventDelivery.objects.get(event=event)
    assert delivery.status == EventDelivery.Status.FAILED
    assert events_due() == []  # the sweep gives up on it; an operator decides

    broken["yes"] = False
    delivery_retry(delivery=delivery, by=ada)
    sweep_once()
    delivery.refresh_from_db()
    assert delivery.status == EventDelivery.Status.DELIVERED
    assert Event.objects.filter(name="operations.delivery_retried", actor_id=ada.pk).exists()


def test_the_sweep_delivers_an_event_whose_worker_never_ran(registry: Any, travel: Any) -> None:
    subscriber("thing.happened", name="tests.marker")(_marker)
    # In a `db` test the after-commit kick never runs: exactly the broker-down case.
    event = event_record("thing.happened")
    assert sweep_once()["events"] == 0  # inside the grace period the worker may still be at it
    travel.by(seconds=31)
    assert sweep_once()["events"] == 1
    assert IdempotencyKey.objects.filter(key=f"effect-{event.pk}").count() == 1


def test_a_new_subscriber_of_an_old_event_name_is_delivered_on_the_next_dispatch(registry: Any) -> None:
    subscriber("thing.happened", name="tests.first")(_marker)
    event = event_record("thing.happened")
    seen: list[int] = []
    subscriber("thing.happened", name="tests.later")(lambda e: seen.append(e.pk))
    event_dispatch(event_id=event.pk)
    assert seen == [event.pk]


@pytest.mark.django_db(transaction=True)
def test_after_commit_the_event_is_delivered_without_a_sweep(registry: Any) -> None:
    # Tasks run eagerly in the test environment: the after-commit kick delivers at once.
    subscriber("thing.happened", name="tests.marker")(_marker)
    with transaction.atomic():
        event = event_record("thing.happened")
    assert IdempotencyKey.objects.filter(key=f"effect-{event.pk}").count() == 1
    assert Event.objects.get(pk=event.pk).completed_at is not None


def test_the_apps_subscribers_are_registered() -> None:
    table = events.all_subscribers()
    assert "feedback.invite_after_ticket_resolved" in [s.name for s in table["ticket.resolved"]]
    assert "desk.mail.message_posted" in [s.name for s in table["ticket.message_posted"]]

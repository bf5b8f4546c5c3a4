"""Fault: the database refuses a write in the middle of a batch, and in the middle of a delivery.

The fault is the database's own: a trigger that aborts one INSERT (SQLite `RAISE(ABORT)`, PostgreSQL
`RAISE EXCEPTION`), dropped again when the fault "clears". Nothing is half-written: an ingest batch
whose 1,501st row fails stores none of its rows and records no event; a subscriber whose second
write fails leaves neither write, its delivery stays pending with the error and is retried; once the
fault clears, the batch is stored once, its event delivered once, the subscriber's effect once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import DatabaseError, connection

from serviceloop.core import events
from serviceloop.core.models import Event, EventDelivery, IdempotencyKey
from serviceloop.core.tasks import sweep_once
from serviceloop.feedback.models import Response
from serviceloop.feedback.services.ingest import ingest_batch

pytestmark = pytest.mark.django_db

LINES = 2_000  # two INSERT chunks of 1,000: the fault strikes after the first has been written
SUBSCRIBER = "tests.faults.mark_each_response"


def _fault_on(table: str, column: str, value: str) -> None:
    """The database aborts any INSERT into `table` whose `column` is `value`."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                f"CREATE TRIGGER fault_test BEFORE INSERT ON {table} WHEN NEW.{column} = '{value}' "
                "BEGIN SELECT RAISE(ABORT, 'fault test: the disk says no'); END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION fault_test() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.{column} = '{value}' THEN RAISE EXCEPTION 'fault test: the disk says no'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                f"CREATE TRIGGER fault_test BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION fault_test()"
            )


def _fault_clears(table: str) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER fault_test")
        else:
            cursor.execute(f"DROP TRIGGER fault_test ON {table}")
            cursor.execute("DROP FUNCTION fault_test()")


def _mark(event: Any) -> None:
    # The subscriber's effect: one row per response, then one for the event (the write that may fail).
    for response_id in event.data["response_ids"][:3]:
        IdempotencyKey.objects.create(
            scope="fault-test",
            key=f"response-{response_id}",
            fingerprint="",
            status_code=200,
            content_type="",
            body=b"",
        )
    IdempotencyKey.objects.create(
        scope="fault-test", key=f"event-{event.pk}", fingerprint="", status_code=200, content_type="", body=b""
    )


@pytest.fixture
def marking_subscriber() -> Iterator[None]:
    entry = events.Subscriber(event_name="responses.ingested", name=SUBSCRIBER, handler=_mark)
    events._SUBSCRIBERS.setdefault("responses.ingested", []).append(entry)
    try:
        yield
    finally:
        events._SUBSCRIBERS["responses.ingested"].remove(entry)


def _lines(service_slug: str) -> list[bytes]:
    return [
        json.dumps({"source": "faults", "external_id": f"f-{n}", "service": service_slug, "happiness": n % 11}).encode()
        for n in range(LINES)
    ]


def test_a_database_error_mid_batch_writes_nothing_and_the_batch_is_stored_once_when_it_clears(
    service: Any, marking_subscriber: None
) -> None:
    lines = _lines(service.slug)
    _fault_on("feedback_response", "external_id", "f-1500")
    with pytest.raises(DatabaseError, match="disk says no"):
        ingest_batch(lines=lines, by=None)
    assert Response.objects.count() == 0  # the first 1,000 rows went with the failed transaction
    assert not Event.objects.filter(name="responses.ingested").exists()

    _fault_clears("feedback_response")
    report = ingest_batch(lines=lines, by=None)
    again = ingest_batch(lines=lines, by=None)  # a client retrying the whole batch
    assert (report.created, again.created, again.duplicates) == (LINES, 0, LINES)
    assert Response.objects.count() == LINES
    [event] = Event.objects.filter(name="responses.ingested")
    assert len(event.data["response_ids"]) == LINES


def test_a_database_error_inside_a_subscriber_leaves_nothing_half_written_and_is_retried_once(
    service: Any, marking_subscriber: None, travel: Any
) -> None:
    ingest_batch(lines=_lines(service.slug), by=None)
    [event] = Event.objects.filter(name="responses.ingested")
    _fault_on("core_idempotencykey", "key", f"event-{event.pk}")

    travel.by(seconds=31)
    sweep_once()
    delivery = EventDelivery.objects.get(event=event, subscriber=SUBSCRIBER)
    assert delivery.status == EventDelivery.Status.PENDING
    assert "disk says no" in delivery.last_error
    # The three rows written before the failing one were rolled back with it.
    assert not IdempotencyKey.objects.filter(scope="fault-test").exists()
    assert Event.objects.get(pk=event.pk).completed_at is None

    travel.by(minutes=1)
    sweep_once()  # still failing: retried, still nothing half-written
    assert EventDelivery.objects.get(pk=delivery.pk).attempts == 2
    assert not IdempotencyKey.objects.filter(scope="fault-test").exists()

    _fault_clears("core_idempotencykey")
    travel.by(minutes=5)
    sweep_once()
    travel.by(minutes=5)
    sweep_once()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (EventDelivery.Status.DELIVERED, 3)
    assert IdempotencyKey.objects.filter(scope="fault-test").count() == 4  # three responses and the event, once
    assert Event.objects.get(pk=event.pk).completed_at is not None

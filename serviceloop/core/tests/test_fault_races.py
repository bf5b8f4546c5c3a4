"""Races: two workers deliver the same event at once, two workers claim the same mail at once.

Threads of this process, each with its own database connection (`transactional_db`), started
together by a barrier; the subscriber and the SMTP server are slow so the two really overlap. The
subscriber's effect happens once and the mail is sent once: the conditional UPDATE that claims the
delivery (or the mail) lets exactly one of them through.

The broker is down (no kick after commit), so only the racers deliver.

PostgreSQL only: the SQLite test database lives in memory with a shared cache, where a second writer
is refused at once ("table is locked") instead of waiting its turn as it does on a file; the
multi-process tests (serviceloop/tests/test_fault_worker_killed.py) cover SQLite with real files.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection, connections

from serviceloop.core import events
from serviceloop.core.events import event_dispatch, event_record
from serviceloop.core.mail import OutboundEmail, email_queue, mail_deliver
from serviceloop.core.models import EventDelivery, IdempotencyKey, OutgoingMail
from serviceloop.core.tests.faults import Mailbox

pytestmark = pytest.mark.django_db(transaction=True)

RACERS = 2


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("races need a database where a second writer waits (PostgreSQL); see the module docstring")


def _race(work: Callable[[], Any]) -> list[Any]:
    barrier = threading.Barrier(RACERS)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(work())
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return results


def _slow_effect(event: Any) -> None:
    IdempotencyKey.objects.create(
        scope="race", key=f"effect-{event.pk}", fingerprint="", status_code=200, content_type="", body=b""
    )
    time.sleep(0.3)  # hold the claim while the other worker arrives


@pytest.fixture
def slow_subscriber() -> Iterator[None]:
    entry = events.Subscriber(event_name="race.happened", name="tests.race.slow_effect", handler=_slow_effect)
    events._SUBSCRIBERS.setdefault("race.happened", []).append(entry)
    try:
        yield
    finally:
        events._SUBSCRIBERS["race.happened"].remove(entry)


def test_two_workers_delivering_the_same_event_at_once_have_its_effect_once(
    broker_down: str, slow_subscriber: None
) -> None:
    event = event_record("race.happened")
    for _ in range(3):
        assert _race(lambda: event_dispatch(event_id=event.pk)) == [True, True]
    assert IdempotencyKey.objects.filter(scope="race").count() == 1
    delivery = EventDelivery.objects.get(event=event)
    assert (delivery.status, delivery.attempts) == (EventDelivery.Status.DELIVERED, 1)


def test_two_workers_claiming_the_same_mail_at_once_send_it_once(broker_down: str, settings: Any) -> None:
    box = Mailbox(delay=0.3).start()
    try:
        for name, value in box.django_settings().items():
            setattr(settings, name, value)
        mail = email_queue(OutboundEmail(to=["carol@acme.example"], subject="Once", text="Only once."))
        results = _race(lambda: mail_deliver(mail_id=mail.pk))
        assert sorted(results) == [OutgoingMail.Status.SENDING, OutgoingMail.Status.SENT]
        assert _race(lambda: mail_deliver(mail_id=mail.pk)) == [OutgoingMail.Status.SENT] * RACERS
        tally = box.tally([mail.message_id])
        assert (tally.lost, tally.duplicated, tally.unexpected) == ([], {}, [])
        assert OutgoingMail.objects.get(pk=mail.pk).attempts == 1
    finally:
        box.stop()

"""Durable domain events: recorded in the transaction of the change, delivered at least once.

A service records what happened with `event_record(...)` inside its own `transaction.atomic()`. The
row commits with the change or not at all. After commit the worker is asked to deliver it
(`core.tasks.dispatch_event`); if the broker is down, or the worker dies, the sweep
(`core.tasks.outbox_sweep`, every 30 s on beat) delivers it later. Nothing a higher floor must do
hangs on the web process living past its commit.

Higher apps subscribe in their `receivers.py`:

    @subscriber("ticket.resolved", name="feedback.invite_after_ticket_resolved")
    def invite(event: Event) -> None:
        invitation_for_resolved_ticket(ticket_id=event.data["ticket_id"])

A subscriber runs inside a transaction together with the row that marks its delivery done, so its
database writes (and the mail it queues, which is a row too) happen exactly once; a subscriber that
raises is rolled back and retried with back-off, never more than five minutes apart, until
`SERVICELOOP_EVENT_RETRY_HOURS`; then its delivery is marked failed for an operator to retry.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import F

from serviceloop.core import clock
from serviceloop.core.errors import ConflictError
from serviceloop.core.models import Event, EventDelivery

logger = logging.getLogger(__name__)

Handler = Callable[[Event], None]

# Delivery attempts back off from 10 s, doubling, and are never more than five minutes apart.
BACKOFF_FIRST_SECONDS = 10
BACKOFF_MAX_SECONDS = 300
# An event the worker has not completed this long after it was recorded is picked up by the sweep.
SWEEP_GRACE = timedelta(seconds=30)


@dataclass(frozen=True)
class Subscriber:
    event_name: str
    name: str
    handler: Handler


# Filled once per process from the AppConfig.ready() of each app (importing its receivers.py); it
# holds code, not state, so every web process and worker has the same table.
_SUBSCRIBERS: dict[str, list[Subscriber]] = {}


def subscriber(*event_names: str, name: str) -> Callable[[Handler], Handler]:
    """Register a function as the subscriber `name` of the given events; `name` must stay stable,
    because deliveries are recorded under it."""

    def register(handler: Handler) -> Handler:
        for event_name in event_names:
            entries = _SUBSCRIBERS.setdefault(event_name, [])
            if any(entry.name == name for entry in entries):
                continue
            entries.append(Subscriber(event_name=event_name, name=name, handler=handler))
        return handler

    return register


def subscribers_of(event_name: str) -> list[Subscriber]:
    return list(_SUBSCRIBERS.get(event_name, []))


def all_subscribers() -> dict[str, list[Subscriber]]:
    return {name: list(entries) for name, entries in sorted(_SUBSCRIBERS.items())}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return value


def _label(obj: Any) -> str:
    """How the audit log names the row: a ticket by its reference and subject, others as they print."""
    text = str(obj)
    reference = getattr(obj, "reference", None)
    if reference and str(reference) not in text:
        text = f"{reference} {text}"
    return text[:200]


def event_record(
    name: str,
    *,
    subject: models.Model | None = None,
    by: Any = None,
    by_label: str = "",
    **data: Any,
) -> Event:
    """Record that `name` happened to `subject`, done `by` a login (None: the system).

    `by_label` names an actor without a login (a requester writing by email). Call it inside the
    service's transaction: the event commits with the change. Keyword arguments are the event's data
    (ids and plain values).
    """
    actor_id = getattr(by, "pk", None) if getattr(by, "is_authenticated", False) else None
    actor_label = by_label[:200]
    if actor_id is not None:
        actor_label = (getattr(by, "email", "") or str(by))[:200]
    now = clock.now()
    has_subscribers = bool(_SUBSCRIBERS.get(name))
    event = Event.objects.create(
        name=name,
        subject_type=subject._meta.label_lower if subject is not None else "",
        subject_id=subject.pk if subject is not None else None,
        subject_label=_label(subject)[:200] if subject is not None else "",
        data=_jsonable(data),
        actor_id=actor_id,
        actor_label=actor_label,
        created_at=now,
        next_attempt_at=now + SWEEP_GRACE if has_subscribers else None,
        completed_at=None if has_subscribers else now,
    )
    if has_subscribers:
        event_id = event.pk
        transaction.on_commit(lambda: _kick_dispatch(event_id))
    return event


def _kick_dispatch(event_id: int) -> None:
    """Ask the worker to deliver now; a broker outage only delays it until the sweep."""
    from serviceloop.core.tasks import dispatch_event, enqueue

    enqueue(dispatch_event, event_id)


def retry_window() -> timedelta:
    return timedelta(hours=float(settings.SERVICELOOP_EVENT_RETRY_HOURS))


def _retry_deadline(event: Event, delivery: EventDelivery) -> datetime:
    return delivery.retry_until or event.created_at + retry_window()


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** max(0, attempts - 1)))


def event_dispatch(*, event_id: int) -> bool:
    """Deliver one event to each of its subscribers that has not had it yet. True when complete.

    Idempotent and safe to run in several processes at once: a delivery is claimed by an UPDATE
    that only succeeds while it is not delivered, in the same transaction as the subscriber's work.
    """
    event = Event.objects.filter(pk=event_id).first()
    if event is None or event.completed_at is not None:
        return True
    subscribers = subscribers_of(event.name)
    existing = {d.subscriber for d in EventDelivery.objects.filter(event=event)}
    missing = [EventDelivery(event=event, subscriber=s.name) for s in subscribers if s.name not in existing]
    if missing:
        EventDelivery.objects.bulk_create(missing, ignore_conflicts=True)
    deliveries = {d.subscriber: d for d in EventDelivery.objects.filter(event=event)}
    waiting: list[int] = []
    for entry in subscribers:
        delivery = deliveries[entry.name]
        if delivery.status != EventDelivery.Status.PENDING:
            continue
        if not _deliver_one(event, entry, delivery):
            waiting.append(delivery.attempts + 1)
    return _settle(event, waiting)


def _deliver_one(event: Event, entry: Subscriber, delivery: EventDelivery) -> bool:
    now = clock.now()
    try:
        with transaction.atomic():
            claimed = EventDelivery.objects.filter(pk=delivery.pk, status=EventDelivery.Status.PENDING).update(
                attempts=F("attempts") + 1, last_attempt_at=now
            )
            if not claimed:
                return True  # another process delivered it meanwhile
            entry.handler(event)
            EventDelivery.objects.filter(pk=delivery.pk).update(
                status=EventDelivery.Status.DELIVERED, delivered_at=clock.now(), last_error=""
            )
        return True
    except Exception as error:  # the outermost loop of a subscriber: record, retry later
        logger.warning("event %s (%s) to %s failed: %s", event.pk, event.name, entry.name, error)
        failed = now >= _retry_deadline(event, delivery)
        EventDelivery.objects.filter(pk=delivery.pk, status=EventDelivery.Status.PENDING).update(
            attempts=F("attempts") + 1,
            last_attempt_at=now,
            last_error=traceback.format_exc(limit=8)[-4000:],
            status=EventDelivery.Status.FAILED if failed else EventDelivery.Status.PENDING,
        )
        return failed


def _settle(event: Event, waiting: Iterable[int]) -> bool:
    waiting = list(waiting)
    now = clock.now()
    if waiting:
        Event.objects.filter(pk=event.pk).update(next_attempt_at=now + backoff(min(waiting)))
        return False
    Event.objects.filter(pk=event.pk, completed_at__isnull=True).update(completed_at=now, next_attempt_at=None)
    return True


def events_due(*, limit: int = 200) -> list[int]:
    """Events the worker has not completed by their due time (broker down, worker killed, a retry)."""
    return list(
        Event.objects.filter(completed_at__isnull=True, next_attempt_at__lte=clock.now())
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def delivery_retry(*, delivery: EventDelivery, by: Any) -> EventDelivery:
    """An operator asks for a failed delivery to be tried again (now, with a fresh retry window)."""
    with transaction.atomic():
        # Lock the row: a delivery that arrived meanwhile must not be run again by a stale Retry.
        current = EventDelivery.objects.select_for_update().get(pk=delivery.pk)
        if current.status != EventDelivery.Status.FAILED:
            raise ConflictError(
                "delivery_not_failed",
                f"Only a failed delivery can be retried; this one is {current.get_status_display()}.",
            )
        now = clock.now()
        EventDelivery.objects.filter(pk=delivery.pk).update(
            status=EventDelivery.Status.PENDING, retry_until=now + retry_window()
        )
        Event.objects.filter(pk=delivery.event_id).update(completed_at=None, next_attempt_at=now)
        event_record("operations.delivery_retried", subject=delivery.event, by=by, subscriber=delivery.subscriber)
        event_id = delivery.event_id
        transaction.on_commit(lambda: _kick_dispatch(event_id))
    delivery.refresh_from_db()
    return delivery

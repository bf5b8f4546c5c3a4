"""Core tasks: deliver events and mail from the outbox, sweep what was not delivered in time.

Tasks take ids and are idempotent; their state lives in our tables, not in the broker, so a lost
message (broker down, worker killed) only delays the work until the next sweep.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings

from serviceloop.core import clock

logger = logging.getLogger(__name__)

# One sweep does at most this much work, so a backlog drains over several runs of beat.
SWEEP_SECONDS = 45.0


# After a kick failed, this process leaves the broker alone for this long. A broker that hangs
# (accepts the connection, never answers: a frozen Redis, a stuck proxy) costs each kick a socket
# timeout, and a request that records four events would wait four of them, past gunicorn's timeout
# (found by the fault tests: 10 s a kick). The outbox rows wait for the sweep (every 30 s) anyway.
# Process-local on purpose: a hint about the broker, never state that the work depends on.
BROKER_REST_SECONDS = 15.0
_broker_failed_at: float | None = None


def enqueue(task: Any, *args: Any) -> bool:
    """Ask the worker to run `task` now; False (and a log line) when the broker cannot be reached.

    Called after commit: what it asks for is already in the outbox, so a refusal here only means the
    sweep does it a little later. It never raises into the request that committed.
    """
    global _broker_failed_at
    if _broker_failed_at is not None and time.monotonic() - _broker_failed_at < BROKER_REST_SECONDS:
        return False
    try:
        task.apply_async(args=args, retry=False)
    except Exception as error:  # any broker or transport failure: the outbox row is already committed
        _broker_failed_at = time.monotonic()
        logger.warning("broker unavailable, %s(%s) left to the sweep: %s", task.name, args, error)
        return False
    _broker_failed_at = None
    return True


def broker_rest_end() -> None:
    """Forget a past broker failure (the broker was changed or is known to be back)."""
    global _broker_failed_at
    _broker_failed_at = None


@shared_task(name="serviceloop.core.tasks.dispatch_event", soft_time_limit=240, time_limit=300)
def dispatch_event(event_id: int) -> bool:
    from serviceloop.core.events import event_dispatch

    return event_dispatch(event_id=event_id)


@shared_task(name="serviceloop.core.tasks.deliver_mail", soft_time_limit=120, time_limit=180)
def deliver_mail(mail_id: int) -> str:
    from serviceloop.core.mail import mail_deliver

    return mail_deliver(mail_id=mail_id)


@shared_task(name="serviceloop.core.tasks.deliver_email", soft_time_limit=60, time_limit=120)
def deliver_email(payload: dict[str, Any]) -> None:
    """Messages of the release before the outbox, still in a broker queue: put them in the outbox."""
    from serviceloop.core.mail import OutboundEmail, email_queue

    email_queue(OutboundEmail(**payload))


def sweep_once(*, budget_seconds: float = SWEEP_SECONDS) -> dict[str, int]:
    """Deliver the events and mail that are due; returns how many of each were handled."""
    from serviceloop.core.events import event_dispatch, events_due
    from serviceloop.core.mail import mail_deliver, mails_due

    started = time.monotonic()
    handled = {"events": 0, "mails": 0}
    for event_id in events_due():
        if time.monotonic() - started > budget_seconds:
            return handled
        event_dispatch(event_id=event_id)
        handled["events"] += 1
    for mail_id in mails_due():
        if time.monotonic() - started > budget_seconds:
            return handled
        mail_deliver(mail_id=mail_id)
        handled["mails"] += 1
    return handled


@shared_task(name="serviceloop.core.tasks.outbox_sweep", soft_time_limit=55, time_limit=120)
def outbox_sweep() -> dict[str, int]:
    return sweep_once()


@shared_task(name="serviceloop.core.tasks.housekeeping", soft_time_limit=240, time_limit=300)
def housekeeping() -> dict[str, int]:
    """Forget idempotency keys past their retention, rate-limit windows that have ended, and the
    embedded broker's delivered messages."""
    from serviceloop.core import ratelimit
    from serviceloop.core.models import IdempotencyKey

    cutoff = clock.now() - timedelta(hours=float(settings.SERVICELOOP_IDEMPOTENCY_HOURS))
    keys, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return {
        "idempotency_keys": keys,
        "rate_limit_counters": ratelimit.purge(),
        "broker_messages": embedded_broker_purge(),
    }


def embedded_broker_purge(*, older_than: timedelta = timedelta(hours=1)) -> int:
    """Delete messages the embedded (SQLAlchemy) broker has handed out; it never deletes them itself.

    kombu's SQLAlchemy transport marks a message invisible when a worker takes it and keeps the row
    for ever. Our tasks keep their state in our own tables, so the handed-out rows are dead weight.
    """
    url = str(settings.CELERY_BROKER_URL)
    if not url.startswith("sqla+"):
        return 0
    import sqlalchemy

    engine = sqlalchemy.create_engine(url.removeprefix("sqla+"))
    cutoff = (clock.now() - older_than).replace(tzinfo=None)
    try:
        with engine.begin() as connection:
            if not sqlalchemy.inspect(connection).has_table("kombu_message"):
                return 0
            result = connection.execute(
                sqlalchemy.text("DELETE FROM kombu_message WHERE visible = :hidden AND timestamp < :cutoff"),
                {"hidden": False, "cutoff": cutoff},
            )
            return int(result.rowcount or 0)
    finally:
        engine.dispose()

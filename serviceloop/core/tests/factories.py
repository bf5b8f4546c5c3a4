"""Core rows for tests: an event, a failed mail, a failed delivery; each states only what it must."""

from __future__ import annotations

from typing import Any

from serviceloop.core import clock
from serviceloop.core.mail import OutboundEmail, email_queue
from serviceloop.core.models import Event, EventDelivery, OutgoingMail


def make_event(name: str = "tests.happened", *, subject: Any = None, by: Any = None, **fields: Any) -> Event:
    """An event as a service records it; `fields` beyond the signature overwrite columns afterwards."""
    from serviceloop.core.events import event_record

    columns = {key: fields.pop(key) for key in list(fields) if key in ("created_at", "subject_label")}
    event = event_record(name, subject=subject, by=by, **fields)
    if columns:
        Event.objects.filter(pk=event.pk).update(**columns)
        event.refresh_from_db()
    return event


def make_failed_mail(
    to: str = "carol@acme.example", subject: str = "Your ticket was resolved", **fields: Any
) -> OutgoingMail:
    """A mail whose retry window closed: queued through the outbox, then marked as the worker would."""
    mail = email_queue(OutboundEmail(to=[to], subject=subject, text="Tell us how we did."))
    values = {
        "status": OutgoingMail.Status.FAILED,
        "attempts": 40,
        "retry_until": clock.now(),
        "last_error": "ConnectionRefusedError: [Errno 111] Connection refused",
        **fields,
    }
    OutgoingMail.objects.filter(pk=mail.pk).update(**values)
    mail.refresh_from_db()
    return mail


def make_failed_delivery(event: Event | None = None, subscriber: str = "tests.failing", **fields: Any) -> EventDelivery:
    event = event or make_event("tests.needs_delivery")
    values = {
        "status": EventDelivery.Status.FAILED,
        "attempts": 9,
        "last_attempt_at": clock.now(),
        "last_error": "Traceback (most recent call last):\n  ...\nRuntimeError: the trust model is down",
        **fields,
    }
    return EventDelivery.objects.create(event=event, subscriber=subscriber, **values)

"""Telling subscribers: one mail per (update, subscription), one webhook delivery per (event, subscription).

Called by the subscribers in receivers.py inside the transaction that marks the event delivered, so
the mails (outbox rows) and the deliveries (outbox rows too) commit with it or not at all. A
re-delivered event writes nothing twice: each mail has a stable Message-ID (the outbox stores one
mail per Message-ID) and each delivery is unique per (event, subscription, component).

Who hears of what: an update addressed to the public audience of a public incident, when its
`deliver_notifications` is on; a public maintenance's announcement, notice, start and completion.
An email or webhook subscription hears of it when it follows every service (none chosen) or one of
the services the incident affects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string

from serviceloop.core import clock
from serviceloop.core.mail import OutboundEmail, email_queue
from serviceloop.incidents import events
from serviceloop.incidents.models import Audience, Component, Incident, IncidentUpdate, Subscription, WebhookDelivery
from serviceloop.incidents.subscriptions import mail_domain, manage_url, unsubscribe_headers, unsubscribe_url
from serviceloop.incidents.webhook_payloads import (
    component_update_payload,
    incident_payload,
    incident_url,
    public_updates,
)
from serviceloop.incidents.webhooks import kick

# What each maintenance event says, in the subject and the first line of its mail.
MAINTENANCE_STAGES = {
    events.MAINTENANCE_SCHEDULED: ("scheduled", "Scheduled maintenance"),
    events.MAINTENANCE_NOTICE: ("notice", "Reminder: maintenance starts soon"),
    events.MAINTENANCE_STARTED: ("started", "Maintenance in progress"),
    events.MAINTENANCE_COMPLETED: ("completed", "Maintenance completed"),
}
# The same events with a flag of their own (maintenance.py records them on a reschedule and a
# cancellation): said as what they are, and a Message-ID of their own (the outbox keeps one mail per
# Message-ID, so a reschedule reusing the announcement's would never be sent).
RESCHEDULED = ("rescheduled", "Rescheduled maintenance")
CANCELLED = ("cancelled", "Maintenance cancelled")


@dataclass(frozen=True)
class Notified:
    mails: int = 0
    deliveries: int = 0


def followers(incident: Incident, kind: str) -> QuerySet[Subscription]:
    """Active subscriptions of `kind` that follow every service or one the incident affects."""
    affected = list(incident.affected_services.values_list("service_id", flat=True))
    return (
        Subscription.objects.filter(
            kind=kind, confirmed_at__isnull=False, unsubscribed_at__isnull=True, disabled_at__isnull=True
        )
        .filter(Q(services__isnull=True) | Q(services__in=affected))
        .distinct()
        .order_by("pk")
    )


def _message_id(*parts: str) -> str:
    return f"<status.{'.'.join(parts)}@{mail_domain()}>"


def _thread_root(incident: Incident) -> tuple[str, ...]:
    """What names the mail every later mail about the incident answers (with each subscriber's id):
    the announcement of a maintenance, the first notified public update of an incident (whether or
    not this subscriber got it: mail readers thread on References)."""
    if incident.kind == Incident.Kind.MAINTENANCE:
        return (incident.public_id, "scheduled")
    notified = [u for u in reversed(public_updates(incident)) if u.deliver_notifications]
    return (notified[0].public_id if notified else incident.public_id,)


def _headers(subscription: Subscription, own: str, root: str) -> dict[str, str]:
    headers = {"Message-ID": own, **unsubscribe_headers(subscription)}
    if root != own:
        headers["In-Reply-To"] = root
        headers["References"] = root
    return headers


def _services(incident: Incident) -> list[str]:
    rows = incident.affected_services.select_related("service__status_component")
    names = []
    for affected in rows:
        component = getattr(affected.service, "status_component", None)
        if component is not None and component.is_public:
            names.append(component.name)
    return sorted(names)


def _shared(incident: Incident, **extra: Any) -> dict[str, Any]:
    """What every follower's mail about the incident says alike (read once, not per follower)."""
    return {"incident": incident, "incident_url": incident_url(incident), "services": _services(incident), **extra}


def _context(shared: dict[str, Any], subscription: Subscription) -> dict[str, Any]:
    return {**shared, "unsubscribe_url": unsubscribe_url(subscription), "manage_url": manage_url(subscription)}


def _queue(
    subscription: Subscription, subject: str, template: str, context: dict[str, Any], own: str, root: str
) -> None:
    email_queue(
        OutboundEmail(
            to=[subscription.email],
            subject=subject[:200],
            text=render_to_string(f"incidents/email/{template}.txt", context),
            html=render_to_string(f"incidents/email/{template}.html", context),
            headers=_headers(subscription, own, root),
        )
    )


def _deliveries(rows: list[WebhookDelivery], event_id: int) -> int:
    if not rows:
        return 0
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    waiting = list(
        WebhookDelivery.objects.filter(source_event_id=event_id, status=WebhookDelivery.Status.PENDING).values_list(
            "pk", flat=True
        )
    )
    transaction.on_commit(lambda: kick(waiting))
    return len(rows)


def _delivery(
    subscription: Subscription, event_id: int, event_name: str, payload: dict[str, Any], component: str = ""
) -> WebhookDelivery:
    now = clock.now()
    return WebhookDelivery(
        subscription=subscription,
        event_name=event_name,
        payload=payload,
        created_at=now,
        next_attempt_at=now,
        source_event_id=event_id,
        component=component,
    )


def _component_changes(update: IncidentUpdate) -> list[tuple[Component, dict[str, Any]]]:
    changes = [c for c in update.affected_components or [] if isinstance(c, dict) and c.get("code")]
    changed = [c for c in changes if c.get("old_status") != c.get("new_status")]
    components = {
        c.service.public_id: c
        for c in Component.objects.filter(
            is_public=True, service__public_id__in=[c["code"] for c in changed]
        ).select_related("service", "group")
    }
    return [(components[c["code"]], c) for c in changed if c["code"] in components]


def notify_update_posted(*, event_id: int, update_id: int) -> Notified:
    """An update was posted: mail and POST to the public incident's followers, if it is for them."""
    update = IncidentUpdate.objects.select_related("incident").filter(pk=update_id).first()
    if update is None:
        return Notified()
    incident = update.incident
    if (
        Audience.PUBLIC not in (update.audiences or [])
        or incident.visibility != Incident.Visibility.PUBLIC
        or not update.deliver_notifications
    ):
        return Notified()
    mails = 0
    status = Incident.Status(update.status).label if update.status in Incident.Status.values else update.status
    root = _thread_root(incident)
    shared = _shared(incident, update=update, status_label=status)
    for subscription in followers(incident, Subscription.Kind.EMAIL):
        context = _context(shared, subscription)
        own = _message_id(update.public_id, subscription.public_id)
        subject = f"{status}: {incident.title} [{incident.reference}]"
        _queue(subscription, subject, "update", context, own, _message_id(*root, subscription.public_id))
        mails += 1
    rows = []
    changes = _component_changes(update)
    for subscription in followers(incident, Subscription.Kind.WEBHOOK):
        rows.append(
            _delivery(subscription, event_id, events.INCIDENT_UPDATE_POSTED, incident_payload(incident, subscription))
        )
        for component, change in changes:
            payload = component_update_payload(
                component=component, change=change, update=update, subscription=subscription
            )
            rows.append(
                _delivery(subscription, event_id, events.INCIDENT_UPDATE_POSTED, payload, component=component.public_id)
            )
    return Notified(mails=mails, deliveries=_deliveries(rows, event_id))


def notify_maintenance(
    *, event_id: int, event_name: str, incident_id: int, data: dict[str, Any] | None = None
) -> Notified:
    """A public maintenance was announced (or rescheduled), is about to start, started or completed
    (or was cancelled)."""
    incident = Incident.objects.filter(pk=incident_id, kind=Incident.Kind.MAINTENANCE).first()
    if incident is None or incident.visibility != Incident.Visibility.PUBLIC or event_name not in MAINTENANCE_STAGES:
        return Notified()
    stage, heading = MAINTENANCE_STAGES[event_name]
    data = data or {}
    if event_name == events.MAINTENANCE_SCHEDULED and data.get("rescheduled"):
        stage, heading = RESCHEDULED[0] + f".{event_id}", RESCHEDULED[1]
    elif event_name == events.MAINTENANCE_COMPLETED and data.get("cancelled"):
        stage, heading = CANCELLED
    latest = next(iter(public_updates(incident)), None)
    root = _thread_root(incident)
    shared = _shared(incident, stage=stage, heading=heading, update=latest)
    mails = 0
    for subscription in followers(incident, Subscription.Kind.EMAIL):
        context = _context(shared, subscription)
        own = _message_id(incident.public_id, stage, subscription.public_id)
        subject = f"{heading}: {incident.title} [{incident.reference}]"
        _queue(subscription, subject, "maintenance", context, own, _message_id(*root, subscription.public_id))
        mails += 1
    rows = [
        _delivery(subscription, event_id, event_name, incident_payload(incident, subscription))
        for subscription in followers(incident, Subscription.Kind.WEBHOOK)
    ]
    return Notified(mails=mails, deliveries=_deliveries(rows, event_id))

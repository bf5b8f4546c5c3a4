"""The incidents app's own reactions to its durable events (core.events): each subscriber loads rows
and calls a service, and may run twice (idempotent per event and subscriber)."""

from __future__ import annotations

from serviceloop.core.events import subscriber
from serviceloop.core.models import Event
from serviceloop.incidents import events
from serviceloop.incidents.reviews import review_open_after_resolution
from serviceloop.incidents.subscription_notify import notify_maintenance, notify_update_posted


@subscriber(events.INCIDENT_UPDATE_POSTED, name="incidents.status_subscribers_update")
def tell_subscribers_of_update(event: Event) -> None:
    notify_update_posted(event_id=event.pk, update_id=int(event.data["update_id"]))


@subscriber(
    events.MAINTENANCE_SCHEDULED,
    events.MAINTENANCE_NOTICE,
    events.MAINTENANCE_STARTED,
    events.MAINTENANCE_COMPLETED,
    name="incidents.status_subscribers_maintenance",
)
def tell_subscribers_of_maintenance(event: Event) -> None:
    notify_maintenance(
        event_id=event.pk, event_name=event.name, incident_id=int(event.data["incident_id"]), data=event.data
    )


@subscriber(events.INCIDENT_RESOLVED, name="incidents.review_open")
def review_open(event: Event) -> None:
    """A resolved major incident (SEV1/SEV2) gets its post-incident review, once."""
    review_open_after_resolution(incident_id=int(event.data["incident_id"]))

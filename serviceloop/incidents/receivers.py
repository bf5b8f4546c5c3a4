"""Reactions of the incidents app to durable events (core.events): each idempotent, each calling a service."""

from __future__ import annotations

from serviceloop.core.events import subscriber
from serviceloop.core.models import Event
from serviceloop.incidents.events import INCIDENT_RESOLVED
from serviceloop.incidents.reviews import review_open_after_resolution


@subscriber(INCIDENT_RESOLVED, name="incidents.review_open")
def review_open(event: Event) -> None:
    """A resolved major incident (SEV1/SEV2) gets its post-incident review, once."""
    review_open_after_resolution(incident_id=int(event.data["incident_id"]))

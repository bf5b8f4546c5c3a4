"""Trust's subscribers: each durable event that is evidence about a relationship is written to the
evidence log (idempotent by key) and the pairs it touches are recomputed (docs/trust.md).

Each subscriber reads the rows the event names (not the event's own figures) through the same
function the backfill uses, so a repeat, a late delivery or a backfill afterwards writes nothing
new. Evidence and the state refresh run in the delivery's transaction: a failure retries both.
"""

from __future__ import annotations

from datetime import datetime

from serviceloop.core.events import subscriber
from serviceloop.core.models import Event
from serviceloop.experience.trust_evidence import (
    evidence_from_incident,
    evidence_from_posts,
    evidence_from_reopen,
    evidence_from_responses,
    evidence_from_review,
    evidence_from_sla_breach,
    evidence_from_tickets,
    pairs_refresh,
)
from serviceloop.incidents import events as incident_events


@subscriber("response.recorded", name="experience.trust.response")
def trust_response(event: Event) -> None:
    pairs_refresh(evidence_from_responses([event.data["response_id"]], event_id=event.pk))


@subscriber("responses.ingested", name="experience.trust.responses")
def trust_responses(event: Event) -> None:
    pairs_refresh(evidence_from_responses(event.data["response_ids"], event_id=event.pk))


@subscriber("posts.recorded", name="experience.trust.posts")
def trust_posts(event: Event) -> None:
    pairs_refresh(evidence_from_posts(event.data["post_ids"], event_id=event.pk))


@subscriber("sentiment.corrected", name="experience.trust.sentiment_corrected")
def trust_sentiment_corrected(event: Event) -> None:
    # A post corrected to negative is evidence from now on; one corrected away from negative keeps
    # its row (the log is append-only). An answer's evidence is its score, which a label leaves as is.
    if event.data.get("post_id"):
        pairs_refresh(evidence_from_posts([event.data["post_id"]], event_id=event.pk))


@subscriber("sentiment.rescored", name="experience.trust.sentiment_rescored")
def trust_sentiment_rescored(event: Event) -> None:
    pairs_refresh(evidence_from_posts(event.data.get("post_ids", []), event_id=event.pk))


@subscriber("ticket.sla_breached", name="experience.trust.sla_breached")
def trust_sla_breached(event: Event) -> None:
    breached_at = event.data.get("breached_at")
    at = datetime.fromisoformat(breached_at) if isinstance(breached_at, str) else None
    pairs_refresh(evidence_from_sla_breach(event.data["ticket_id"], event.data["target"], at, event_id=event.pk))


@subscriber("ticket.created", name="experience.trust.ticket_created")
def trust_ticket_created(event: Event) -> None:
    pairs_refresh(evidence_from_tickets([event.data["ticket_id"]], event_id=event.pk))


@subscriber("ticket.reopened", name="experience.trust.reopened")
def trust_reopened(event: Event) -> None:
    pairs_refresh(evidence_from_reopen(event.data["ticket_id"], event_id=event.pk))


@subscriber(incident_events.INCIDENT_RESOLVED, name="experience.trust.incident_resolved")
def trust_incident_resolved(event: Event) -> None:
    pairs_refresh(evidence_from_incident(event.data["incident_id"], event_id=event.pk))


@subscriber(
    incident_events.REVIEW_ACTION_CLOSED, incident_events.REVIEW_COMPLETED, name="experience.trust.review_actions"
)
def trust_review_actions(event: Event) -> None:
    pairs_refresh(evidence_from_review(event.data["incident_id"], event_id=event.pk))

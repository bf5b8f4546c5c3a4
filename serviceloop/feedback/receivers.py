"""Feedback's subscribers to lower floors' events: a resolved ticket invites its requester (DESIGN flow 1),
a resolved major incident offers its survey to the affected organisations, and the answers about an
incident keep its review's lost time."""

from __future__ import annotations

from serviceloop.core.events import subscriber
from serviceloop.core.models import Event
from serviceloop.desk.mail_out import resolution_notice_due
from serviceloop.feedback.services.incident_feedback import (
    incident_lost_time_recount,
    incident_surveys_offer,
    incidents_of_responses,
)
from serviceloop.feedback.services.invitations import invitation_for_resolved_ticket
from serviceloop.incidents import events as incident_events


@subscriber("ticket.resolved", name="feedback.invite_after_ticket_resolved")
def invite_after_ticket_resolved(event: Event) -> None:
    # When the desk mails the requester the resolution, the survey rides in that notice (feedback's
    # MAIL_PARTS, recorded in the notice's transaction): one mail, not two. Otherwise it goes alone.
    if resolution_notice_due(event_id=event.data.get("event_id")):
        return
    # At least once: the throttle and the one-invitation-per-ticket rule make a repeat harmless.
    invitation_for_resolved_ticket(ticket_id=event.data["ticket_id"])


@subscriber(incident_events.INCIDENT_RESOLVED, name="feedback.offer_after_incident_resolved")
def offer_after_incident_resolved(event: Event) -> None:
    # At least once: each affected organisation's survey_offered_at makes a repeat offer nothing.
    incident_id = event.data["incident_id"]
    if event.data.get("is_major"):
        incident_surveys_offer(incident_id=incident_id)
    # The review may already be open (another subscriber of this event opens it): recount now too.
    incident_lost_time_recount(incident_id=incident_id)


@subscriber(
    incident_events.INCIDENT_TICKET_LINKED,
    incident_events.REVIEW_COMPLETED,
    incident_events.REVIEW_PUBLISHED,
    name="feedback.incident_lost_time",
)
def lost_time_of_incident(event: Event) -> None:
    # A linked ticket brings its answers; a review completed or published has its figure up to date.
    incident_lost_time_recount(incident_id=event.data["incident_id"])


@subscriber("response.recorded", "responses.ingested", name="feedback.incident_lost_time_of_responses")
def lost_time_of_responses(event: Event) -> None:
    ids = event.data.get("response_ids") or [event.data["response_id"]]
    for incident_id in sorted(incidents_of_responses(ids)):
        incident_lost_time_recount(incident_id=incident_id)

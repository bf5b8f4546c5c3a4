"""Feedback's subscribers to lower floors' events: a resolved ticket invites its requester (DESIGN flow 1)."""

from __future__ import annotations

from serviceloop.core.events import subscriber
from serviceloop.core.models import Event
from serviceloop.desk.mail_out import resolution_notice_due
from serviceloop.feedback.services.invitations import invitation_for_resolved_ticket


@subscriber("ticket.resolved", name="feedback.invite_after_ticket_resolved")
def invite_after_ticket_resolved(event: Event) -> None:
    # When the desk mails the requester the resolution, the survey rides in that notice (feedback's
    # MAIL_PARTS, recorded in the notice's transaction): one mail, not two. Otherwise it goes alone.
    if resolution_notice_due(event_id=event.data.get("event_id")):
        return
    # At least once: the throttle and the one-invitation-per-ticket rule make a repeat harmless.
    invitation_for_resolved_ticket(ticket_id=event.data["ticket_id"])


# Major incidents (a later issue) will subscribe here: after a major incident is resolved, offer
# feedback to every affected organisation with `invitation_create(trigger=Trigger.MAJOR_INCIDENT, ...)`.

"""Reactions to other apps' signals: a resolved ticket invites its requester (DESIGN flow 1)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from serviceloop.desk.signals import ticket_resolved
from serviceloop.feedback.services.invitations import invitation_for_resolved_ticket


@receiver(ticket_resolved, dispatch_uid="feedback.invite_after_ticket_resolved")
def invite_after_ticket_resolved(sender: Any, ticket_id: int, **kwargs: Any) -> None:
    # The desk sends this after commit; the throttle and the one-per-ticket rule make a repeat harmless.
    invitation_for_resolved_ticket(ticket_id=ticket_id)


# Major incidents (a later issue) will connect here: after a major incident is resolved, offer
# feedback to every affected organisation with `invitation_create(trigger=Trigger.MAJOR_INCIDENT, ...)`.

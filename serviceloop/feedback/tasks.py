"""Feedback background work: thin, idempotent, ids in."""

from __future__ import annotations

from celery import shared_task

from serviceloop.feedback.services.invitations import relationship_invitations_send


@shared_task
def send_relationship_surveys() -> int:
    """Daily: invite customer and sponsor roles whose periodic NPS survey is due (throttled 1 in 90 days)."""
    return relationship_invitations_send()

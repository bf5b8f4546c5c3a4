"""Feedback background work: thin, idempotent, ids in."""

from __future__ import annotations

from celery import shared_task

from serviceloop.feedback.services.integrity import integrity_housekeeping
from serviceloop.feedback.services.invitations import relationship_invitations_send
from serviceloop.feedback.services.link_clicks import link_clicks_settle


@shared_task
def send_relationship_surveys() -> int:
    """Daily: invite customer and sponsor roles whose periodic NPS survey is due (throttled 1 in 90 days)."""
    return relationship_invitations_send()


@shared_task(name="serviceloop.feedback.tasks.count_link_clicks", soft_time_limit=50, time_limit=60)
def count_link_clicks() -> int:
    """Every 10 s: one-click answers whose scanner window passed with no other button fetched count now."""
    return link_clicks_settle()


@shared_task(name="serviceloop.feedback.tasks.housekeeping", soft_time_limit=240, time_limit=300)
def housekeeping() -> dict[str, int]:
    """Hourly: forget used widget tickets, QR marks and link clicks that can no longer matter."""
    return integrity_housekeeping()

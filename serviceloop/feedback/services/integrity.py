"""Housekeeping of the integrity marks: used widget tickets, QR answer marks, settled link clicks."""

from __future__ import annotations

from datetime import timedelta

from serviceloop.core import clock
from serviceloop.feedback.channel_guards import WIDGET_TICKET_HOURS
from serviceloop.feedback.links import link_days
from serviceloop.feedback.models import QrAnswerMark, WidgetTicketUse
from serviceloop.feedback.services.channels import qr_repeat_window
from serviceloop.feedback.services.link_clicks import link_clicks_forget


def integrity_housekeeping() -> dict[str, int]:
    """Forget what can no longer refuse anything: tickets past their age, marks past their window."""
    now = clock.now()
    # A used ticket must be remembered as long as the ticket itself would be accepted.
    tickets, _ = WidgetTicketUse.objects.filter(created_at__lt=now - timedelta(hours=WIDGET_TICKET_HOURS + 1)).delete()
    marks, _ = QrAnswerMark.objects.filter(answered_at__lt=now - qr_repeat_window()).delete()
    clicks = link_clicks_forget(older_than=timedelta(days=link_days() + 1))
    return {"widget_tickets": tickets, "qr_marks": marks, "link_clicks": clicks}

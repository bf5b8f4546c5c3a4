"""Reminders of reviews and their actions, sent by the hourly beat task (tasks.review_reminders).

- the owner of a draft review is mailed when it is due within a day, and every day it is overdue;
- the owner of an open action is mailed every day the action is overdue (its due date has passed).

Each mail has a Message-ID made of the row and the UTC date, so however often the task runs (and a
worker retrying it), each owner gets at most one mail per review or action and day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from serviceloop.core.mail import OutboundEmail, email_queue
from serviceloop.incidents.models import Review, ReviewAction

DUE_SOON = timedelta(days=1)


def _domain() -> str:
    address = str(getattr(settings, "SERVICELOOP_MAIL_ADDRESS", "") or settings.DEFAULT_FROM_EMAIL)
    return address.rpartition("@")[2].strip(" >").lower() or "serviceloop.localhost"


def _review_url(review: Review) -> str:
    return f"{settings.SITE_URL}{reverse('incidents:review', kwargs={'public_id': review.incident.public_id})}"


def _review_mail(review: Review, now: datetime) -> OutboundEmail | None:
    if review.owner is None or not review.owner.email or not review.owner.is_active:
        return None
    overdue = review.due_at <= now
    incident = review.incident
    day = now.astimezone(UTC).date().isoformat()
    due = review.due_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    state = "overdue" if overdue else "due"
    if overdue:
        text = f"The post-incident review of {incident.reference} {incident.title} is overdue: it was due {due}.\n\n"
    else:
        text = f"The post-incident review of {incident.reference} {incident.title} is due {due}.\n\n"
    text += f"Complete it here: {_review_url(review)}\n"
    return OutboundEmail(
        to=[review.owner.email],
        subject=f"[{incident.reference}] Review {state}: {incident.title}"[:300],
        text=text,
        headers={"Message-ID": f"<review-{state}-{review.public_id}-{day}@{_domain()}>"},
    )


def _action_mail(action: ReviewAction, now: datetime) -> OutboundEmail | None:
    if action.owner is None or not action.owner.email or not action.owner.is_active:
        return None
    review = action.review
    incident = review.incident
    day = now.astimezone(UTC).date().isoformat()
    text = (
        f"The follow-up action “{action.title}” ({action.get_kind_display().lower()}) of the review of "
        f"{incident.reference} {incident.title} was due {action.due_on.isoformat()} and is still open.\n\n"
        f"Close it, or change its due date, here: {_review_url(review)}\n"
    )
    return OutboundEmail(
        to=[action.owner.email],
        subject=f"[{incident.reference}] Action overdue: {action.title}"[:300],
        text=text,
        headers={"Message-ID": f"<review-action-overdue-{action.public_id}-{day}@{_domain()}>"},
    )


def review_reminders_send(*, now: datetime) -> int:
    """Queue today's reminders; returns how many mails were considered (already queued ones are
    not queued again: the Message-ID says so)."""
    queued = 0
    reviews = Review.objects.filter(status=Review.Status.DRAFT, due_at__lte=now + DUE_SOON).select_related(
        "owner", "incident"
    )
    today = now.astimezone(UTC).date()
    actions = ReviewAction.objects.filter(status=ReviewAction.Status.OPEN, due_on__lt=today).select_related(
        "owner", "review__incident"
    )
    with transaction.atomic():
        for review in reviews:
            mail = _review_mail(review, now)
            if mail is not None:
                email_queue(mail)
                queued += 1
        for action in actions:
            mail = _action_mail(action, now)
            if mail is not None:
                email_queue(mail)
                queued += 1
    return queued

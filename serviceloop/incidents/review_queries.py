"""Reads of reviews for the pages and the API: staff only (a customer is refused before any lookup)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from serviceloop.core import clock
from serviceloop.core.errors import NotAllowed
from serviceloop.incidents.models import Incident, Review, ReviewAction


def require_staff(viewer: Any) -> None:
    if not getattr(viewer, "is_staff_member", False):
        raise NotAllowed("not_staff", "Post-incident reviews are for the provider's staff.")


def incident_for_review(*, viewer: Any, public_id: str) -> Incident:
    require_staff(viewer)
    incident = Incident.objects.filter(public_id=public_id, kind=Incident.Kind.INCIDENT).first()
    if incident is None:
        raise Http404("No such incident.")
    return incident


def review_of(*, viewer: Any, incident_public_id: str) -> Review:
    incident = incident_for_review(viewer=viewer, public_id=incident_public_id)
    review = Review.objects.filter(incident=incident).select_related("incident", "owner").first()
    if review is None:
        raise Http404("This incident has no review yet.")
    return review


def review_action_of(*, viewer: Any, review: Review, action_public_id: str) -> ReviewAction:
    require_staff(viewer)
    action = ReviewAction.objects.filter(review=review, public_id=action_public_id).select_related("owner").first()
    if action is None:
        raise Http404("No such action.")
    return action


def reviews_list(*, viewer: Any, state: str = "") -> QuerySet[Review]:
    """Reviews, soonest due first: state "due" (draft, not yet due), "overdue", "completed" (or published)."""
    require_staff(viewer)
    rows = Review.objects.select_related("incident", "owner").order_by("due_at", "pk")
    now = clock.now()
    if state == "due":
        rows = rows.filter(status=Review.Status.DRAFT, due_at__gt=now)
    elif state == "overdue":
        rows = rows.filter(status=Review.Status.DRAFT, due_at__lte=now)
    elif state == "completed":
        rows = rows.exclude(status=Review.Status.DRAFT).order_by("-completed_at", "-pk")
    return rows

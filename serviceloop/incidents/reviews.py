"""Post-incident reviews: open, edit, complete, publish, and their follow-up actions (DOMAIN §6).

A review opens by itself when a major incident (SEV1/SEV2) is resolved (`receivers.review_open`),
or by hand for any incident. It is due `SERVICELOOP_REVIEW_DUE_DAYS[severity]` calendar days after
resolution (PagerDuty: 3 days for Sev-1, 5 for Sev-2). It is blameless: "human error" is refused as
a contributing factor (Rootly's template). It completes once the root cause is known, a customer
summary is written and it has at least one action, or the reviewer says explicitly that no action
is needed (`no_actions=True`, kept in the REVIEW_COMPLETED event). Publishing puts the customer
summary on the status page (the incident reads "postmortem" there).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from serviceloop.accounts.models import User
from serviceloop.core import clock
from serviceloop.core.errors import ConflictError, InvalidInput, NotAllowed
from serviceloop.core.events import event_record
from serviceloop.incidents.events import REVIEW_ACTION_CLOSED, REVIEW_COMPLETED, REVIEW_PUBLISHED
from serviceloop.incidents.models import Incident, Review, ReviewAction

MAX_FACTORS = 30
MAX_FACTOR_LENGTH = 500
MAX_TEXT = 20000
# "human error", "human-error", "Human  Error" …: blameless reviews name the conditions instead.
HUMAN_ERROR = re.compile(r"\bhuman[\s_-]*errors?\b", re.IGNORECASE)
BLAMELESS = (
    'Reviews are blameless: instead of "human error", name what made the slip possible '
    "(a missing check, an unclear runbook, an alert that did not fire)."
)
EDITABLE = ("root_cause_category", "root_cause", "contributing_factors", "resolution", "customer_summary", "owner")


def _require_staff(by: Any) -> None:
    if not getattr(by, "is_staff_member", False):
        raise NotAllowed("not_staff", "Only the provider's staff work on reviews.")


def _owner(owner: Any, field: str = "owner") -> User | None:
    if owner is None:
        return None
    if not isinstance(owner, User) or not owner.is_active or not owner.is_staff_member:
        raise InvalidInput("invalid_owner", "The owner is an active member of the provider's staff.", field=field)
    return owner


def review_due_at(*, severity: str, resolved_at: datetime) -> datetime:
    """When the review of an incident of this severity resolved at `resolved_at` is due."""
    days = settings.SERVICELOOP_REVIEW_DUE_DAYS.get(str(severity), 10)
    return resolved_at + timedelta(days=days)


def review_open(*, incident: Incident, by: Any = None) -> Review:
    """Open the incident's review (or return the one it has). `by` None: the system (at resolution)."""
    if by is not None:
        _require_staff(by)
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        existing = Review.objects.filter(incident=incident).first()
        if existing is not None:
            return existing
        if incident.kind != Incident.Kind.INCIDENT:
            raise InvalidInput("not_an_incident", "A scheduled maintenance has no post-incident review.")
        if incident.resolved_at is None:
            raise ConflictError("not_resolved", "A review opens once the incident is resolved.")
        return Review.objects.create(
            incident=incident,
            owner=incident.owner,
            due_at=review_due_at(severity=incident.severity, resolved_at=incident.resolved_at),
        )


def review_open_after_resolution(*, incident_id: int) -> Review | None:
    """The subscriber's work: a resolved major incident gets its review, once."""
    incident = Incident.objects.filter(pk=incident_id).first()
    if incident is None or not incident.is_major or incident.resolved_at is None:
        return None
    return review_open(incident=incident)


def _factors(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidInput(
            "invalid_factors", "Contributing factors are a list of sentences.", field="contributing_factors"
        )
    factors = [" ".join(item.split()) for item in value]
    factors = [item for item in factors if item]
    if len(factors) > MAX_FACTORS:
        raise InvalidInput(
            "too_many_factors", f"At most {MAX_FACTORS} contributing factors.", field="contributing_factors"
        )
    for item in factors:
        if len(item) > MAX_FACTOR_LENGTH:
            raise InvalidInput(
                "factor_too_long",
                f"A contributing factor has at most {MAX_FACTOR_LENGTH} characters.",
                field="contributing_factors",
            )
        if HUMAN_ERROR.search(item):
            raise InvalidInput("blameless", BLAMELESS, field="contributing_factors")
    return factors


def _clean(review: Review, field: str, value: Any) -> Any:
    if field == "owner":
        return _owner(value)
    if field == "contributing_factors":
        return _factors(value)
    if field == "root_cause_category":
        if value not in Review.RootCause.values:
            raise InvalidInput("invalid_category", "Choose one of the root-cause categories.", field=field)
        return value
    if not isinstance(value, str):
        raise InvalidInput("invalid", "This is text.", field=field)
    if len(value) > MAX_TEXT:
        raise InvalidInput("too_long", f"At most {MAX_TEXT} characters.", field=field)
    return value.strip()


def review_update(*, review: Review, by: Any, **changes: Any) -> Review:
    """Change the fields named; a published review keeps all but its owner (its summary is public)."""
    _require_staff(by)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput("unknown_field", f"Cannot change {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    with transaction.atomic():
        review = Review.objects.select_for_update().get(pk=review.pk)
        cleaned = {field: _clean(review, field, value) for field, value in changes.items()}
        if review.status == Review.Status.PUBLISHED and set(cleaned) - {"owner"}:
            raise ConflictError("published", "A published review is on the status page; it can no longer change.")
        if review.status == Review.Status.COMPLETED:
            if cleaned.get("root_cause_category") == Review.RootCause.UNKNOWN:
                raise InvalidInput(
                    "root_cause_needed", "A completed review keeps a known root cause.", field="root_cause_category"
                )
            if "customer_summary" in cleaned and not cleaned["customer_summary"]:
                raise InvalidInput(
                    "summary_needed", "A completed review keeps its customer summary.", field="customer_summary"
                )
        for field, value in cleaned.items():
            setattr(review, field, value)
        review.save()
    return review


def review_complete(*, review: Review, by: Any, no_actions: bool = False) -> Review:
    """Complete a draft review. It needs a known root-cause category, a customer summary, and at
    least one action not dropped, or `no_actions=True` (said on purpose, kept in the event)."""
    _require_staff(by)
    with transaction.atomic():
        review = Review.objects.select_for_update().select_related("incident").get(pk=review.pk)
        if review.status != Review.Status.DRAFT:
            raise ConflictError("not_draft", "This review is already completed.")
        if review.root_cause_category == Review.RootCause.UNKNOWN:
            raise InvalidInput(
                "root_cause_needed",
                "Choose a root-cause category before completing the review.",
                field="root_cause_category",
            )
        if not review.customer_summary.strip():
            raise InvalidInput(
                "summary_needed", "Write the customer summary before completing the review.", field="customer_summary"
            )
        actions = review.actions.exclude(status=ReviewAction.Status.DROPPED).count()
        if actions == 0 and not no_actions:
            raise InvalidInput(
                "actions_needed",
                "Add at least one follow-up action, or say that none is needed.",
                field="no_actions",
            )
        review.status = Review.Status.COMPLETED
        review.completed_at = clock.now()
        review.save()
        event_record(
            REVIEW_COMPLETED,
            subject=review.incident,
            by=by,
            incident_id=review.incident_id,
            review_id=review.pk,
            no_actions=actions == 0,
        )
    return review


def review_publish(*, review: Review, by: Any) -> Review:
    """Publish a completed review: its customer summary goes on the status page."""
    _require_staff(by)
    if not getattr(by, "can_manage_services", False):
        raise NotAllowed("not_manager", "Only administrators and service managers publish a review.")
    with transaction.atomic():
        review = Review.objects.select_for_update().select_related("incident").get(pk=review.pk)
        if review.status == Review.Status.PUBLISHED:
            return review
        if review.status != Review.Status.COMPLETED:
            raise ConflictError("not_completed", "Complete the review before publishing it.")
        review.status = Review.Status.PUBLISHED
        review.published_at = clock.now()
        review.save()
        event_record(
            REVIEW_PUBLISHED,
            subject=review.incident,
            by=by,
            incident_id=review.incident_id,
            review_id=review.pk,
            published_at=review.published_at,
        )
    return review


def _action_fields(*, title: Any = None, kind: Any = None, due_on: Any = None) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if title is not None:
        text = " ".join(str(title).split())
        if not text or len(text) > 300:
            raise InvalidInput("invalid_title", "An action has a title of 1 to 300 characters.", field="title")
        fields["title"] = text
    if kind is not None:
        if kind not in ReviewAction.Kind.values:
            raise InvalidInput(
                "invalid_kind", "The kind is prevent, detect, mitigate, communicate or knowledge.", field="kind"
            )
        fields["kind"] = kind
    if due_on is not None:
        if not isinstance(due_on, date) or isinstance(due_on, datetime):
            raise InvalidInput("invalid_due", "The due date is a date.", field="due_on")
        fields["due_on"] = due_on
    return fields


def review_action_add(
    *, review: Review, by: Any, title: str, kind: str, due_on: date, owner: User | None = None
) -> ReviewAction:
    """Add a follow-up action (owner, due date, kind) to a review that is not published yet."""
    _require_staff(by)
    fields = _action_fields(title=title, kind=kind, due_on=due_on)
    with transaction.atomic():
        review = Review.objects.select_for_update().get(pk=review.pk)
        if review.status == Review.Status.PUBLISHED:
            raise ConflictError("published", "A published review takes no new actions.")
        return ReviewAction.objects.create(review=review, owner=_owner(owner), **fields)


def review_action_update(*, action: ReviewAction, by: Any, **changes: Any) -> ReviewAction:
    """Change an open action's title, kind, owner or due date."""
    _require_staff(by)
    unknown = set(changes) - {"title", "kind", "due_on", "owner"}
    if unknown:
        raise InvalidInput("unknown_field", f"Cannot change {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    with transaction.atomic():
        action = ReviewAction.objects.select_for_update().get(pk=action.pk)
        if action.status != ReviewAction.Status.OPEN:
            raise ConflictError("closed", "This action is closed.")
        fields = _action_fields(**{key: changes[key] for key in ("title", "kind", "due_on") if key in changes})
        if "owner" in changes:
            fields["owner"] = _owner(changes["owner"])
        for key, value in fields.items():
            setattr(action, key, value)
        action.save()
    return action


def review_action_close(*, action: ReviewAction, by: Any, outcome: str = ReviewAction.Status.DONE) -> ReviewAction:
    """Close an action as done or dropped; records REVIEW_ACTION_CLOSED with the review's share closed."""
    from serviceloop.incidents.measures import actions_closed_share

    _require_staff(by)
    if outcome not in (ReviewAction.Status.DONE, ReviewAction.Status.DROPPED):
        raise InvalidInput("invalid_outcome", "An action closes as done or dropped.", field="outcome")
    with transaction.atomic():
        action = ReviewAction.objects.select_for_update().select_related("review").get(pk=action.pk)
        if action.status != ReviewAction.Status.OPEN:
            raise ConflictError("closed", "This action is already closed.")
        action.status = outcome
        action.closed_at = clock.now()
        action.save()
        review = action.review
        event_record(
            REVIEW_ACTION_CLOSED,
            subject=Incident.objects.get(pk=review.incident_id),
            by=by,
            incident_id=review.incident_id,
            review_id=review.pk,
            action_id=action.pk,
            outcome=outcome,
            share_closed=actions_closed_share(review),
        )
    return action

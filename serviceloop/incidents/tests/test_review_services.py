"""Reviews open at resolution, are blameless, complete with what they need, publish, and follow their actions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from serviceloop.accounts.models import User
from serviceloop.core.errors import ConflictError, InvalidInput, NotAllowed
from serviceloop.core.models import Event, OutgoingMail
from serviceloop.incidents import events as names
from serviceloop.incidents.models import Review, ReviewAction
from serviceloop.incidents.review_reminders import review_reminders_send
from serviceloop.incidents.review_settings import review_due_days
from serviceloop.incidents.reviews import (
    review_action_add,
    review_action_close,
    review_action_update,
    review_complete,
    review_open,
    review_publish,
    review_update,
)
from serviceloop.incidents.tests.factories_review import make_incident, make_review, resolve

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 12, 1, 10, tzinfo=UTC)


def test_resolving_a_major_incident_opens_its_review_once(sam: User, django_capture_on_commit_callbacks: Any) -> None:
    incident = make_incident(declared_at=T0, owner=sam, severity="sev1")
    with django_capture_on_commit_callbacks(execute=True):
        resolve(incident, T0 + timedelta(hours=2))
    review = Review.objects.get(incident=incident)
    assert review.owner == sam and review.status == Review.Status.DRAFT
    assert review.due_at == T0 + timedelta(hours=2, days=3)
    # Delivered again (at least once): still one review.
    from serviceloop.incidents.receivers import review_open as receiver

    receiver(Event.objects.get(name=names.INCIDENT_RESOLVED))
    assert Review.objects.filter(incident=incident).count() == 1


def test_sev2_is_due_after_five_days_and_a_minor_incident_gets_none(
    sam: User, django_capture_on_commit_callbacks: Any
) -> None:
    major = make_incident(declared_at=T0, severity="sev2")
    minor = make_incident(declared_at=T0, severity="sev3")
    with django_capture_on_commit_callbacks(execute=True):
        resolve(major, T0 + timedelta(hours=1))
        resolve(minor, T0 + timedelta(hours=1))
    assert Review.objects.get(incident=major).due_at == T0 + timedelta(hours=1, days=5)
    assert not Review.objects.filter(incident=minor).exists()
    # Staff may open one by hand for the minor incident (due after 10 days: no sev3 in the setting).
    review = review_open(incident=minor, by=sam)
    assert review.due_at == T0 + timedelta(hours=1, days=10)


def test_a_review_opens_only_once_the_incident_is_resolved(sam: User, carol: User) -> None:
    incident = make_incident(declared_at=T0)
    with pytest.raises(ConflictError):
        review_open(incident=incident, by=sam)
    with pytest.raises(NotAllowed):
        review_open(incident=incident, by=carol)


def test_the_due_days_setting_is_validated() -> None:
    with pytest.raises(ImproperlyConfigured, match="sev9=2"):
        review_due_days("SERVICELOOP_REVIEW_DUE_DAYS", "sev1=3,sev9=2")
    with pytest.raises(ImproperlyConfigured, match="sev1=0"):
        review_due_days("SERVICELOOP_REVIEW_DUE_DAYS", "sev1=0")
    assert review_due_days("SERVICELOOP_REVIEW_DUE_DAYS", "sev1=1, SEV3=4") == {
        "sev1": 1,
        "sev2": 10,
        "sev3": 4,
        "sev4": 10,
    }


def _review(owner: User) -> Review:
    incident = make_incident(declared_at=T0, owner=owner, status="resolved", resolved_at=T0 + timedelta(hours=1))
    return make_review(incident, due_at=T0 + timedelta(days=3), owner=owner)


@pytest.mark.parametrize("factor", ["Human error", "human-error by the on-call", "  HUMAN   errors  "])
def test_human_error_is_refused_as_a_factor(sam: User, factor: str) -> None:
    review = _review(sam)
    with pytest.raises(InvalidInput, match="blameless") as raised:
        review_update(review=review, by=sam, contributing_factors=["Runbook out of date", factor])
    assert raised.value.field == "contributing_factors"
    review.refresh_from_db()
    assert review.contributing_factors == []


def test_completion_needs_a_cause_a_summary_and_actions_or_an_explicit_none(sam: User) -> None:
    review = _review(sam)
    with pytest.raises(InvalidInput) as raised:
        review_complete(review=review, by=sam)
    assert raised.value.field == "root_cause_category"
    review_update(review=review, by=sam, root_cause_category="configuration", root_cause="A bad route")
    with pytest.raises(InvalidInput) as raised:
        review_complete(review=review, by=sam)
    assert raised.value.field == "customer_summary"
    review_update(review=review, by=sam, customer_summary="A configuration change delayed mail for 2 hours.")
    with pytest.raises(InvalidInput) as raised:
        review_complete(review=review, by=sam)
    assert raised.value.field == "no_actions"
    review_complete(review=review, by=sam, no_actions=True)
    review.refresh_from_db()
    assert review.status == Review.Status.COMPLETED and review.completed_at is not None
    event = Event.objects.get(name=names.REVIEW_COMPLETED)
    assert event.data == {"incident_id": review.incident_id, "review_id": review.pk, "no_actions": True}
    with pytest.raises(ConflictError):
        review_complete(review=review, by=sam)
    with pytest.raises(InvalidInput):
        review_update(review=review, by=sam, root_cause_category="unknown")


def test_publishing_needs_completion_and_a_manager(sam: User, alex: User) -> None:
    review = _review(sam)
    with pytest.raises(ConflictError):
        review_publish(review=review, by=sam)
    review_update(review=review, by=alex, root_cause_category="change", customer_summary="A release broke mail.")
    review_action_add(review=review, by=alex, title="Canary releases", kind="prevent", due_on=date(2026, 12, 20))
    review_complete(review=review, by=alex)
    with pytest.raises(NotAllowed):
        review_publish(review=review, by=alex)
    review_publish(review=review, by=sam)
    review.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED and review.published_at is not None
    assert Event.objects.filter(name=names.REVIEW_PUBLISHED, subject_id=review.incident_id).count() == 1
    with pytest.raises(ConflictError):
        review_update(review=review, by=sam, customer_summary="changed")


def test_closing_actions_records_the_share_closed(sam: User, alex: User) -> None:
    review = _review(sam)
    first = review_action_add(
        review=review, by=sam, title="Alert on queue", kind="detect", due_on=date(2026, 12, 9), owner=alex
    )
    second = review_action_add(review=review, by=sam, title="Runbook", kind="knowledge", due_on=date(2026, 12, 9))
    third = review_action_add(review=review, by=sam, title="Spare", kind="mitigate", due_on=date(2026, 12, 9))
    review_action_update(action=second, by=sam, title="Write the fail-over runbook", owner=alex)
    review_action_close(action=third, by=sam, outcome="dropped")
    review_action_close(action=first, by=sam)
    shares = [e.data["share_closed"] for e in Event.objects.filter(name=names.REVIEW_ACTION_CLOSED).order_by("pk")]
    assert shares == [0.0, 0.5]
    with pytest.raises(ConflictError):
        review_action_close(action=first, by=sam)
    with pytest.raises(InvalidInput) as raised:
        review_action_add(review=review, by=sam, title="x", kind="blame", due_on=date(2026, 12, 9))
    assert raised.value.field == "kind"
    second.refresh_from_db()
    assert second.title == "Write the fail-over runbook" and second.status == ReviewAction.Status.OPEN


def test_reminders_go_once_a_day_to_review_and_action_owners(sam: User, alex: User) -> None:
    review = _review(sam)  # due T0 + 3 days
    review_action_add(review=review, by=sam, title="Alert", kind="detect", due_on=date(2026, 12, 2), owner=alex)
    assert review_reminders_send(now=T0 + timedelta(days=1)) == 0  # not due within a day, action not late
    day2 = T0 + timedelta(days=2, hours=1)
    review_reminders_send(now=day2)
    review_reminders_send(now=day2 + timedelta(hours=3))
    mails = list(OutgoingMail.objects.order_by("pk"))
    assert [(m.to, m.subject.split(":")[0]) for m in mails] == [
        ([sam.email], f"[{review.incident.reference}] Review due"),
        ([alex.email], f"[{review.incident.reference}] Action overdue"),
    ]
    review_reminders_send(now=T0 + timedelta(days=3, hours=1))  # overdue now: one more of each
    assert OutgoingMail.objects.count() == 4
    assert OutgoingMail.objects.filter(subject__contains="Review overdue").count() == 1


def test_the_beat_runs_the_reminders_hourly(sam: User, travel: Any, settings: Any) -> None:
    from serviceloop.incidents.tasks import review_reminders

    entry = settings.CELERY_BEAT_SCHEDULE["incidents-review-reminders"]
    assert entry == {"task": "serviceloop.incidents.tasks.review_reminders", "schedule": 3600.0}
    review = _review(sam)
    travel.to(review.due_at + timedelta(hours=1))
    assert review_reminders.delay().get() == 1
    assert OutgoingMail.objects.filter(to=[sam.email], subject__contains="Review overdue").count() == 1

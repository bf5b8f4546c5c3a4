"""Reads of the outbox: the event log (the audit trail) for staff, and its health for administrators.

The event log tells who changed what, when; customers never read it, so every query here checks
the viewer first and raises PermissionDenied before it touches a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import Count, Min, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from serviceloop.core import clock
from serviceloop.core.models import Event, EventDelivery, OutgoingMail
from serviceloop.core.visibility import is_staff_viewer

# Free text is matched against the stored label only: a bounded LIKE on one column, never the JSON.
MAX_TEXT = 200


def require_administrator(viewer: object) -> None:
    if not (getattr(viewer, "is_authenticated", False) and getattr(viewer, "is_administrator", False)):
        raise PermissionDenied("Only administrators may do this.")


def _require_staff(viewer: object) -> None:
    if not is_staff_viewer(viewer):
        raise PermissionDenied("The event log is for the provider's staff.")


def _day_start(day: date | datetime) -> datetime:
    if isinstance(day, datetime):
        return day if timezone.is_aware(day) else timezone.make_aware(day)
    # A date means the viewer's day, so "from 3 March" includes the morning of 3 March where they are.
    return timezone.make_aware(datetime.combine(day, time.min))


def event_log(
    viewer: object,
    *,
    name: str | None = None,
    subject_type: str | None = None,
    subject_id: int | None = None,
    actor_id: int | None = None,
    actor_email: str | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    q: str | None = None,
) -> QuerySet[Event]:
    """The events staff may read, newest first, narrowed by the given filters.

    `until` is inclusive of a whole day when given as a date: "to 3 March" includes 3 March.
    """
    _require_staff(viewer)
    events = Event.objects.order_by("-created_at", "-pk")
    if name:
        events = events.filter(name=name)
    if subject_type:
        events = events.filter(subject_type=subject_type)
    if subject_id is not None:
        events = events.filter(subject_id=subject_id)
    if actor_id is not None:
        events = events.filter(actor_id=actor_id)
    if actor_email:
        events = events.filter(_actor_matching(actor_email.strip()))
    if since is not None:
        events = events.filter(created_at__gte=_day_start(since))
    if isinstance(until, datetime):
        events = events.filter(created_at__lte=_day_start(until))
    elif until is not None:
        events = events.filter(created_at__lt=_day_start(until) + timedelta(days=1))
    if q:
        events = events.filter(subject_label__icontains=q.strip()[:MAX_TEXT])
    return events


def _actor_matching(email: str) -> Q:
    # The login's current address finds its events under an older address too (the id is kept);
    # the label finds events of a login that has since been deleted.
    users = get_user_model().objects.filter(email__iexact=email).values_list("pk", flat=True)
    return Q(actor_id__in=list(users)) | Q(actor_label__iexact=email)


def event_names() -> list[str]:
    """Every event name recorded so far, for the filter's select (a DISTINCT over the name index)."""
    return list(Event.objects.order_by("name").values_list("name", flat=True).distinct())


def subject_types() -> list[str]:
    return list(
        Event.objects.exclude(subject_type="")
        .order_by("subject_type")
        .values_list("subject_type", flat=True)
        .distinct()
    )


def _subject_model(subject_type: str) -> Any:
    app_label, _, model_name = subject_type.partition(".")
    if not app_label or not model_name:
        raise Http404("No such kind of object.")
    try:
        model = apps.get_model(app_label, model_name)
    except (LookupError, ValueError) as error:
        raise Http404("No such kind of object.") from error
    # Only our own rows have a history; Django's tables (sessions, permissions) are not subjects.
    if not model._meta.app_config.name.startswith("serviceloop."):
        raise Http404("No such kind of object.")
    return model


def subject_pk(*, subject_type: str, public_id: str) -> int:
    """The row id behind a `subject_type` and public id, so URLs name objects by their public id.

    Resolved through the app registry, not an import: core stands below the apps it looks into.
    """
    model = _subject_model(subject_type)
    try:
        model._meta.get_field("public_id")
    except FieldDoesNotExist as error:
        raise Http404("This kind of object has no history page.") from error
    pk = model._default_manager.filter(public_id=public_id).values_list("pk", flat=True).first()
    if pk is None:
        raise Http404("No such object.")
    return int(pk)


def subject_public_ids(events: list[Event]) -> dict[tuple[str, int], str]:
    """Public ids of the rows a page of events is about, one query per kind of object on the page."""
    wanted: dict[str, set[int]] = {}
    for event in events:
        if event.subject_type and event.subject_id is not None:
            wanted.setdefault(event.subject_type, set()).add(event.subject_id)
    found: dict[tuple[str, int], str] = {}
    for subject_type, ids in wanted.items():
        try:
            model = _subject_model(subject_type)
            model._meta.get_field("public_id")
        except (Http404, FieldDoesNotExist):
            continue
        for pk, public_id in model._default_manager.filter(pk__in=ids).values_list("pk", "public_id"):
            found[(subject_type, pk)] = public_id
    return found


def object_history_count(obj: Any) -> int:
    return Event.objects.filter(subject_type=obj._meta.label_lower, subject_id=obj.pk).count()


@dataclass(frozen=True)
class OutboxSummary:
    mails_pending: int
    mails_sending: int
    mails_failed: int
    oldest_pending_mail_at: datetime | None
    deliveries_pending: int
    deliveries_failed: int
    events_pending: int
    oldest_pending_event_at: datetime | None

    @property
    def oldest_pending_mail_age(self) -> timedelta | None:
        return clock.now() - self.oldest_pending_mail_at if self.oldest_pending_mail_at else None

    @property
    def oldest_pending_event_age(self) -> timedelta | None:
        return clock.now() - self.oldest_pending_event_at if self.oldest_pending_event_at else None

    @property
    def healthy(self) -> bool:
        return not (self.mails_failed or self.deliveries_failed)


def outbox_summary() -> OutboxSummary:
    """How the outbox is doing: what waits and what failed, and how long the oldest has waited."""
    mails = OutgoingMail.objects.aggregate(
        pending=Count("pk", filter=Q(status=OutgoingMail.Status.PENDING)),
        sending=Count("pk", filter=Q(status=OutgoingMail.Status.SENDING)),
        failed=Count("pk", filter=Q(status=OutgoingMail.Status.FAILED)),
        oldest=Min("created_at", filter=Q(status__in=[OutgoingMail.Status.PENDING, OutgoingMail.Status.SENDING])),
    )
    deliveries = EventDelivery.objects.aggregate(
        pending=Count("pk", filter=Q(status=EventDelivery.Status.PENDING)),
        failed=Count("pk", filter=Q(status=EventDelivery.Status.FAILED)),
    )
    # The partial index on next_attempt_at holds exactly the events not yet delivered everywhere.
    events = Event.objects.filter(completed_at__isnull=True).aggregate(count=Count("pk"), oldest=Min("created_at"))
    return OutboxSummary(
        mails_pending=mails["pending"],
        mails_sending=mails["sending"],
        mails_failed=mails["failed"],
        oldest_pending_mail_at=mails["oldest"],
        deliveries_pending=deliveries["pending"],
        deliveries_failed=deliveries["failed"],
        events_pending=events["count"],
        oldest_pending_event_at=events["oldest"],
    )


def failed_mails() -> QuerySet[OutgoingMail]:
    return OutgoingMail.objects.filter(status=OutgoingMail.Status.FAILED).order_by("-next_attempt_at", "-pk")


def failed_deliveries() -> QuerySet[EventDelivery]:
    return (
        EventDelivery.objects.filter(status=EventDelivery.Status.FAILED)
        .select_related("event")
        .order_by("-last_attempt_at", "-pk")
    )


def mail_for(viewer: object, *, public_id: str) -> OutgoingMail:
    require_administrator(viewer)
    mail = OutgoingMail.objects.filter(public_id=public_id).first()
    if mail is None:
        raise Http404("No such mail.")
    return mail


def delivery_for(viewer: object, *, public_id: str) -> EventDelivery:
    require_administrator(viewer)
    delivery = EventDelivery.objects.filter(public_id=public_id).select_related("event").first()
    if delivery is None:
        raise Http404("No such delivery.")
    return delivery

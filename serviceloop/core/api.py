"""The core API: the event log (staff) and the outbox's health and retries (administrators)."""

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from serviceloop.core import queries
from serviceloop.core.errors import InvalidInput
from serviceloop.core.events import delivery_retry
from serviceloop.core.mail import mail_retry
from serviceloop.core.models import Event, EventDelivery, OutgoingMail
from serviceloop.core.pagination import LimitOffset
from serviceloop.core.schemas import BoundedDate, ErrorOut

router = Router(tags=["operations"])

ERR = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}
ERR_404 = {**ERR, 404: ErrorOut}
PublicId = Annotated[str, Field(min_length=1, max_length=24)]


class AuditEventOut(Schema):
    public_id: str
    name: str
    subject_type: str
    subject_label: str
    data: dict[str, Any]
    actor: str | None
    created_at: datetime

    @staticmethod
    def resolve_actor(event: Event) -> str | None:
        return event.actor_label or None

    @staticmethod
    def resolve_data(event: Event) -> dict[str, Any]:
        return event.data if isinstance(event.data, dict) else {"value": event.data}


class EventFilters(Schema):
    name: str | None = Field(None, max_length=80)
    subject_type: str | None = Field(None, max_length=80)
    subject: str | None = Field(
        None, max_length=120, description="One object's history: `<kind>:<public id>`, e.g. `desk.ticket:7hq2mx4kp9ab`"
    )
    actor: str | None = Field(None, max_length=254, description="The email of who did it")
    since: BoundedDate | None = None
    until: BoundedDate | None = Field(None, description="Inclusive: events of this day are included")
    q: str | None = Field(None, max_length=queries.MAX_TEXT, description="Text in the object's label")


class OutboxOut(Schema):
    mails_pending: int
    mails_sending: int
    mails_failed: int
    oldest_pending_mail_at: datetime | None
    deliveries_pending: int
    deliveries_failed: int
    events_pending: int
    oldest_pending_event_at: datetime | None
    oldest_pending_mail_age_seconds: float | None = Field(
        None, description="How long the oldest waiting mail has waited"
    )
    oldest_pending_event_age_seconds: float | None = None
    healthy: bool

    @staticmethod
    def resolve_oldest_pending_mail_age_seconds(summary: queries.OutboxSummary) -> float | None:
        age = summary.oldest_pending_mail_age
        return age.total_seconds() if age is not None else None

    @staticmethod
    def resolve_oldest_pending_event_age_seconds(summary: queries.OutboxSummary) -> float | None:
        age = summary.oldest_pending_event_age
        return age.total_seconds() if age is not None else None


class MailOut(Schema):
    public_id: str
    message_id: str
    to: list[str]
    subject: str
    status: str
    attempts: int
    last_error: str
    created_at: datetime
    next_attempt_at: datetime
    retry_until: datetime
    sent_at: datetime | None


class DeliveryEventOut(Schema):
    public_id: str
    name: str
    subject_label: str
    created_at: datetime


class DeliveryOut(Schema):
    public_id: str
    event: DeliveryEventOut
    subscriber: str
    status: str
    attempts: int
    last_error: str
    last_attempt_at: datetime | None
    retry_until: datetime | None


def _subject_filter(subject: str | None) -> dict[str, Any]:
    if not subject:
        return {}
    subject_type, _, public_id = subject.partition(":")
    if not subject_type or not public_id:
        raise InvalidInput("invalid_subject", "Name the object as <kind>:<public id>, e.g. desk.ticket:7hq2mx4kp9ab.")
    pk = queries.subject_pk(subject_type=subject_type, public_id=public_id)
    return {"subject_type": subject_type, "subject_id": pk}


@router.get(
    "/events",
    response={200: list[AuditEventOut], **ERR_404},
    summary="The event log: who changed what, when (staff); newest first",
)
@paginate(LimitOffset)
def event_list(request: HttpRequest, filters: Query[EventFilters]) -> Any:
    if filters.since and filters.until and filters.until < filters.since:
        raise InvalidInput("invalid_period", "The end date is before the start date.", field="until")
    # The viewer is checked before the subject is looked up, so a customer learns nothing from a 404.
    queries.event_log(request.user)
    subject: dict[str, Any] = {"subject_type": filters.subject_type, **_subject_filter(filters.subject)}
    return queries.event_log(
        request.user,
        name=filters.name,
        actor_email=filters.actor,
        since=filters.since,
        until=filters.until,
        q=filters.q,
        **subject,
    )


@router.get("/outbox", response={200: OutboxOut, **ERR}, summary="The outbox's health (administrators)")
def outbox(request: HttpRequest) -> Any:
    queries.require_administrator(request.user)
    return queries.outbox_summary()


@router.post(
    "/mails/{public_id}/retry",
    response={200: MailOut, 409: ErrorOut, **ERR_404},
    summary="Send a failed mail again, with a fresh retry window (administrators)",
)
def mail_retry_endpoint(request: HttpRequest, public_id: PublicId) -> OutgoingMail:
    mail = queries.mail_for(request.user, public_id=public_id)
    return mail_retry(mail=mail, by=request.user)


@router.post(
    "/deliveries/{public_id}/retry",
    response={200: DeliveryOut, 409: ErrorOut, **ERR_404},
    summary="Deliver a failed event to its subscriber again (administrators)",
)
def delivery_retry_endpoint(request: HttpRequest, public_id: PublicId) -> EventDelivery:
    delivery = queries.delivery_for(request.user, public_id=public_id)
    return delivery_retry(delivery=delivery, by=request.user)

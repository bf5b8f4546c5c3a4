"""Staff API of status subscriptions: the list, webhooks (create, enable), the delivery log and its
retry, delete. Customers and anonymous callers are refused; addresses are shown to staff only."""

from datetime import datetime
from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from serviceloop.accounts.models import User
from serviceloop.catalogue.models import Service
from serviceloop.core.errors import InvalidInput
from serviceloop.core.pagination import LimitOffset
from serviceloop.core.schemas import ErrorOut, Text
from serviceloop.core.visibility import require_staff
from serviceloop.incidents.models import Subscription, WebhookDelivery
from serviceloop.incidents.subscription_queries import (
    delivery_for,
    delivery_log,
    subscription_for,
    subscription_list,
)
from serviceloop.incidents.subscriptions import (
    subscription_delete,
    webhook_create,
    webhook_delivery_retry,
    webhook_enable,
)

subscriptions_router = Router(tags=["status subscriptions"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
PublicId = Annotated[str, Field(min_length=1, max_length=24)]


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


class SubscribedServiceOut(Schema):
    public_id: str
    name: str


class SubscriptionOut(Schema):
    public_id: str
    kind: str
    email: str
    url: str
    owner_email: str
    services: list[SubscribedServiceOut] = Field(description="Empty: every public service")
    state: str = Field(description="unconfirmed, active, disabled or unsubscribed")
    created_at: datetime
    confirmed_at: datetime | None
    unsubscribed_at: datetime | None
    disabled_at: datetime | None
    consecutive_failures: int

    @staticmethod
    def resolve_services(obj: Subscription) -> list[dict[str, str]]:
        return [{"public_id": s.public_id, "name": s.name} for s in obj.services.all()]

    @staticmethod
    def resolve_state(obj: Subscription) -> str:
        if obj.unsubscribed_at is not None:
            return "unsubscribed"
        if obj.disabled_at is not None:
            return "disabled"
        return "active" if obj.confirmed_at is not None else "unconfirmed"


class WebhookCreatedOut(SubscriptionOut):
    secret: str = Field(description="Signs every POST (HMAC-SHA256); shown only in this answer")


class WebhookIn(Schema):
    url: Annotated[Text, Field(min_length=1, max_length=500)]
    owner_email: Annotated[Text, Field(min_length=3, max_length=254)]
    services: list[PublicId] = Field(default_factory=list, max_length=500, description="Empty: every public service")


class AttemptOut(Schema):
    number: int
    attempted_at: datetime
    status_code: int | None
    duration_ms: int
    error: str
    succeeded: bool


class WebhookDeliveryOut(Schema):
    public_id: str
    event_name: str
    component: str = Field(description="The service whose component_update this is; empty for an incident body")
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_duration_ms: int | None
    last_error: str
    delivered_at: datetime | None
    payload: dict[str, object]
    attempt_log: list[AttemptOut]

    @staticmethod
    def resolve_attempt_log(obj: WebhookDelivery) -> list[object]:
        return list(obj.attempt_log.all())


class SubscriptionQuery(Schema):
    kind: Literal["email", "webhook"] | None = None
    state: Literal["active", "unconfirmed", "disabled", "unsubscribed"] | None = None


class DeliveryQuery(Schema):
    status: Literal["pending", "delivered", "failed"] | None = None


@subscriptions_router.get(
    "", response={200: list[SubscriptionOut], **ERRORS}, summary="Status page subscriptions (email and webhook)"
)
@paginate(LimitOffset)
def subscriptions(request: HttpRequest, filters: Query[SubscriptionQuery]) -> object:
    return subscription_list(viewer=_user(request), kind=filters.kind or "", state=filters.state or "")


def _services(public_ids: list[str]) -> list[Service]:
    found = {s.public_id: s for s in Service.objects.filter(public_id__in=public_ids)}
    missing = [p for p in public_ids if p not in found]
    if missing:
        raise InvalidInput("unknown_service", f"No service has the public id {missing[0]}.", field="services")
    return [found[p] for p in dict.fromkeys(public_ids)]


@subscriptions_router.post(
    "/webhooks", response={201: WebhookCreatedOut, 422: ErrorOut, **ERRORS}, summary="Add a webhook subscription"
)
def webhook_add(request: HttpRequest, body: WebhookIn) -> object:
    require_staff(_user(request))
    created = webhook_create(
        url=body.url, owner_email=body.owner_email, services=_services(body.services), by=_user(request)
    )
    return Status(201, created)


@subscriptions_router.get("/{public_id}", response={200: SubscriptionOut, **ERRORS}, summary="One subscription")
def subscription(request: HttpRequest, public_id: PublicId) -> object:
    return subscription_for(viewer=_user(request), public_id=public_id)


@subscriptions_router.delete(
    "/{public_id}", response={204: None, **ERRORS}, summary="Delete a subscription and its delivery log"
)
def subscription_remove(request: HttpRequest, public_id: PublicId) -> object:
    found = subscription_for(viewer=_user(request), public_id=public_id)
    subscription_delete(subscription=found, by=_user(request))
    return Status(204, None)


@subscriptions_router.post(
    "/{public_id}/enable",
    response={200: SubscriptionOut, 409: ErrorOut, **ERRORS},
    summary="Enable a disabled webhook (the deliveries that waited are sent)",
)
def webhook_enable_route(request: HttpRequest, public_id: PublicId) -> object:
    found = subscription_for(viewer=_user(request), public_id=public_id)
    return webhook_enable(subscription=found, by=_user(request))


@subscriptions_router.get(
    "/{public_id}/deliveries",
    response={200: list[WebhookDeliveryOut], **ERRORS},
    summary="A webhook's delivery log, newest first, with every attempt",
)
@paginate(LimitOffset)
def deliveries(request: HttpRequest, public_id: PublicId, filters: Query[DeliveryQuery]) -> object:
    found = subscription_for(viewer=_user(request), public_id=public_id)
    return delivery_log(viewer=_user(request), subscription=found, status=filters.status or "")


@subscriptions_router.post(
    "/deliveries/{public_id}/retry",
    response={200: WebhookDeliveryOut, 409: ErrorOut, **ERRORS},
    summary="Send a failed webhook delivery again",
)
def delivery_retry(request: HttpRequest, public_id: PublicId) -> object:
    found = delivery_for(viewer=_user(request), public_id=public_id)
    return webhook_delivery_retry(delivery=found, by=_user(request))

"""The maintenance API (/api/incidents/maintenance): plan, move, open, verify, close and cancel
windows, and post updates about them. Staff only; customers read windows on the status page."""

from datetime import datetime
from typing import Annotated, Any, Literal

from django.db import transaction
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core.errors import InvalidInput
from serviceloop.core.pagination import LimitOffset
from serviceloop.core.schemas import BoundedDateTime, ErrorOut, Integer, Omittable, Text
from serviceloop.core.visibility import require_staff
from serviceloop.incidents import maintenance as services
from serviceloop.incidents import maintenance_queries as queries
from serviceloop.incidents.models import AffectedOrganisation, AffectedService, Incident, IncidentUpdate

router = Router(tags=["incidents"])

ERR = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}
ERR_404 = {**ERR, 404: ErrorOut}
ERR_ACT = {**ERR_404, 409: ErrorOut}
PublicId = Annotated[str, Field(min_length=1, max_length=24)]
Visibility = Literal["public", "customers", "internal"]
When = Literal["upcoming", "active", "past", ""]
NOTICE_DESCRIPTION = (
    "Minutes before the window the notice goes out (0–10080); null: SERVICELOOP_MAINTENANCE_NOTICE_MINUTES"
)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# -- schemas ------------------------------------------------------------------------------------------


class MaintenanceServiceOut(Schema):
    public_id: str
    name: str
    component_status: str

    @staticmethod
    def resolve_public_id(row: AffectedService) -> str:
        return row.service.public_id

    @staticmethod
    def resolve_name(row: AffectedService) -> str:
        return row.service.name


class MaintenanceOrganisationOut(Schema):
    public_id: str
    name: str
    users_affected: int
    users_total: int

    @staticmethod
    def resolve_public_id(row: AffectedOrganisation) -> str:
        return row.organisation.public_id

    @staticmethod
    def resolve_name(row: AffectedOrganisation) -> str:
        return row.organisation.name


class MaintenanceOut(Schema):
    public_id: str
    reference: str = Field(description="MW-n")
    title: str
    description: str
    status: str = Field(description="scheduled, in_progress, verifying or completed")
    cancelled: bool
    visibility: str
    scheduled_for: datetime
    scheduled_until: datetime
    started_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    notice_minutes: int | None
    notice_sent_at: datetime | None
    auto_start: bool
    auto_complete: bool
    services: list[MaintenanceServiceOut]
    offerings: list[str] = Field(description="public ids of the offerings named")
    organisations: list[MaintenanceOrganisationOut]
    users_affected: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_cancelled(row: Incident) -> bool:
        return row.cancelled_at is not None

    @staticmethod
    def resolve_services(row: Incident) -> list[AffectedService]:
        return list(row.affected_services.all())  # prefetched in order (maintenance_queries)

    @staticmethod
    def resolve_offerings(row: Incident) -> list[str]:
        return [offering.public_id for offering in row.offerings.all()]

    @staticmethod
    def resolve_organisations(row: Incident) -> list[AffectedOrganisation]:
        return list(row.affected_organisations.all())


class MaintenanceUpdateOut(Schema):
    public_id: str
    kind: str = Field(description="notice (announcement, reminder, reschedule) or update")
    status: str
    body: str
    audiences: list[str]
    display_at: datetime
    posted_by: str | None = Field(None, description="public id of the staff member; null: the scheduler")
    affected_components: list[dict[str, str]]

    @staticmethod
    def resolve_posted_by(update: IncidentUpdate) -> str | None:
        return update.posted_by.public_id if update.posted_by else None


class MaintenanceIn(Schema):
    title: Text = Field(..., min_length=1, max_length=200)
    description: Text = Field("", max_length=10000, description="Internal notes")
    services: list[PublicId] = Field(..., min_length=1, max_length=100, description="public ids of the services")
    offerings: list[PublicId] = Field([], max_length=100, description="public ids of offerings of those services")
    organisations: list[PublicId] | None = Field(
        None, max_length=1000, description="public ids; null: every organisation with an active relationship on them"
    )
    scheduled_for: BoundedDateTime
    scheduled_until: BoundedDateTime
    visibility: Visibility = "public"
    notice_minutes: Integer | None = Field(None, ge=0, le=10080, description=NOTICE_DESCRIPTION)
    auto_start: bool = True
    auto_complete: bool = True
    body: Text = Field("", max_length=10000, description="The announcement; empty: one is written from the window")


class MaintenancePatch(Schema):
    title: Text = Omittable(min_length=1, max_length=200)
    description: Text = Omittable(max_length=10000)
    scheduled_for: BoundedDateTime = Omittable()
    scheduled_until: BoundedDateTime = Omittable()
    notice_minutes: Integer = Omittable(ge=0, le=10080, description=NOTICE_DESCRIPTION)
    auto_start: bool = Omittable()
    auto_complete: bool = Omittable()
    body: Text = Omittable(max_length=10000, description="What the reschedule update says; empty: written for you")


class MaintenanceStepIn(Schema):
    at: BoundedDateTime | None = Field(None, description="When it happened; null: now")
    body: Text = Field("", max_length=10000, description="The update; empty: the usual words")


class MaintenanceCancelIn(Schema):
    body: Text = Field("", max_length=10000, description="Why, for the customers and the status page")


class MaintenanceUpdateIn(Schema):
    body: Text = Field(..., min_length=1, max_length=10000)


class MaintenanceFilters(Schema):
    when: When = Field("", description="upcoming, active or past; empty: all, latest planned first")


# -- helpers --------------------------------------------------------------------------------------------


def _by_ids(model: Any, ids: list[str], field: str) -> list[Any]:
    wanted = list(dict.fromkeys(ids))
    rows = list(model.objects.filter(public_id__in=wanted))
    if len(rows) != len(wanted):
        known = {row.public_id for row in rows}
        missing = next(i for i in wanted if i not in known)
        raise InvalidInput(f"{field}_unknown", f"{field}: nothing has the public id '{missing}'.", field=field)
    return rows


def _get(request: HttpRequest, public_id: str) -> Incident:
    return queries.maintenance_for(viewer=_user(request), public_id=public_id)


# -- routes ---------------------------------------------------------------------------------------------


@router.get("", response={200: list[MaintenanceOut], **ERR}, summary="Maintenance windows")
@paginate(LimitOffset)
def maintenance_list(request: HttpRequest, filters: Query[MaintenanceFilters]) -> Any:
    return queries.maintenance_list(viewer=_user(request), when=filters.when)


@router.post("", response={201: MaintenanceOut, **ERR}, summary="Schedule a maintenance window")
def maintenance_create(request: HttpRequest, body: MaintenanceIn) -> Status:
    require_staff(request.user)
    data = body.dict()
    data["services"] = _by_ids(Service, data["services"], "services")
    data["offerings"] = _by_ids(Offering, data["offerings"], "offerings")
    if data["organisations"] is not None:
        data["organisations"] = _by_ids(Organisation, data["organisations"], "organisations")
    maintenance = services.maintenance_schedule(by=_user(request), **data)
    return Status(201, _get(request, maintenance.public_id))


@router.get("/{public_id}", response={200: MaintenanceOut, **ERR_404}, summary="One maintenance window")
def maintenance_get(request: HttpRequest, public_id: PublicId) -> Incident:
    return _get(request, public_id)


@router.patch(
    "/{public_id}",
    response={200: MaintenanceOut, **ERR_ACT},
    summary="Change or reschedule a window (a new window mails the customers; a sent notice goes again)",
)
def maintenance_patch(request: HttpRequest, public_id: PublicId, body: MaintenancePatch) -> Incident:
    maintenance = _get(request, public_id)
    sent = body.dict(exclude_unset=True)
    start = sent.get("scheduled_for", maintenance.scheduled_for)
    end = sent.get("scheduled_until", maintenance.scheduled_until)
    change = {key: sent[key] for key in ("title", "description", "auto_start", "auto_complete") if key in sent}
    # One answer, one change: a refused part leaves the other unwritten too.
    with transaction.atomic():
        if {"scheduled_for", "scheduled_until", "notice_minutes"} & set(sent) and start and end:
            maintenance = services.maintenance_reschedule(
                maintenance=maintenance,
                by=_user(request),
                scheduled_for=start,
                scheduled_until=end,
                notice_minutes=sent.get("notice_minutes"),
                body=sent.get("body", ""),
            )
        if change:
            services.maintenance_change(maintenance=maintenance, by=_user(request), **change)
    return _get(request, public_id)


@router.post("/{public_id}/start", response={200: MaintenanceOut, **ERR_ACT}, summary="Start the window now")
def maintenance_start(request: HttpRequest, public_id: PublicId, body: MaintenanceStepIn) -> Incident:
    services.maintenance_start(maintenance=_get(request, public_id), by=_user(request), at=body.at, body=body.body)
    return _get(request, public_id)


@router.post("/{public_id}/verify", response={200: MaintenanceOut, **ERR_ACT}, summary="The work is being verified")
def maintenance_verify(request: HttpRequest, public_id: PublicId, body: MaintenanceStepIn) -> Incident:
    services.maintenance_verify(maintenance=_get(request, public_id), by=_user(request), at=body.at, body=body.body)
    return _get(request, public_id)


@router.post("/{public_id}/complete", response={200: MaintenanceOut, **ERR_ACT}, summary="Complete the window")
def maintenance_complete(request: HttpRequest, public_id: PublicId, body: MaintenanceStepIn) -> Incident:
    services.maintenance_complete(maintenance=_get(request, public_id), by=_user(request), at=body.at, body=body.body)
    return _get(request, public_id)


@router.post(
    "/{public_id}/cancel",
    response={200: MaintenanceOut, **ERR_ACT},
    summary="Cancel a window that has not started (kept, completed at its planned start)",
)
def maintenance_cancel(request: HttpRequest, public_id: PublicId, body: MaintenanceCancelIn) -> Incident:
    services.maintenance_cancel(maintenance=_get(request, public_id), by=_user(request), body=body.body)
    return _get(request, public_id)


@router.get(
    "/{public_id}/updates", response={200: list[MaintenanceUpdateOut], **ERR_404}, summary="The window's updates"
)
@paginate(LimitOffset)
def maintenance_update_list(request: HttpRequest, public_id: PublicId) -> Any:
    return queries.maintenance_updates(viewer=_user(request), maintenance=_get(request, public_id))


@router.post(
    "/{public_id}/updates", response={201: MaintenanceUpdateOut, **ERR_ACT}, summary="Post an update about the window"
)
def maintenance_update_create(request: HttpRequest, public_id: PublicId, body: MaintenanceUpdateIn) -> Status:
    update = services.maintenance_update_post(maintenance=_get(request, public_id), by=_user(request), body=body.body)
    return Status(201, update)

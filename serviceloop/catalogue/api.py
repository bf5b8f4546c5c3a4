"""The catalogue API: services, offerings, their components and value model, and the change history."""

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from serviceloop.accounts.models import User
from serviceloop.accounts.versioning import IF_MATCH, etag, versions_in
from serviceloop.catalogue import queries, services
from serviceloop.catalogue.models import CatalogueChange, Offering, OfferingComponent, Service, ValueItem
from serviceloop.core.errors import InvalidInput
from serviceloop.core.pagination import LimitOffset
from serviceloop.core.schemas import ErrorOut
from serviceloop.core.visibility import require_staff

router = Router(tags=["catalogue"])

Lifecycle = Literal["pipeline", "live", "retired"]
Criticality = Literal["low", "medium", "high", "critical"]
ComponentKind = Literal["goods", "access", "action"]
ValueKind = Literal["outcome", "output", "cost_removed", "cost_imposed", "risk_removed", "risk_imposed"]
Estimate = Field(None, ge=0, le=services.MAX_ESTIMATE, max_digits=14, decimal_places=2)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# -- schemas ---------------------------------------------------------------------------------------


class ManagerOut(Schema):
    public_id: str
    name: str
    email: str


class ServiceOut(Schema):
    public_id: str
    name: str
    slug: str
    description: str
    lifecycle: str
    criticality: str
    service_manager: ManagerOut
    created_at: datetime
    updated_at: datetime


class ServiceIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    slug: str = Field("", max_length=80)
    description: str = Field("", max_length=10000)
    lifecycle: Lifecycle = "pipeline"
    criticality: Criticality = "medium"
    service_manager: str = Field(..., max_length=24, description="public_id of a service manager or administrator")


class ServicePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    slug: str | None = Field(None, min_length=1, max_length=80)
    description: str | None = Field(None, max_length=10000)
    lifecycle: Lifecycle | None = None
    criticality: Criticality | None = None
    service_manager: str | None = Field(None, max_length=24)


class ComponentOut(Schema):
    public_id: str
    kind: str
    name: str
    description: str
    position: int


class ComponentIn(Schema):
    kind: ComponentKind
    name: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=10000)
    position: int | None = Field(None, ge=0, le=100000)


class ComponentPatch(Schema):
    kind: ComponentKind | None = None
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10000)
    position: int | None = Field(None, ge=0, le=100000)


class ValueItemOut(Schema):
    public_id: str
    kind: str
    side: Literal["gives", "asks"]
    description: str
    financial: bool
    estimate: Decimal | None
    unit: str
    position: int

    @staticmethod
    def resolve_side(item: ValueItem) -> str:
        return "gives" if item.kind in ValueItem.GIVES else "asks"


class ValueItemIn(Schema):
    kind: ValueKind
    description: str = Field(..., min_length=1, max_length=500)
    financial: bool = False
    estimate: Decimal | None = Estimate
    unit: str = Field("", max_length=50)
    position: int | None = Field(None, ge=0, le=100000)


class ValueItemPatch(Schema):
    kind: ValueKind | None = None
    description: str | None = Field(None, min_length=1, max_length=500)
    financial: bool | None = None
    estimate: Decimal | None = Estimate
    unit: str | None = Field(None, max_length=50)
    position: int | None = Field(None, ge=0, le=100000)


class ServiceRefOut(Schema):
    public_id: str
    name: str
    lifecycle: str


class OfferingOut(Schema):
    public_id: str
    service: ServiceRefOut
    name: str
    slug: str
    target_group: str
    description: str
    components: list[ComponentOut]
    value_items: list[ValueItemOut]
    created_at: datetime

    @staticmethod
    def resolve_components(offering: Offering) -> list[OfferingComponent]:
        return list(offering.components.all())

    @staticmethod
    def resolve_value_items(offering: Offering) -> list[ValueItem]:
        return list(offering.value_items.all())


class OfferingIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    slug: str = Field("", max_length=80)
    target_group: str = Field("", max_length=200)
    description: str = Field("", max_length=10000)


class OfferingPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    slug: str | None = Field(None, min_length=1, max_length=80)
    target_group: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=10000)


class ChangeOut(Schema):
    service: str | None
    object_type: str
    object_public_id: str
    object_label: str
    action: str
    changes: dict[str, Any]
    by: str | None
    at: datetime

    @staticmethod
    def resolve_service(change: CatalogueChange) -> str | None:
        return change.service.public_id if change.service else None

    @staticmethod
    def resolve_by(change: CatalogueChange) -> str | None:
        return change.by.email if change.by else None

    @staticmethod
    def resolve_at(change: CatalogueChange) -> datetime:
        return change.created_at


class ServiceFilters(Schema):
    q: str = Field("", max_length=200, description="Search by name, slug or description")
    lifecycle: Lifecycle | Literal[""] = ""
    criticality: Criticality | Literal[""] = ""
    manager: str = Field("", max_length=24, description="public_id of the service manager")


class OfferingFilters(Schema):
    service: str = Field("", max_length=24, description="public_id of the service")
    q: str = Field("", max_length=200, description="Search by name, service or target group")
    lifecycle: Lifecycle | Literal[""] = ""


class ChangeFilters(Schema):
    service: str = Field("", max_length=24, description="public_id of the service")
    object: str = Field("", max_length=24, description="public_id of the changed object")


def _manager(public_id: str) -> User:
    manager = User.objects.filter(public_id=public_id).first()
    if manager is None:
        raise InvalidInput("service_manager_unknown", "No user has that public id.", field="service_manager")
    return manager


# -- services --------------------------------------------------------------------------------------

# 400: a body that is not JSON; 422: a body or query that does not match the schema.
ERR = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}
ERR_404 = {**ERR, 404: ErrorOut}
# A PATCH of a versioned row: 409 for a clash (a slug taken, the row deleted meanwhile), 412 when its
# If-Match names an earlier version than the stored one.
ERR_PATCH = {**ERR_404, 409: ErrorOut, 412: ErrorOut}


@router.get("/services", response={200: list[ServiceOut], **ERR}, summary="Services (staff)")
@paginate(LimitOffset)
def service_list(request: HttpRequest, filters: Query[ServiceFilters]) -> Any:
    require_staff(request.user)
    return queries.service_list(viewer=_user(request), **filters.dict())


@router.post("/services", response={201: ServiceOut, 409: ErrorOut, **ERR}, summary="Create a service")
def service_create(request: HttpRequest, body: ServiceIn) -> Status:
    services.require_manager(_user(request))
    data = body.dict()
    data["service_manager"] = _manager(data["service_manager"])
    return Status(201, services.service_create(by=_user(request), **data))


@router.get(
    "/services/{public_id}",
    response={200: ServiceOut, **ERR_404},
    summary="One service",
    description="The ETag header carries the service's version: send it back as If-Match when you change it.",
)
def service_get(request: HttpRequest, response: HttpResponse, public_id: str) -> Service:
    require_staff(request.user)
    service = queries.service_for(viewer=_user(request), public_id=public_id)
    response["ETag"] = etag(service)
    return service


@router.patch(
    "/services/{public_id}",
    response={200: ServiceOut, **ERR_PATCH},
    summary="Change a service",
    description="Send If-Match with the ETag of your GET: if someone changed the service since, 412 and no change.",
)
def service_update(
    request: HttpRequest,
    response: HttpResponse,
    public_id: str,
    body: ServicePatch,
    if_match: str | None = IF_MATCH,
) -> Service:
    services.require_manager(_user(request))
    service = queries.service_for(viewer=_user(request), public_id=public_id)
    data = body.dict(exclude_unset=True)
    if data.get("service_manager") is not None:
        # An empty string names nobody: refused like any unknown id, never passed on as a user.
        data["service_manager"] = _manager(data["service_manager"])
    service = services.service_update(
        service=service,
        by=_user(request),
        expected_version=versions_in(if_match),
        **{k: v for k, v in data.items() if v is not None},
    )
    response["ETag"] = etag(service)
    return service


@router.delete("/services/{public_id}", response={204: None, 409: ErrorOut, **ERR_404}, summary="Delete a service")
def service_delete(request: HttpRequest, public_id: str) -> Status:
    services.require_manager(_user(request))
    service = queries.service_for(viewer=_user(request), public_id=public_id)
    services.service_delete(service=service, by=_user(request))
    return Status(204, None)


@router.get(
    "/services/{public_id}/changes",
    response={200: list[ChangeOut], **ERR_404},
    summary="The change history of a service, its offerings, components and value items",
)
@paginate(LimitOffset)
def service_changes(request: HttpRequest, public_id: str) -> Any:
    require_staff(request.user)
    service = queries.service_for(viewer=_user(request), public_id=public_id)
    return queries.catalogue_changes(viewer=_user(request), service=service.public_id)


@router.get("/changes", response={200: list[ChangeOut], **ERR}, summary="The catalogue's change history (staff)")
@paginate(LimitOffset)
def change_list(request: HttpRequest, filters: Query[ChangeFilters]) -> Any:
    require_staff(request.user)
    return queries.catalogue_changes(viewer=_user(request), service=filters.service, object_id=filters.object)


# -- offerings -------------------------------------------------------------------------------------


@router.get(
    "/offerings",
    response={200: list[OfferingOut], **ERR},
    summary="Offerings: all for staff; for a customer, those their organisation consumes",
)
@paginate(LimitOffset)
def offering_list(request: HttpRequest, filters: Query[OfferingFilters]) -> Any:
    return queries.offering_list(viewer=_user(request), **filters.dict())


@router.post(
    "/services/{public_id}/offerings",
    response={201: OfferingOut, 409: ErrorOut, **ERR_404},
    summary="Add an offering to a service",
)
def offering_create(request: HttpRequest, public_id: str, body: OfferingIn) -> Status:
    services.require_manager(_user(request))
    service = queries.service_for(viewer=_user(request), public_id=public_id)
    offering = services.offering_create(service=service, by=_user(request), **body.dict())
    return Status(201, queries.offering_for(viewer=_user(request), public_id=offering.public_id))


@router.get(
    "/offerings/{public_id}",
    response={200: OfferingOut, **ERR, 404: ErrorOut},
    summary="One offering",
    description="The ETag header carries the offering's version: send it back as If-Match when you change it.",
)
def offering_get(request: HttpRequest, response: HttpResponse, public_id: str) -> Offering:
    offering = queries.offering_for(viewer=_user(request), public_id=public_id)
    response["ETag"] = etag(offering)
    return offering


@router.patch(
    "/offerings/{public_id}",
    response={200: OfferingOut, **ERR_PATCH},
    summary="Change an offering",
    description="Send If-Match with the ETag of your GET: if someone changed the offering since, 412 and no change.",
)
def offering_update(
    request: HttpRequest,
    response: HttpResponse,
    public_id: str,
    body: OfferingPatch,
    if_match: str | None = IF_MATCH,
) -> Offering:
    services.require_manager(_user(request))
    offering = queries.offering_for(viewer=_user(request), public_id=public_id)
    data = {k: v for k, v in body.dict(exclude_unset=True).items() if v is not None}
    services.offering_update(offering=offering, by=_user(request), expected_version=versions_in(if_match), **data)
    offering = queries.offering_for(viewer=_user(request), public_id=public_id)
    response["ETag"] = etag(offering)
    return offering


@router.delete("/offerings/{public_id}", response={204: None, 409: ErrorOut, **ERR_404}, summary="Delete an offering")
def offering_delete(request: HttpRequest, public_id: str) -> Status:
    services.require_manager(_user(request))
    offering = queries.offering_for(viewer=_user(request), public_id=public_id)
    services.offering_delete(offering=offering, by=_user(request))
    return Status(204, None)


# -- components ------------------------------------------------------------------------------------


@router.post(
    "/offerings/{public_id}/components",
    response={201: ComponentOut, **ERR_404},
    summary="Add a component (goods, access to resources, service action)",
)
def component_create(request: HttpRequest, public_id: str, body: ComponentIn) -> Status:
    services.require_manager(_user(request))
    offering = queries.offering_for(viewer=_user(request), public_id=public_id)
    return Status(201, services.component_create(offering=offering, by=_user(request), **body.dict()))


@router.patch("/components/{public_id}", response={200: ComponentOut, **ERR_404}, summary="Change a component")
def component_update(request: HttpRequest, public_id: str, body: ComponentPatch) -> OfferingComponent:
    services.require_manager(_user(request))
    component = queries.component_for(viewer=_user(request), public_id=public_id)
    data = {k: v for k, v in body.dict(exclude_unset=True).items() if v is not None}
    return services.component_update(component=component, by=_user(request), **data)


@router.delete("/components/{public_id}", response={204: None, **ERR_404}, summary="Remove a component")
def component_delete(request: HttpRequest, public_id: str) -> Status:
    services.require_manager(_user(request))
    component = queries.component_for(viewer=_user(request), public_id=public_id)
    services.component_delete(component=component, by=_user(request))
    return Status(204, None)


# -- value items -----------------------------------------------------------------------------------


@router.post(
    "/offerings/{public_id}/value-items",
    response={201: ValueItemOut, **ERR_404},
    summary="Add a line to the value model (outcome, output, cost or risk removed or imposed)",
)
def value_item_create(request: HttpRequest, public_id: str, body: ValueItemIn) -> Status:
    services.require_manager(_user(request))
    offering = queries.offering_for(viewer=_user(request), public_id=public_id)
    return Status(201, services.value_item_create(offering=offering, by=_user(request), **body.dict()))


@router.patch(
    "/value-items/{public_id}",
    response={200: ValueItemOut, **ERR_404},
    summary="Change a value item (send estimate: null to clear it)",
)
def value_item_update(request: HttpRequest, public_id: str, body: ValueItemPatch) -> ValueItem:
    services.require_manager(_user(request))
    item = queries.value_item_for(viewer=_user(request), public_id=public_id)
    sent = body.dict(exclude_unset=True)
    data = {k: v for k, v in sent.items() if v is not None and k != "estimate"}
    if "estimate" in sent:
        data["estimate"] = sent["estimate"]
    return services.value_item_update(item=item, by=_user(request), **data)


@router.delete("/value-items/{public_id}", response={204: None, **ERR_404}, summary="Remove a value item")
def value_item_delete(request: HttpRequest, public_id: str) -> Status:
    services.require_manager(_user(request))
    item = queries.value_item_for(viewer=_user(request), public_id=public_id)
    services.value_item_delete(item=item, by=_user(request))
    return Status(204, None)

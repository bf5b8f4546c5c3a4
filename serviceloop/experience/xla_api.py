"""The XLA API, mounted at /api/experience/xlas: list, read, create, change, archive, evaluate, history.

Staff read every XLA; service managers and administrators change them; a customer user reads the
XLAs of their own organisation's relationships (another's, or a service-wide XLA, answers 404).
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from serviceloop.accounts.models import User
from serviceloop.accounts.versioning import IF_MATCH, etag, versions_in
from serviceloop.catalogue.models import Service
from serviceloop.core.errors import ConflictError, InvalidInput
from serviceloop.core.pagination import LimitOffset
from serviceloop.core.schemas import BoundedDate, ErrorOut, Integer, Omittable, Text
from serviceloop.experience import xla_queries, xlas
from serviceloop.experience.metrics import METRICS
from serviceloop.experience.models import Xla, XlaEvaluation
from serviceloop.relationships.models import Relationship

router = Router(tags=["experience"])

Comparator = Literal["gte", "lte"]
BaselineKind = Literal["none", "value", "before_start"]
StateFilter = Literal["", "met", "at_risk", "breached", "not_enough_data", "none"]
StatusFilter = Literal["", "active", "archived"]
Number = Field(None, ge=-1_000_000, le=1_000_000, allow_inf_nan=False)

ERR = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}
ERR_404 = {**ERR, 404: ErrorOut}


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


class XlaRefOut(Schema):
    public_id: str
    name: str


class XlaOwnerOut(Schema):
    public_id: str
    name: str
    email: str


class XlaRelationshipOut(Schema):
    public_id: str
    organisation: XlaRefOut
    offering: XlaRefOut


class XlaFigureOut(Schema):
    metric: str
    label: str
    value: float | None = Field(description="null: not enough data")
    n: int
    interval: list[float] | None
    unit: str


class XlaSlaOut(Schema):
    first_response: XlaFigureOut
    resolution: XlaFigureOut
    met: bool | None = Field(description="every SLA clock with enough data ≥ green; null: no verdict")
    green: float = Field(description="SERVICELOOP_XLA_SLA_GREEN, per cent")


class XlaOut(Schema):
    public_id: str
    name: str
    scope: Literal["service", "relationship"]
    service: XlaRefOut
    relationship: XlaRelationshipOut | None
    metric: str
    comparator: str
    target: float
    window: str
    min_sample: int
    risk_margin: float
    start_date: date
    baseline_kind: str
    baseline: float | None
    baseline_n: int | None
    baseline_from: date | None
    baseline_to: date | None
    owner: XlaOwnerOut = Field(description="The owner, else the service's manager")
    status: str
    archived_at: datetime | None
    state: str | None = Field(description="met, at_risk, breached, not_enough_data; null: never evaluated")
    state_since: datetime | None
    figure: XlaFigureOut
    window_from: date | None
    window_to: date | None
    evaluated_at: datetime | None
    sla: XlaSlaOut
    watermelon: bool = Field(description="The SLA reads met while the XLA is breached")

    @staticmethod
    def resolve_scope(xla: Xla) -> str:
        return "relationship" if xla.relationship_id else "service"

    @staticmethod
    def resolve_state(xla: Xla) -> str | None:
        return xla.state or None

    @staticmethod
    def resolve_owner(xla: Xla) -> User:
        return xla.accountable  # type: ignore[no-any-return]

    @staticmethod
    def resolve_figure(xla: Xla) -> dict[str, Any]:
        return _figure(xla.metric, xla.value, xla.n, xla.interval_low, xla.interval_high)

    @staticmethod
    def resolve_sla(xla: Xla) -> dict[str, Any]:
        return {
            "first_response": _figure("sla_first_response", xla.sla_first_response, xla.sla_first_response_n),
            "resolution": _figure("sla_resolution", xla.sla_resolution, xla.sla_resolution_n),
            "met": xlas.sla_met(xla.sla_first_response, xla.sla_resolution),
            "green": xlas.sla_green(),
        }

    @staticmethod
    def resolve_watermelon(xla: Xla) -> bool:
        return xlas.is_watermelon(xla)


def _figure(
    name: str, value: float | None, n: int, low: float | None = None, high: float | None = None
) -> dict[str, Any]:
    metric = METRICS[name]
    interval = [low, high] if low is not None and high is not None else None
    return {"metric": name, "label": metric.label, "value": value, "n": n, "interval": interval, "unit": metric.unit}


class XlaEvaluationOut(Schema):
    previous_state: str | None
    state: str
    value: float | None
    n: int
    interval: list[float] | None
    target: float
    comparator: str
    window_from: date
    window_to: date
    sla_first_response: float | None
    sla_resolution: float | None
    evaluated_at: datetime

    @staticmethod
    def resolve_previous_state(row: XlaEvaluation) -> str | None:
        return row.previous_state or None

    @staticmethod
    def resolve_interval(row: XlaEvaluation) -> list[float] | None:
        if row.interval_low is None or row.interval_high is None:
            return None
        return [row.interval_low, row.interval_high]


class XlaIn(Schema):
    name: Text = Field(..., min_length=1, max_length=200)
    service: str | None = Field(None, max_length=24, description="public_id of the service (or give relationship)")
    relationship: str | None = Field(None, max_length=24, description="public_id of the relationship")
    metric: str = Field(..., max_length=40, description="A metric name of GET /api/experience/metrics")
    comparator: Comparator = "gte"
    target: float = Field(..., ge=-1_000_000, le=1_000_000, allow_inf_nan=False)
    window: str = Field("rolling_30", max_length=20, description="rolling_7, rolling_30, rolling_90 or month")
    min_sample: Integer | None = Field(None, ge=1, le=xlas.MAX_MIN_SAMPLE, description="default SERVICELOOP_MIN_SAMPLE")
    risk_margin: float | None = Field(None, ge=0, le=1_000_000, allow_inf_nan=False, description="default by unit")
    start_date: BoundedDate | None = Field(None, description="default today")
    baseline_kind: BaselineKind = "none"
    baseline: float | None = Number
    owner: str | None = Field(None, max_length=24, description="public_id of a service manager; default theirs")


class XlaPatch(Schema):
    name: Text = Omittable(min_length=1, max_length=200)
    metric: str = Omittable(min_length=1, max_length=40)
    comparator: Comparator = Omittable()
    target: float = Omittable(ge=-1_000_000, le=1_000_000, allow_inf_nan=False)
    window: str = Omittable(min_length=1, max_length=20)
    min_sample: Integer = Omittable(ge=1, le=xlas.MAX_MIN_SAMPLE)
    risk_margin: float = Omittable(ge=0, le=1_000_000, allow_inf_nan=False)
    start_date: BoundedDate = Omittable()
    baseline_kind: BaselineKind = Omittable()
    baseline: float = Omittable(ge=-1_000_000, le=1_000_000, allow_inf_nan=False)
    owner: str = Omittable(min_length=1, max_length=24)


class XlaFilters(Schema):
    service: str = Field("", max_length=24, description="public_id of the service")
    state: StateFilter = Field("", description="none: never evaluated")
    status: StatusFilter = Field("active", description="active (default), archived, or empty for both")


def _owner(public_id: str | None) -> User | None:
    if public_id is None:
        return None
    owner = User.objects.filter(public_id=public_id).first()
    if owner is None:
        raise InvalidInput("unknown", f"owner: no user with the id {public_id}.", field="owner")
    return owner


def _number(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@router.get("", response={200: list[XlaOut], **ERR}, summary="XLAs (staff: all; customers: their relationships')")
@paginate(LimitOffset)
def xla_list(request: HttpRequest, filters: Query[XlaFilters]) -> Any:
    return xla_queries.xla_list(viewer=_user(request), **filters.dict())


@router.post("", response={201: XlaOut, **ERR_404}, summary="Create an XLA for a service or a relationship")
def xla_create(request: HttpRequest, body: XlaIn) -> Status:
    xlas.require_manager(_user(request))
    data = body.dict()
    service = relationship = None
    if data.pop("service"):
        service = Service.objects.filter(public_id=body.service).first()
        if service is None:
            raise InvalidInput("unknown", f"service: no service with the id {body.service}.", field="service")
    if data.pop("relationship"):
        relationship = (
            Relationship.objects.select_related("offering__service").filter(public_id=body.relationship).first()
        )
        if relationship is None:
            raise InvalidInput(
                "unknown", f"relationship: no relationship with the id {body.relationship}.", field="relationship"
            )
    data.update(
        owner=_owner(data["owner"]),
        target=_number(data["target"]),
        risk_margin=_number(data["risk_margin"]),
        baseline=_number(data["baseline"]),
    )
    xla = xlas.xla_create(by=_user(request), service=service, relationship=relationship, **data)
    return Status(201, xla_queries.xla_for(viewer=_user(request), public_id=xla.public_id))


@router.get(
    "/{public_id}",
    response={200: XlaOut, **ERR_404},
    summary="One XLA with its latest figure and the SLA beside it",
    description="The ETag header carries the XLA's version: send it back as If-Match when you change it.",
)
def xla_get(request: HttpRequest, response: HttpResponse, public_id: str) -> Xla:
    xla = xla_queries.xla_for(viewer=_user(request), public_id=public_id)
    response["ETag"] = etag(xla)
    return xla


@router.patch(
    "/{public_id}",
    response={200: XlaOut, 409: ErrorOut, 412: ErrorOut, **ERR_404},
    summary="Change an XLA (evaluated again at once)",
    description="Send If-Match with the ETag of your GET: if someone changed the XLA since, 412 and no change.",
)
def xla_update(
    request: HttpRequest, response: HttpResponse, public_id: str, body: XlaPatch, if_match: str | None = IF_MATCH
) -> Xla:
    xlas.require_manager(_user(request))
    xla = xla_queries.xla_for(viewer=_user(request), public_id=public_id)
    data = {key: value for key, value in body.dict(exclude_unset=True).items() if value is not None}
    if "owner" in data:
        data["owner"] = _owner(data["owner"])
    for key in ("target", "risk_margin", "baseline"):
        if key in data:
            data[key] = _number(data[key])
    xlas.xla_update(xla=xla, by=_user(request), expected_version=versions_in(if_match), **data)
    xla = xla_queries.xla_for(viewer=_user(request), public_id=public_id)
    response["ETag"] = etag(xla)
    return xla


@router.delete(
    "/{public_id}",
    response={204: None, **ERR_404},
    summary="Archive an XLA (it stops being evaluated; it and its history stay readable)",
)
def xla_delete(request: HttpRequest, public_id: str) -> Status:
    xlas.require_manager(_user(request))
    xla = xla_queries.xla_for(viewer=_user(request), public_id=public_id)
    xlas.xla_archive(xla=xla, by=_user(request))
    return Status(204, None)


@router.post(
    "/{public_id}/evaluate",
    response={200: XlaOut, 409: ErrorOut, **ERR_404},
    summary="Evaluate an XLA now (a change of state is recorded in its history)",
)
def xla_evaluate(request: HttpRequest, public_id: str) -> Xla:
    xlas.require_manager(_user(request))
    xla = xla_queries.xla_for(viewer=_user(request), public_id=public_id)
    if xla.status == Xla.Status.ARCHIVED:
        raise ConflictError("archived", "This XLA is archived; it is no longer evaluated.")
    xlas.xla_evaluate(xla)
    return xla_queries.xla_for(viewer=_user(request), public_id=public_id)


@router.get(
    "/{public_id}/history",
    response={200: list[XlaEvaluationOut], **ERR_404},
    summary="The XLA's changes of state, newest first, with the figures that caused them",
)
@paginate(LimitOffset)
def xla_history(request: HttpRequest, public_id: str) -> Any:
    xla = xla_queries.xla_for(viewer=_user(request), public_id=public_id)
    return xla_queries.xla_history(xla)

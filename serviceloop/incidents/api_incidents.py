"""The incidents API for staff: declare, change, communicate on a cadence, plan the recovery, resolve."""

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core import clock
from serviceloop.core.errors import InvalidInput
from serviceloop.core.pagination import LimitOffset
from serviceloop.core.schemas import BoundedDateTime, ErrorOut, Integer, Omittable, Text
from serviceloop.core.visibility import require_staff
from serviceloop.desk.models import BusinessCalendar, Ticket
from serviceloop.incidents import queries, services
from serviceloop.incidents.models import AudiencePlan, Incident, IncidentTicket, IncidentUpdate, RecoveryStep

incidents_router = Router()

SeverityName = Literal["sev1", "sev2", "sev3", "sev4"]
VisibilityName = Literal["public", "customers", "internal"]
AudienceName = Literal["internal", "customers", "public"]
ChannelName = Literal["email", "status_page", "webhook"]
UpdateStatusName = Literal["investigating", "identified", "monitoring"]
ComponentStatusName = Literal["operational", "degraded_performance", "partial_outage", "major_outage"]
ConfidenceName = Literal["", "low", "medium", "high"]
StepStatusName = Literal["planned", "in_progress", "done", "blocked", "dropped"]
PublicId = Annotated[str, Field(min_length=1, max_length=24)]
Title = Annotated[Text, Field(min_length=1, max_length=200)]
LongText = Annotated[Text, Field(max_length=20_000)]

ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _user(request: HttpRequest) -> User:
    require_staff(request.user)
    return request.user  # type: ignore[return-value]


# ---------------------------------------------------------------- answers


class IncidentRefOut(Schema):
    public_id: str
    name: str


def _person(user: User | None) -> dict[str, str] | None:
    return {"public_id": user.public_id, "name": user.display_name} if user is not None else None


class IncidentOut(Schema):
    public_id: str
    reference: str
    kind: str
    title: str
    status: str
    severity: str
    is_major: bool
    visibility: str
    owner: IncidentRefOut | None
    comms_lead: IncidentRefOut | None
    impact_started_at: datetime | None
    impact_ended_at: datetime | None
    declared_at: datetime | None
    identified_at: datetime | None
    monitoring_at: datetime | None
    resolved_at: datetime | None
    eta: datetime | None
    eta_confidence: str
    plan_published_at: datetime | None
    users_affected: int
    version: int

    @staticmethod
    def resolve_owner(incident: Incident | dict[str, Any]) -> dict[str, str] | None:
        return incident["owner"] if isinstance(incident, dict) else _person(incident.owner)

    @staticmethod
    def resolve_comms_lead(incident: Incident | dict[str, Any]) -> dict[str, str] | None:
        return incident["comms_lead"] if isinstance(incident, dict) else _person(incident.comms_lead)


class AffectedServiceOut(Schema):
    service: IncidentRefOut
    component_status: str


class AffectedOrganisationOut(Schema):
    organisation: IncidentRefOut
    users_affected: int
    users_total: int


class IncidentTicketOut(Schema):
    public_id: str
    reference: str
    subject: str
    status: str
    linked_at: datetime


class AudiencePlanOut(Schema):
    audience: str
    cadence_minutes: int
    channels: list[str]
    owner: IncidentRefOut | None
    calendar: IncidentRefOut | None
    is_active: bool
    last_update_at: datetime | None
    next_due_at: datetime | None
    minutes_left: float | None = Field(
        None,
        description="Minutes (of the plan's business calendar, if any) until the next update is due; negative: overdue",
    )
    overdue: bool
    silent_since: datetime | None = Field(None, description="When the open silence began (the due time missed)")


class IncidentUpdateOut(Schema):
    public_id: str
    kind: str
    status: str
    audiences: list[str]
    affected: str
    impacted: str
    actions: str
    body: str
    next_update_at: datetime | None
    display_at: datetime
    posted_by: IncidentRefOut | None
    deliver_notifications: bool
    affected_components: list[dict[str, str]]

    @staticmethod
    def resolve_posted_by(update: IncidentUpdate) -> dict[str, str] | None:
        return _person(update.posted_by)


class RecoveryStepOut(Schema):
    public_id: str
    position: int
    title: str
    detail: str
    owner: IncidentRefOut | None
    status: str
    eta: datetime | None
    eta_confidence: str
    customer_facing: bool
    done_at: datetime | None

    @staticmethod
    def resolve_owner(step: RecoveryStep) -> dict[str, str] | None:
        return _person(step.owner)


class IncidentDetailOut(IncidentOut):
    description: str
    services: list[AffectedServiceOut]
    offerings: list[IncidentRefOut]
    organisations: list[AffectedOrganisationOut]
    tickets: list[IncidentTicketOut]
    plans: list[AudiencePlanOut]
    updates: list[IncidentUpdateOut]
    steps: list[RecoveryStepOut]
    published_plan: list[RecoveryStepOut]


class UpdateTemplateOut(Schema):
    name: str
    status: str
    affected: str
    impacted: str
    actions: str


class IncidentTicketLinkOut(Schema):
    incident: str
    ticket: str
    reference: str


def _plan(plan: AudiencePlan, now: datetime) -> dict[str, Any]:
    clock_of = queries.plan_clock(plan, now=now)
    calendar = plan.calendar
    return {
        "audience": plan.audience,
        "cadence_minutes": plan.cadence_minutes,
        "channels": list(plan.channels),
        "owner": _person(plan.owner),
        "calendar": {"public_id": calendar.public_id, "name": calendar.name} if calendar is not None else None,
        "is_active": plan.is_active,
        "last_update_at": plan.last_update_at,
        "next_due_at": clock_of.next_due_at,
        "minutes_left": clock_of.minutes_left,
        "overdue": clock_of.overdue,
        "silent_since": clock_of.silent_since,
    }


def _detail(incident: Incident) -> dict[str, Any]:
    """Everything IncidentDetailOut shows of the incident."""
    incident = queries.incident_detail(incident)
    now = clock.now()
    answer: dict[str, Any] = {name: getattr(incident, name) for name in IncidentOut.model_fields}
    answer["owner"] = _person(incident.owner)
    answer["comms_lead"] = _person(incident.comms_lead)
    answer["description"] = incident.description
    answer["services"] = [
        {"service": {"public_id": a.service.public_id, "name": a.service.name}, "component_status": a.component_status}
        for a in incident.affected_services.all()
    ]
    answer["offerings"] = [{"public_id": o.public_id, "name": o.name} for o in incident.offerings.all()]
    answer["organisations"] = [
        {
            "organisation": {"public_id": a.organisation.public_id, "name": a.organisation.name},
            "users_affected": a.users_affected,
            "users_total": a.users_total,
        }
        for a in incident.affected_organisations.all()
    ]
    answer["tickets"] = [
        {
            "public_id": link.ticket.public_id,
            "reference": link.ticket.reference,
            "subject": link.ticket.subject,
            "status": link.ticket.status,
            "linked_at": link.created_at,
        }
        for link in incident.ticket_links.all()
    ]
    answer["plans"] = [_plan(plan, now) for plan in incident.audience_plans.all()]
    answer["updates"] = list(incident.updates.all())
    answer["steps"] = list(incident.recovery_steps.all())
    answer["published_plan"] = services.published_plan(incident)
    return answer


# ---------------------------------------------------------------- input


class ComponentStatusIn(Schema):
    service: PublicId
    status: ComponentStatusName = "major_outage"


class AffectedOrganisationIn(Schema):
    organisation: PublicId
    users_affected: Annotated[Integer, Field(ge=0, le=10_000_000)] | None = Field(
        None, description="null: counted from the people holding the user role in its relationships"
    )


class IncidentIn(Schema):
    title: Title
    severity: SeverityName = "sev2"
    services: Annotated[list[ComponentStatusIn], Field(max_length=100)] = Field(
        [], description="Affected services and their component status; empty: the services of the tickets"
    )
    offerings: Annotated[list[PublicId], Field(max_length=100)] = []
    organisations: Annotated[list[AffectedOrganisationIn], Field(max_length=1000)] | None = Field(
        None, description="null: the organisations of the active relationships on the affected offerings and tickets"
    )
    tickets: Annotated[list[PublicId], Field(max_length=100)] = []
    impact_started_at: BoundedDateTime | None = None
    owner: PublicId | None = None
    comms_lead: PublicId | None = None
    visibility: VisibilityName = "public"
    description: LongText = ""
    audiences: list[AudienceName] | None = Field(
        None, description="The plans to keep; null: every audience the visibility allows (major), public only (minor)"
    )


class IncidentPatch(Schema):
    title: Title = Omittable()
    severity: SeverityName = Omittable()
    owner: PublicId | None = Field(None, description="null: no owner")
    comms_lead: PublicId | None = Field(None, description="null: no communications lead")
    visibility: VisibilityName = Omittable()
    description: LongText = Omittable()
    impact_started_at: BoundedDateTime = Omittable()
    version: Annotated[Integer, Field(ge=1)] = Omittable(description="The version you read: refused (412) if stale")


class IncidentUpdateIn(Schema):
    audiences: Annotated[list[AudienceName], Field(min_length=1, max_length=3)]
    status: UpdateStatusName | None = Field(None, description="null: the status stays")
    affected: LongText = ""
    impacted: LongText = ""
    actions: LongText = ""
    body: LongText = Field("", description="Empty: composed from affected, impacted and actions")
    next_update_at: BoundedDateTime | None = Field(None, description="null: the shortest cadence of the audiences")
    component_statuses: Annotated[list[ComponentStatusIn], Field(max_length=100)] = []
    deliver_notifications: bool = True


class IncidentResolveIn(Schema):
    body: Annotated[Text, Field(min_length=1, max_length=20_000)]
    resolved_at: BoundedDateTime | None = None
    impact_ended_at: BoundedDateTime | None = None


class AudiencePlanIn(Schema):
    audience: AudienceName
    cadence_minutes: Annotated[Integer, Field(ge=5, le=1440)] | None = None
    channels: Annotated[list[ChannelName], Field(max_length=3)] | None = None
    owner: PublicId | None = None
    calendar: PublicId | None = Field(None, description="A business calendar's public id; null: every hour counts")
    is_active: bool = True


class AudiencePlanPatch(Schema):
    cadence_minutes: Annotated[Integer, Field(ge=5, le=1440)] = Omittable()
    channels: Annotated[list[ChannelName], Field(max_length=3)] = Omittable()
    owner: PublicId | None = Field(None, description="null: no owner")
    calendar: PublicId | None = Field(None, description="null: every hour of every day counts")
    is_active: bool = Omittable()


class RecoveryStepIn(Schema):
    title: Annotated[Text, Field(min_length=1, max_length=300)]
    detail: LongText = ""
    owner: PublicId | None = None
    eta: BoundedDateTime | None = None
    eta_confidence: ConfidenceName = ""
    customer_facing: bool = False


class RecoveryStepPatch(Schema):
    title: Annotated[Text, Field(min_length=1, max_length=300)] = Omittable()
    detail: LongText = Omittable()
    owner: PublicId | None = Field(None, description="null: no owner")
    status: StepStatusName = Omittable()
    eta: BoundedDateTime | None = Field(None, description="null: no ETA")
    eta_confidence: ConfidenceName = Omittable()
    customer_facing: bool = Omittable()
    position: Annotated[Integer, Field(ge=0, le=10_000)] = Omittable()


class IncidentEtaIn(Schema):
    eta: BoundedDateTime | None = Field(..., description="null: no ETA any more")
    confidence: ConfidenceName = ""


class IncidentTicketLinkIn(Schema):
    ticket: PublicId


class IncidentQuery(Schema):
    status: (
        Literal[
            "investigating",
            "identified",
            "monitoring",
            "resolved",
            "scheduled",
            "in_progress",
            "verifying",
            "completed",
        ]
        | None
    ) = None
    kind: Literal["incident", "maintenance"] | None = None
    severity: SeverityName | None = None


# ---------------------------------------------------------------- lookups


def _staff(public_id: str | None, field: str) -> User | None:
    if public_id is None:
        return None
    user = User.objects.filter(public_id=public_id, is_active=True).first()
    if user is None or not user.is_staff_member:
        raise InvalidInput("unknown_staff", f"No active member of staff has the public id {public_id!r}.", field=field)
    return user


def _services(items: list[ComponentStatusIn], field: str) -> dict[Service, str]:
    result: dict[Service, str] = {}
    for item in items:
        service = Service.objects.filter(public_id=item.service).first()
        if service is None:
            raise InvalidInput("unknown_service", f"No service has the public id {item.service!r}.", field=field)
        result[service] = item.status
    return result


def _calendar(public_id: str | None) -> BusinessCalendar | None:
    if public_id is None:
        return None
    calendar = BusinessCalendar.objects.filter(public_id=public_id).first()
    if calendar is None:
        raise InvalidInput(
            "unknown_calendar", f"No business calendar has the public id {public_id!r}.", field="calendar"
        )
    return calendar


def _rows(model: Any, ids: list[str], field: str) -> list[Any]:
    rows = []
    for public_id in dict.fromkeys(ids):
        row = model.objects.filter(public_id=public_id).first()
        if row is None:
            raise InvalidInput(
                "unknown_" + field.rstrip("s"), f"Nothing in {field} has the public id {public_id!r}.", field=field
            )
        rows.append(row)
    return rows


def _organisations(items: list[AffectedOrganisationIn] | None) -> dict[Organisation, int | None] | None:
    if items is None:
        return None
    found = _rows(Organisation, [item.organisation for item in items], "organisations")
    by_id = {org.public_id: org for org in found}
    return {by_id[item.organisation]: item.users_affected for item in items}


def _incident(request: HttpRequest, public_id: str) -> Incident:
    return queries.incident_for(viewer=request.user, public_id=public_id)


# ---------------------------------------------------------------- incidents


@incidents_router.get(
    "/incidents",
    response={200: list[IncidentOut], 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="Incidents (staff)",
)
@paginate(LimitOffset)
def incident_list(request: HttpRequest, filters: Query[IncidentQuery]) -> Any:
    data = filters.dict()
    return queries.incident_list(
        viewer=request.user,
        filters=queries.IncidentFilter(
            status=data["status"] or "", kind=data["kind"] or "", severity=data["severity"] or ""
        ),
    )


@incidents_router.post(
    "/incidents",
    response={201: IncidentDetailOut, **ERRORS},
    summary="Declare an incident (staff)",
    description="From tickets (their services and organisations) or on its own; 409 when a ticket is linked elsewhere.",
)
def incident_create(request: HttpRequest, body: IncidentIn) -> Status:
    user = _user(request)
    incident = services.incident_declare(
        by=user,
        title=body.title,
        severity=body.severity,
        services=_services(body.services, "services"),
        offerings=_rows(Offering, body.offerings, "offerings"),
        organisations=_organisations(body.organisations),
        tickets=_rows(Ticket, body.tickets, "tickets"),
        impact_started_at=body.impact_started_at,
        owner=_staff(body.owner, "owner"),
        comms_lead=_staff(body.comms_lead, "comms_lead"),
        visibility=body.visibility,
        description=body.description,
        audiences=body.audiences,
    )
    return Status(201, _detail(incident))


@incidents_router.get(
    "/incidents/{public_id}",
    response={200: IncidentDetailOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="One incident: plans and their clocks, updates, recovery steps, tickets, organisations (staff)",
)
def incident_get(request: HttpRequest, public_id: str) -> Any:
    return _detail(_incident(request, public_id))


@incidents_router.patch(
    "/incidents/{public_id}",
    response={200: IncidentDetailOut, 412: ErrorOut, **ERRORS},
    summary="Change an incident (staff)",
)
def incident_patch(request: HttpRequest, public_id: str, body: IncidentPatch) -> Any:
    user = _user(request)
    incident = _incident(request, public_id)
    data = body.dict(exclude_unset=True)
    changes: dict[str, Any] = {
        key: data[key]
        for key in ("title", "severity", "visibility", "description", "impact_started_at", "version")
        if key in data
    }
    for key in ("owner", "comms_lead"):
        if key in data:
            changes[key] = _staff(data[key], key)
    return _detail(services.incident_change(incident=incident, by=user, **changes))


@incidents_router.post(
    "/incidents/{public_id}/updates",
    response={201: IncidentUpdateOut, **ERRORS},
    summary="Post an update to some audiences; restarts their clocks (staff)",
)
def update_post(request: HttpRequest, public_id: str, body: IncidentUpdateIn) -> Status:
    user = _user(request)
    update = services.incident_update_post(
        incident=_incident(request, public_id),
        by=user,
        audiences=list(body.audiences),
        status=body.status,
        affected=body.affected,
        impacted=body.impacted,
        actions=body.actions,
        body=body.body,
        next_update_at=body.next_update_at,
        component_statuses=_services(body.component_statuses, "component_statuses"),
        deliver_notifications=body.deliver_notifications,
    )
    return Status(201, update)


@incidents_router.post(
    "/incidents/{public_id}/resolve",
    response={201: IncidentUpdateOut, **ERRORS},
    summary="Resolve: a resolution notice to every active audience, clocks stopped (staff)",
)
def incident_resolve(request: HttpRequest, public_id: str, body: IncidentResolveIn) -> Status:
    user = _user(request)
    notice = services.incident_resolve(
        incident=_incident(request, public_id),
        by=user,
        body=body.body,
        resolved_at=body.resolved_at,
        impact_ended_at=body.impact_ended_at,
    )
    return Status(201, notice)


@incidents_router.get(
    "/incidents/{public_id}/templates",
    response={200: list[UpdateTemplateOut], 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Prefilled update texts for each stage (staff)",
)
def template_list(request: HttpRequest, public_id: str) -> Any:
    return services.update_templates(_incident(request, public_id))


@incidents_router.post(
    "/incidents/{public_id}/tickets",
    response={201: IncidentTicketLinkOut, **ERRORS},
    summary="Link a ticket about the same problem (staff); 409 when it is linked already",
)
def ticket_link(request: HttpRequest, public_id: str, body: IncidentTicketLinkIn) -> Status:
    user = _user(request)
    incident = _incident(request, public_id)
    ticket = get_object_or_404(Ticket, public_id=body.ticket)
    link: IncidentTicket = services.incident_link_ticket(incident=incident, ticket=ticket, by=user)
    return Status(201, {"incident": incident.public_id, "ticket": ticket.public_id, "reference": link.ticket.reference})


# ---------------------------------------------------------------- plans


def _plan_answer(plan: AudiencePlan) -> dict[str, Any]:
    plan = AudiencePlan.objects.select_related("owner", "calendar").prefetch_related("silences").get(pk=plan.pk)
    return _plan(plan, clock.now())


@incidents_router.post(
    "/incidents/{public_id}/plans",
    response={200: AudiencePlanOut, **ERRORS},
    summary="Start or set the communication plan of an audience (staff)",
)
def plan_set(request: HttpRequest, public_id: str, body: AudiencePlanIn) -> Any:
    user = _user(request)
    data = body.dict(exclude_unset=True)
    changes: dict[str, Any] = {"is_active": body.is_active}
    if "owner" in data:
        changes["owner"] = _staff(body.owner, "owner")
    if "calendar" in data:
        changes["calendar"] = _calendar(body.calendar)
    plan = services.audience_plan_set(
        incident=_incident(request, public_id),
        audience=body.audience,
        by=user,
        cadence_minutes=body.cadence_minutes,
        channels=list(body.channels) if body.channels is not None else None,
        **changes,
    )
    return _plan_answer(plan)


@incidents_router.patch(
    "/incidents/{public_id}/plans/{audience}",
    response={200: AudiencePlanOut, **ERRORS},
    summary="Change an audience's plan: cadence, channels, owner, calendar (staff)",
)
def plan_patch(request: HttpRequest, public_id: str, audience: AudienceName, body: AudiencePlanPatch) -> Any:
    user = _user(request)
    incident = _incident(request, public_id)
    get_object_or_404(AudiencePlan, incident=incident, audience=audience)
    data = body.dict(exclude_unset=True)
    changes: dict[str, Any] = {}
    if "owner" in data:
        changes["owner"] = _staff(data["owner"], "owner")
    if "calendar" in data:
        changes["calendar"] = _calendar(data["calendar"])
    plan = services.audience_plan_set(
        incident=incident,
        audience=audience,
        by=user,
        cadence_minutes=data.get("cadence_minutes"),
        channels=data.get("channels"),
        is_active=data.get("is_active"),
        **changes,
    )
    return _plan_answer(plan)


# ---------------------------------------------------------------- recovery


@incidents_router.post(
    "/incidents/{public_id}/steps", response={201: RecoveryStepOut, **ERRORS}, summary="Add a recovery step (staff)"
)
def step_add(request: HttpRequest, public_id: str, body: RecoveryStepIn) -> Status:
    user = _user(request)
    step = services.recovery_step_add(
        incident=_incident(request, public_id),
        by=user,
        title=body.title,
        detail=body.detail,
        owner=_staff(body.owner, "owner"),
        eta=body.eta,
        eta_confidence=body.eta_confidence,
        customer_facing=body.customer_facing,
    )
    return Status(201, step)


@incidents_router.patch(
    "/steps/{public_id}",
    response={200: RecoveryStepOut, **ERRORS},
    summary="Change a recovery step; every new ETA is kept (staff)",
)
def step_patch(request: HttpRequest, public_id: str, body: RecoveryStepPatch) -> Any:
    user = _user(request)
    step = queries.step_for(viewer=request.user, public_id=public_id)
    data = body.dict(exclude_unset=True)
    if "owner" in data:
        data["owner"] = _staff(data["owner"], "owner")
    return services.recovery_step_update(step=step, by=user, **data)


@incidents_router.post(
    "/incidents/{public_id}/eta",
    response={200: IncidentDetailOut, **ERRORS},
    summary="Set the ETA for recovery and how sure the team is (staff)",
)
def eta_set(request: HttpRequest, public_id: str, body: IncidentEtaIn) -> Any:
    user = _user(request)
    incident = services.incident_eta_set(
        incident=_incident(request, public_id), by=user, eta=body.eta, confidence=body.confidence
    )
    return _detail(incident)


@incidents_router.post(
    "/incidents/{public_id}/publish-plan",
    response={200: IncidentDetailOut, **ERRORS},
    summary="Publish the customer-facing steps with the updates (staff)",
)
def plan_publish(request: HttpRequest, public_id: str) -> Any:
    user = _user(request)
    return _detail(services.recovery_plan_publish(incident=_incident(request, public_id), by=user))

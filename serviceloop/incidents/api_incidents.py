"""The incidents API for staff: declare, change, communicate on a cadence, plan the recovery, resolve."""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Status
from ninja.pagination import paginate

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core import clock
from serviceloop.core.errors import InvalidInput
from serviceloop.core.pagination import LimitOffset
from serviceloop.core.schemas import ErrorOut
from serviceloop.core.visibility import require_staff
from serviceloop.desk.models import BusinessCalendar, Ticket
from serviceloop.incidents import queries, services
from serviceloop.incidents.api_incidents_schemas import (
    AffectedOrganisationIn,
    AudienceName,
    AudiencePlanIn,
    AudiencePlanOut,
    AudiencePlanPatch,
    ComponentStatusIn,
    IncidentDetailOut,
    IncidentEtaIn,
    IncidentIn,
    IncidentOut,
    IncidentPatch,
    IncidentQuery,
    IncidentResolveIn,
    IncidentTicketLinkIn,
    IncidentTicketLinkOut,
    IncidentUpdateIn,
    IncidentUpdateOut,
    RecoveryStepIn,
    RecoveryStepOut,
    RecoveryStepPatch,
    UpdateTemplateOut,
    person_ref,
)
from serviceloop.incidents.models import AudiencePlan, Incident, IncidentTicket

incidents_router = Router()


ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _user(request: HttpRequest) -> User:
    require_staff(request.user)
    return request.user  # type: ignore[return-value]


def _plan(plan: AudiencePlan, now: datetime) -> dict[str, Any]:
    clock_of = queries.plan_clock(plan, now=now)
    calendar = plan.calendar
    return {
        "audience": plan.audience,
        "cadence_minutes": plan.cadence_minutes,
        "channels": list(plan.channels),
        "owner": person_ref(plan.owner),
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
    answer["owner"] = person_ref(incident.owner)
    answer["comms_lead"] = person_ref(incident.comms_lead)
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

"""Posting updates to an incident's audiences (restarting their clocks) and the resolution notice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from serviceloop.accounts.models import User
from serviceloop.catalogue.models import Service
from serviceloop.core import clock
from serviceloop.core.errors import InvalidInput
from serviceloop.core.events import event_record
from serviceloop.incidents import events
from serviceloop.incidents.comms_mail import update_mail
from serviceloop.incidents.models import (
    AffectedService,
    AudiencePlan,
    ComponentStatus,
    ComponentStatusChange,
    Incident,
    IncidentUpdate,
    RecoveryStep,
    Silence,
)
from serviceloop.incidents.services_base import due_after, lock, require_open_incident, require_staff
from serviceloop.incidents.services_declare import component_status_move

UPDATE_STATUSES = tuple(status.value for status in Incident.OPEN_INCIDENT)


def published_plan(incident: Incident) -> list[RecoveryStep]:
    """The customer-facing steps shown with the updates, once the plan is published (else none)."""
    if incident.plan_published_at is None:
        return []
    return list(
        incident.recovery_steps.filter(customer_facing=True)
        .exclude(status=RecoveryStep.Status.DROPPED)
        .order_by("position", "pk")
    )


def compose_body(*, affected: str, impacted: str, actions: str, next_update_at: datetime | None) -> str:
    lines = [f"Affected: {affected.strip()}", f"Impact: {impacted.strip()}", f"What we are doing: {actions.strip()}"]
    if next_update_at is not None:
        lines.append(f"Next update: by {next_update_at:%H:%M} UTC")
    return "\n".join(lines)


def _addressed_plans(incident: Incident, audiences: list[str]) -> list[AudiencePlan]:
    if not audiences:
        raise InvalidInput("audiences_required", "Address the update to at least one audience.", field="audiences")
    plans = {
        plan.audience: plan
        for plan in AudiencePlan.objects.select_for_update(of=("self",))
        .select_related("calendar", "owner")
        .filter(incident=incident, audience__in=audiences)
    }
    missing = [
        audience for audience in dict.fromkeys(audiences) if audience not in plans or not plans[audience].is_active
    ]
    if missing:
        raise InvalidInput(
            "audience_without_plan",
            f"{incident.reference} has no active plan for {', '.join(missing)}: start one first.",
            field="audiences",
        )
    return [plans[audience] for audience in dict.fromkeys(audiences)]


def _next_update(
    plans: list[AudiencePlan], now: datetime, asked: datetime | None
) -> tuple[datetime, dict[int, datetime]]:
    """When the next update comes: as asked (not later than every plan's cadence allows) or the earliest."""
    latest = {plan.pk: due_after(plan, now) for plan in plans}
    allowed = min(latest.values())
    if asked is None:
        return allowed, latest
    if asked <= now:
        raise InvalidInput(
            "next_update_in_past", "The next update must be promised for later than now.", field="next_update_at"
        )
    if asked > allowed:
        raise InvalidInput(
            "next_update_too_late",
            f"The cadence allows the next update no later than {allowed:%Y-%m-%d %H:%M} UTC; "
            "promise it sooner, or change the audience's cadence first.",
            field="next_update_at",
        )
    return asked, latest


def _restart_clocks(
    plans: list[AudiencePlan], now: datetime, next_at: datetime | None, latest: dict[int, datetime]
) -> None:
    for plan in plans:
        plan.last_update_at = now
        plan.next_due_at = None if next_at is None else min(next_at, latest[plan.pk])
        plan.reminded_at = None
        plan.overdue_at = None
        plan.save(update_fields=["last_update_at", "next_due_at", "reminded_at", "overdue_at", "updated_at"])
        Silence.objects.filter(plan=plan, ended_at__isnull=True).update(ended_at=now, updated_at=now)


def _component_moves(incident: Incident, statuses: dict[Service, str], now: datetime) -> list[dict[str, str]]:
    moved = []
    for service, status in statuses.items():
        if status not in ComponentStatus.values or status == ComponentStatus.MAINTENANCE:
            raise InvalidInput(
                "invalid_component_status",
                f"“{service.name}”: {status!r} is not a component status of an incident.",
                field="component_statuses",
            )
        current = AffectedService.objects.filter(incident=incident, service=service).first()
        if current is not None and current.component_status == status:
            continue
        old, new = component_status_move(incident=incident, service=service, status=status, at=now)
        component = getattr(service, "status_component", None)
        moved.append(
            {
                "code": service.public_id,
                "name": component.name if component is not None else service.name,
                "old_status": old,
                "new_status": new,
            }
        )
    return moved


def _status_move(incident: Incident, status: str, now: datetime, by: User) -> None:
    old = incident.status
    if old == status:
        return
    incident.status = status
    if status in (Incident.Status.IDENTIFIED, Incident.Status.MONITORING) and incident.identified_at is None:
        incident.identified_at = now
    if status == Incident.Status.MONITORING and incident.monitoring_at is None:
        incident.monitoring_at = now
    if status == Incident.Status.RESOLVED:
        incident.resolved_at = incident.resolved_at or now
    event_record(
        events.INCIDENT_STATUS_CHANGED,
        subject=incident,
        by=by,
        incident_id=incident.pk,
        old_status=old,
        new_status=status,
    )


def _posted(incident: Incident, update: IncidentUpdate, by: User) -> None:
    event_record(
        events.INCIDENT_UPDATE_POSTED,
        subject=incident,
        by=by,
        incident_id=incident.pk,
        update_id=update.pk,
        audiences=list(update.audiences),
        status=update.status,
        deliver_notifications=update.deliver_notifications,
    )


def incident_update_post(
    *,
    incident: Incident,
    by: User,
    audiences: list[str],
    status: str | None = None,
    affected: str = "",
    impacted: str = "",
    actions: str = "",
    body: str = "",
    next_update_at: datetime | None = None,
    component_statuses: dict[Service, str] | None = None,
    deliver_notifications: bool = True,
) -> IncidentUpdate:
    """Post an update to some audiences: restart their clocks, close their silences, mail who hears by mail."""
    require_staff(by, "post incident updates")
    if status is not None and status not in UPDATE_STATUSES:
        hint = " Resolve it instead." if status == Incident.Status.RESOLVED else ""
        raise InvalidInput(
            "invalid_status", f"An update's status is one of {', '.join(UPDATE_STATUSES)}.{hint}", field="status"
        )
    if not body.strip() and not (affected.strip() and impacted.strip() and actions.strip()):
        raise InvalidInput(
            "body_required",
            "Write the update: a body, or all three of what is affected, who is impacted and what is being done.",
            field="body",
        )
    with transaction.atomic():
        incident = lock(incident)
        require_open_incident(incident, "updates")
        now = clock.now()
        plans = _addressed_plans(incident, list(audiences))
        next_at, latest = _next_update(plans, now, next_update_at)
        moved = _component_moves(incident, component_statuses or {}, now)
        if status is not None:
            _status_move(incident, status, now, by)
        incident.save()
        update = IncidentUpdate.objects.create(
            incident=incident,
            kind=IncidentUpdate.Kind.UPDATE,
            status=incident.status,
            audiences=[plan.audience for plan in plans],
            affected=affected.strip(),
            impacted=impacted.strip(),
            actions=actions.strip(),
            body=body.strip()
            or compose_body(affected=affected, impacted=impacted, actions=actions, next_update_at=next_at),
            next_update_at=next_at,
            display_at=now,
            posted_by=by,
            deliver_notifications=deliver_notifications,
            affected_components=moved,
        )
        _restart_clocks(plans, now, next_at, latest)
        if deliver_notifications:
            update_mail(incident=incident, update=update, plans=plans, steps=published_plan(incident))
        _posted(incident, update, by)
    return update


@dataclass(frozen=True)
class _Resolution:
    resolved_at: datetime
    impact_ended_at: datetime


def _resolution_times(
    incident: Incident, now: datetime, resolved_at: datetime | None, impact_ended_at: datetime | None
) -> _Resolution:
    resolved = resolved_at or now
    if resolved > now:
        raise InvalidInput("resolved_in_future", "An incident cannot be resolved in the future.", field="resolved_at")
    if incident.declared_at is not None and resolved < incident.declared_at:
        raise InvalidInput(
            "resolved_before_declared", "An incident is resolved after it was declared.", field="resolved_at"
        )
    ended = impact_ended_at or resolved
    if ended > now:
        raise InvalidInput("impact_in_future", "The impact cannot end in the future.", field="impact_ended_at")
    started = incident.impact_started_at or incident.declared_at
    if started is not None and ended < started:
        raise InvalidInput("impact_ends_before_start", "The impact ends after it started.", field="impact_ended_at")
    return _Resolution(resolved_at=resolved, impact_ended_at=ended)


def _close_components(incident: Incident, ended: datetime) -> list[dict[str, str]]:
    moved = []
    for affected in incident.affected_services.select_related("service"):
        for row in ComponentStatusChange.objects.filter(
            incident=incident, service=affected.service, ended_at__isnull=True
        ):
            row.ended_at = max(ended, row.started_at)
            row.save(update_fields=["ended_at"])
        component = getattr(affected.service, "status_component", None)
        moved.append(
            {
                "code": affected.service.public_id,
                "name": component.name if component is not None else affected.service.name,
                "old_status": affected.component_status,
                "new_status": ComponentStatus.OPERATIONAL.value,
            }
        )
    return moved


def incident_resolve(
    *,
    incident: Incident,
    by: User,
    body: str,
    resolved_at: datetime | None = None,
    impact_ended_at: datetime | None = None,
) -> IncidentUpdate:
    """Resolve: a resolution notice to every active audience, services back to operational, plans closed."""
    require_staff(by, "resolve incidents")
    if not body.strip():
        raise InvalidInput(
            "body_required", "Write the resolution notice: what was wrong and what was done.", field="body"
        )
    with transaction.atomic():
        incident = lock(incident)
        require_open_incident(incident, "resolution")
        now = clock.now()
        times = _resolution_times(incident, now, resolved_at, impact_ended_at)
        plans = list(
            AudiencePlan.objects.select_for_update(of=("self",))
            .select_related("owner")
            .filter(incident=incident, is_active=True)
            .order_by("audience")
        )
        moved = _close_components(incident, times.impact_ended_at)
        incident.resolved_at = times.resolved_at
        incident.impact_ended_at = times.impact_ended_at
        _status_move(incident, Incident.Status.RESOLVED, now, by)
        incident.save()
        update = IncidentUpdate.objects.create(
            incident=incident,
            kind=IncidentUpdate.Kind.RESOLUTION,
            status=Incident.Status.RESOLVED,
            audiences=[plan.audience for plan in plans],
            body=body.strip(),
            display_at=now,
            posted_by=by,
            affected_components=moved,
        )
        for plan in plans:
            plan.last_update_at = now
            plan.is_active = False
            plan.next_due_at = None
            plan.reminded_at = None
            plan.overdue_at = None
            plan.save()
        Silence.objects.filter(plan__incident=incident, ended_at__isnull=True).update(ended_at=now, updated_at=now)
        update_mail(incident=incident, update=update, plans=plans, steps=published_plan(incident))
        _posted(incident, update, by)
        event_record(
            events.INCIDENT_RESOLVED,
            subject=incident,
            by=by,
            incident_id=incident.pk,
            resolved_at=times.resolved_at.isoformat(),
            is_major=incident.is_major,
            organisation_ids=sorted(incident.affected_organisations.values_list("organisation_id", flat=True)),
        )
    return update

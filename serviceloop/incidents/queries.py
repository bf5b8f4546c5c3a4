"""Reads of the incidents app for staff: lists, one incident, and the clock of each audience plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.http import Http404

from serviceloop.core.visibility import require_staff
from serviceloop.desk.business_time import business_seconds_between
from serviceloop.incidents.models import AudiencePlan, Incident, RecoveryStep
from serviceloop.incidents.services_base import plan_calendar


@dataclass(frozen=True)
class IncidentFilter:
    status: str = ""
    kind: str = ""
    severity: str = ""


def incident_list(*, viewer: object, filters: IncidentFilter) -> QuerySet[Incident]:
    """Incidents (and maintenance) for staff, newest declared first."""
    require_staff(viewer)
    rows = Incident.objects.select_related("owner", "comms_lead").order_by("-created_at", "-pk")
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.severity:
        rows = rows.filter(severity=filters.severity)
    return rows


def incident_for(*, viewer: object, public_id: str) -> Incident:
    require_staff(viewer)
    incident = Incident.objects.select_related("owner", "comms_lead").filter(public_id=public_id).first()
    if incident is None:
        raise Http404("No such incident.")
    return incident


def step_for(*, viewer: object, public_id: str) -> RecoveryStep:
    require_staff(viewer)
    step = RecoveryStep.objects.select_related("incident", "owner").filter(public_id=public_id).first()
    if step is None:
        raise Http404("No such recovery step.")
    return step


@dataclass(frozen=True)
class PlanClock:
    """How long until a plan's next update is due, in its business minutes (negative: overdue)."""

    next_due_at: datetime | None
    minutes_left: float | None
    overdue: bool
    silent_since: datetime | None


def plan_clock(plan: AudiencePlan, *, now: datetime) -> PlanClock:
    open_silence = next((s for s in plan.silences.all() if s.ended_at is None), None)
    silent_since = open_silence.due_at if open_silence is not None else None
    due = plan.next_due_at
    if due is None or not plan.is_active:
        return PlanClock(next_due_at=None, minutes_left=None, overdue=False, silent_since=silent_since)
    calendar = plan_calendar(plan)
    seconds = (due - now).total_seconds() if calendar is None else business_seconds_between(calendar, now, due)
    return PlanClock(
        next_due_at=due, minutes_left=round(seconds / 60, 1), overdue=now >= due, silent_since=silent_since
    )


def incident_detail(incident: Incident) -> Incident:
    """The incident with what its detail answer shows prefetched."""
    return (
        Incident.objects.select_related("owner", "comms_lead", "declared_by")
        .prefetch_related(
            "offerings",
            "affected_services__service",
            "affected_organisations__organisation",
            "ticket_links__ticket",
            "audience_plans__owner",
            "audience_plans__calendar",
            "audience_plans__silences",
            "updates__posted_by",
            "recovery_steps__owner",
        )
        .get(pk=incident.pk)
    )

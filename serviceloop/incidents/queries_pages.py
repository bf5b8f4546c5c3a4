"""Reads of the incident pages: the staff list and working page, the portal's view, the banner (queries.py holds the API's).

The portal's rule is in `portal_incidents`: a customer sees the incidents and maintenance that name
their organisation among the affected (visibility customers or public), and the public ones on a
service their organisation consumes; never an internal one, never another organisation's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Service
from serviceloop.desk.models import Ticket
from serviceloop.incidents.models import (
    AffectedOrganisation,
    AffectedService,
    Audience,
    AudiencePlan,
    EtaChange,
    Incident,
    IncidentTicket,
    IncidentUpdate,
    RecoveryStep,
)
from serviceloop.relationships.models import Relationship

# How long a resolved incident stays on the "open and recent" list.
RECENT_DAYS = 14
LISTS = {"current": "Open and recent", "open": "Open", "resolved": "Resolved", "all": "All"}
OPEN_STATES = (*Incident.OPEN_INCIDENT, *Incident.MAINTENANCE_ACTIVE)
DONE_STATES = (Incident.Status.RESOLVED, Incident.Status.COMPLETED)
CUSTOMER_AUDIENCES = (Audience.CUSTOMERS.value, Audience.PUBLIC.value)


def _id(value: str) -> str:
    return (value or "")[:24]


@dataclass(frozen=True)
class IncidentFilter:
    list: str = "current"
    severity: str = ""
    kind: str = ""
    service: str = ""
    organisation: str = ""
    q: str = ""


def _with_parts(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    return incidents.select_related("owner", "comms_lead").prefetch_related(
        Prefetch("affected_services", queryset=AffectedService.objects.select_related("service").order_by("pk")),
        Prefetch(
            "affected_organisations",
            queryset=AffectedOrganisation.objects.select_related("organisation").order_by("organisation__name"),
        ),
        Prefetch("audience_plans", queryset=AudiencePlan.objects.order_by("audience")),
    )


def incident_list(*, filters: IncidentFilter, now: datetime) -> QuerySet[Incident]:
    """The staff list: open first (by severity, then newest), then the rest newest first."""
    incidents = Incident.objects.all()
    if filters.list == "open":
        incidents = incidents.filter(status__in=OPEN_STATES)
    elif filters.list == "resolved":
        incidents = incidents.filter(status__in=DONE_STATES)
    elif filters.list == "current":
        since = now - timedelta(days=RECENT_DAYS)
        incidents = incidents.filter(
            Q(status__in=OPEN_STATES)
            | Q(status=Incident.Status.SCHEDULED)
            | Q(resolved_at__gte=since)
            | Q(completed_at__gte=since)
        )
    if filters.severity:
        incidents = incidents.filter(severity=filters.severity)
    if filters.kind:
        incidents = incidents.filter(kind=filters.kind)
    if filters.service:
        incidents = incidents.filter(affected_services__service__public_id=_id(filters.service))
    if filters.organisation:
        incidents = incidents.filter(affected_organisations__organisation__public_id=_id(filters.organisation))
    if filters.q:
        incidents = incidents.filter(Q(reference__iexact=filters.q.strip()) | Q(title__icontains=filters.q))
    opened = Q(status__in=OPEN_STATES)
    return (
        _with_parts(incidents.distinct())
        .annotate(is_current=Exists(Incident.objects.filter(pk=OuterRef("pk")).filter(opened)))
        .order_by("-is_current", "severity", "-declared_at", "-created_at", "-pk")
    )


def incident_for_staff(public_id: str) -> Incident:
    return get_object_or_404(_with_parts(Incident.objects.all()), public_id=_id(public_id))


# ---------------------------------------------------------------- clocks


@dataclass(frozen=True)
class Clock:
    plan: AudiencePlan
    due_at: datetime | None
    minutes_left: int | None
    state: str  # ok | warn | bad | off
    words: str


def clock_of(plan: AudiencePlan, now: datetime) -> Clock:
    if not plan.is_active or plan.next_due_at is None:
        return Clock(plan, plan.next_due_at, None, "off", "No update promised" if plan.is_active else "Paused")
    minutes = int((plan.next_due_at - now).total_seconds() // 60)
    if minutes < 0:
        return Clock(plan, plan.next_due_at, minutes, "bad", f"Overdue by {-minutes} min")
    state = "warn" if minutes <= 5 else "ok"
    return Clock(plan, plan.next_due_at, minutes, state, f"{minutes} min left")


def clocks_of(incident: Incident, now: datetime) -> list[Clock]:
    return [clock_of(plan, now) for plan in incident.audience_plans.all()]


# ---------------------------------------------------------------- working page


def updates_of(incident: Incident) -> QuerySet[IncidentUpdate]:
    return incident.updates.select_related("posted_by").order_by("-display_at", "-pk")


def steps_of(incident: Incident) -> QuerySet[RecoveryStep]:
    return incident.recovery_steps.select_related("owner").prefetch_related(
        Prefetch("eta_changes", queryset=EtaChange.objects.select_related("by").order_by("changed_at", "pk"))
    )


def incident_eta_history(incident: Incident) -> QuerySet[EtaChange]:
    return incident.eta_changes.filter(step__isnull=True).select_related("by").order_by("changed_at", "pk")


def linked_tickets(incident: Incident) -> QuerySet[IncidentTicket]:
    return incident.ticket_links.select_related("ticket__organisation", "ticket__service", "linked_by").order_by(
        "ticket__opened_at", "pk"
    )


def candidate_tickets(incident: Incident, limit: int = 50) -> QuerySet[Ticket]:
    """Open tickets on the affected services opened since the impact started, linked to no incident."""
    since = incident.impact_started_at or incident.declared_at or incident.created_at
    service_ids = [a.service_id for a in incident.affected_services.all()]
    return (
        Ticket.objects.filter(
            service_id__in=service_ids,
            status__in=Ticket.ACTIVE,
            opened_at__gte=since,
            incident_link__isnull=True,
        )
        .select_related("organisation", "service", "requester")
        .order_by("opened_at", "pk")[:limit]
    )


def open_incidents_for_ticket(ticket: Ticket) -> QuerySet[Incident]:
    """Open incidents to link a ticket to, those on the ticket's service first."""
    on_service = AffectedService.objects.filter(incident=OuterRef("pk"), service_id=ticket.service_id)
    return (
        _with_parts(Incident.objects.filter(kind=Incident.Kind.INCIDENT, status__in=Incident.OPEN_INCIDENT))
        .annotate(on_service=Exists(on_service))
        .order_by("-on_service", "severity", "-declared_at", "-pk")
    )


def tickets_by_public_id(public_ids: list[str]) -> list[Ticket]:
    ids = [_id(value) for value in public_ids[:50] if value]
    return list(Ticket.objects.filter(public_id__in=ids).select_related("service", "organisation", "offering"))


def ticket_link_of(ticket: Ticket) -> IncidentTicket | None:
    return IncidentTicket.objects.filter(ticket=ticket).select_related("incident").first()


def organisations_on_services(service_ids: list[int]) -> QuerySet[Organisation]:
    """The organisations with an active relationship on an offering of these services (the default affected)."""
    consuming = Relationship.objects.filter(
        organisation=OuterRef("pk"), offering__service_id__in=service_ids, status=Relationship.Status.ACTIVE
    )
    return Organisation.objects.filter(Exists(consuming)).order_by("name")


def staff_users() -> QuerySet[User]:
    return User.objects.filter(is_active=True).exclude(role=User.Role.CUSTOMER).order_by("name", "email")


def live_services() -> QuerySet[Service]:
    return Service.objects.order_by("name")


# ---------------------------------------------------------------- portal


def _consumed_services(organisation_id: int) -> QuerySet[Relationship]:
    return Relationship.objects.filter(organisation_id=organisation_id, status=Relationship.Status.ACTIVE)


def portal_incidents(viewer: Any) -> QuerySet[Incident]:
    """What a customer may see: their organisation's (customers or public), and public ones on their services."""
    organisation_id = getattr(viewer, "organisation_id", None)
    if not getattr(viewer, "is_authenticated", False) or organisation_id is None:
        return Incident.objects.none()
    affects_us = AffectedOrganisation.objects.filter(incident=OuterRef("pk"), organisation_id=organisation_id)
    consumed = _consumed_services(organisation_id).values("offering__service_id")
    on_our_services = AffectedService.objects.filter(incident=OuterRef("pk"), service_id__in=consumed)
    return Incident.objects.exclude(visibility=Incident.Visibility.INTERNAL).filter(
        Exists(affects_us) | (Q(visibility=Incident.Visibility.PUBLIC) & Exists(on_our_services))
    )


def portal_list(viewer: Any) -> QuerySet[Incident]:
    opened = Incident.objects.filter(pk=OuterRef("pk"), status__in=(*OPEN_STATES, Incident.Status.SCHEDULED))
    return (
        portal_incidents(viewer)
        .prefetch_related(
            Prefetch("affected_services", queryset=AffectedService.objects.select_related("service").order_by("pk"))
        )
        .annotate(is_current=Exists(opened))
        .order_by("-is_current", "-declared_at", "-scheduled_for", "-created_at", "-pk")
    )


def portal_incident_for(viewer: Any, public_id: str) -> Incident:
    return get_object_or_404(portal_list(viewer), public_id=_id(public_id))


def portal_updates(incident: Incident, viewer: Any) -> list[IncidentUpdate]:
    """The updates addressed to the public, and those to the affected customers when the viewer's
    organisation is among them (a public incident is also seen by organisations that consume the
    service without being affected). JSON lists: filtered here, the list is short."""
    organisation_id = getattr(viewer, "organisation_id", None)
    affected = (
        organisation_id is not None and incident.affected_organisations.filter(organisation_id=organisation_id).exists()
    )
    audiences = CUSTOMER_AUDIENCES if affected else (Audience.PUBLIC.value,)
    return [
        update
        for update in incident.updates.order_by("-display_at", "-pk")
        if any(audience in audiences for audience in update.audiences or [])
    ]


def portal_steps(incident: Incident) -> QuerySet[RecoveryStep]:
    if incident.plan_published_at is None:
        return RecoveryStep.objects.none()
    return incident.recovery_steps.filter(customer_facing=True).exclude(status=RecoveryStep.Status.DROPPED)


def banner_incident(viewer: Any) -> Incident | None:
    """The open incident (or maintenance in progress) affecting the viewer's organisation: one query."""
    active = Q(kind=Incident.Kind.INCIDENT, status__in=Incident.OPEN_INCIDENT) | Q(
        kind=Incident.Kind.MAINTENANCE, status__in=Incident.MAINTENANCE_ACTIVE
    )
    return (
        portal_incidents(viewer)
        .filter(active)
        .only("public_id", "reference", "title", "kind", "status", "severity")
        .order_by("severity", "-declared_at", "-pk")
        .first()
    )

"""Declaring a major (or minor) incident, linking tickets to it, changing it, and its audience plans."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core import clock
from serviceloop.core.errors import ConflictError, InvalidInput, PreconditionFailed
from serviceloop.core.events import event_record
from serviceloop.desk.models import BusinessCalendar, Ticket
from serviceloop.incidents import events
from serviceloop.incidents.models import (
    MAJOR_SEVERITIES,
    AffectedOrganisation,
    AffectedService,
    Audience,
    AudiencePlan,
    ComponentStatus,
    ComponentStatusChange,
    Incident,
    IncidentTicket,
    Severity,
)
from serviceloop.incidents.references import next_reference
from serviceloop.incidents.services_base import (
    DEFAULT_CHANNELS,
    KEEP,
    Keep,
    allowed_audiences,
    default_cadence,
    due_after,
    lock,
    require_staff,
    require_staff_member,
    validate_audience,
    validate_cadence,
    validate_channels,
)
from serviceloop.relationships.models import Relationship, RelationshipRole

# ---------------------------------------------------------------- affected organisations and users


def _offerings_of(incident: Incident) -> QuerySet[Offering]:
    """The affected offerings, or every offering of the affected services when none are named."""
    named = incident.offerings.all()
    if named.exists():
        return named
    return Offering.objects.filter(service__in=incident.affected_services.values("service"))


def _users_in(organisation: Organisation, relationships: QuerySet[Relationship]) -> int:
    return (
        RelationshipRole.objects.filter(
            relationship__in=relationships.filter(organisation=organisation), role=RelationshipRole.Role.USER
        )
        .values("person")
        .distinct()
        .count()
    )


def _affected_relationships(incident: Incident) -> QuerySet[Relationship]:
    return Relationship.objects.filter(status=Relationship.Status.ACTIVE, offering__in=_offerings_of(incident))


def organisation_add(incident: Incident, organisation: Organisation, users_affected: int | None) -> bool:
    """Add one affected organisation (users from its relationships unless given); False if already there."""
    if AffectedOrganisation.objects.filter(incident=incident, organisation=organisation).exists():
        return False
    counted = _users_in(organisation, _affected_relationships(incident))
    total = _users_in(organisation, Relationship.objects.exclude(status=Relationship.Status.ENDED))
    affected = counted if users_affected is None else users_affected
    AffectedOrganisation.objects.create(
        incident=incident, organisation=organisation, users_affected=affected, users_total=max(total, affected)
    )
    return True


def organisations_derive(incident: Incident) -> None:
    """Affected organisations by the one rule of incidents and maintenance alike: every organisation
    with an active relationship on the affected offerings (all offerings of the affected services when
    none is named), its users from the relationships' `user` roles."""
    derived = {rel.organisation for rel in _affected_relationships(incident).select_related("organisation")}
    for organisation in sorted(derived, key=lambda org: org.pk):
        organisation_add(incident, organisation, None)


def _users_affected_sum(incident: Incident) -> None:
    incident.users_affected = sum(incident.affected_organisations.values_list("users_affected", flat=True))
    incident.save(update_fields=["users_affected", "updated_at"])


# ---------------------------------------------------------------- declare


def _validate_services(services: dict[Service, str], tickets: list[Ticket]) -> dict[Service, str]:
    if not services:
        services = {ticket.service: ComponentStatus.MAJOR.value for ticket in tickets}
    if not services:
        raise InvalidInput(
            "services_required", "Name at least one affected service (or declare from a ticket).", field="services"
        )
    for service, status in services.items():
        if status not in ComponentStatus.values or status == ComponentStatus.MAINTENANCE:
            raise InvalidInput(
                "invalid_component_status",
                f"“{service.name}”: {status!r} is not a component status of an incident "
                "(operational, degraded_performance, partial_outage, major_outage).",
                field="services",
            )
    return services


def _validate_declaration(
    *, title: str, severity: str, visibility: str, impact_started_at: datetime | None, now: datetime
) -> None:
    if not title.strip():
        raise InvalidInput("title_required", "Give the incident a title.", field="title")
    if len(title) > 200:
        raise InvalidInput("title_too_long", "A title has at most 200 characters.", field="title")
    if severity not in Severity.values:
        raise InvalidInput("invalid_severity", f"Severity is one of {', '.join(Severity.values)}.", field="severity")
    if visibility not in Incident.Visibility.values:
        raise InvalidInput(
            "invalid_visibility", f"Visibility is one of {', '.join(Incident.Visibility.values)}.", field="visibility"
        )
    if impact_started_at is not None and impact_started_at > now:
        raise InvalidInput(
            "impact_in_future", "The impact cannot start after the declaration.", field="impact_started_at"
        )


def _default_audiences(incident: Incident) -> list[str]:
    if incident.is_major:
        return allowed_audiences(incident)
    return [Audience.PUBLIC.value] if incident.visibility == Incident.Visibility.PUBLIC else []


def incident_declare(
    *,
    by: User,
    title: str,
    severity: str,
    services: dict[Service, str],
    offerings: Iterable[Offering] = (),
    organisations: dict[Organisation, int | None] | None = None,
    tickets: Iterable[Ticket] = (),
    impact_started_at: datetime | None = None,
    owner: User | None = None,
    comms_lead: User | None = None,
    visibility: str = "public",
    description: str = "",
    audiences: Iterable[str] | None = None,
) -> Incident:
    """Declare an incident: its services, organisations, users affected, audience plans and clocks.

    `audiences` are the plans to keep: by default every audience the visibility allows for a major
    incident (SEV1–2), and only the public one (when public) for a minor one.
    """
    require_staff(by, "declare an incident")
    require_staff_member(owner, "owner")
    require_staff_member(comms_lead, "comms_lead")
    now = clock.now()
    _validate_declaration(
        title=title, severity=severity, visibility=visibility, impact_started_at=impact_started_at, now=now
    )
    ticket_list = list(tickets)
    services = _validate_services(dict(services), ticket_list)
    offering_list = list(offerings)
    for offering in offering_list:
        if offering.service not in services:
            raise InvalidInput(
                "offering_not_affected",
                f"The offering “{offering.name}” is not of an affected service.",
                field="offerings",
            )
    with transaction.atomic():
        incident = Incident.objects.create(
            reference=next_reference(Incident.Kind.INCIDENT),
            kind=Incident.Kind.INCIDENT,
            title=title.strip(),
            severity=severity,
            visibility=visibility,
            description=description,
            owner=owner,
            comms_lead=comms_lead,
            declared_by=by,
            impact_started_at=impact_started_at,
            declared_at=now,
        )
        incident.offerings.set(offering_list)
        started = impact_started_at or now
        for service, status in services.items():
            AffectedService.objects.create(incident=incident, service=service, component_status=status)
            ComponentStatusChange.objects.create(incident=incident, service=service, status=status, started_at=started)
        if organisations is None:
            organisations_derive(incident)
        else:
            for organisation, users in organisations.items():
                if users is not None and users < 0:
                    raise InvalidInput("invalid_users", "Users affected cannot be negative.", field="organisations")
                organisation_add(incident, organisation, users)
        event_record(
            events.INCIDENT_DECLARED,
            subject=incident,
            by=by,
            incident_id=incident.pk,
            kind=incident.kind,
            severity=incident.severity,
            is_major=incident.is_major,
        )
        for ticket in ticket_list:
            _link(incident=incident, ticket=ticket, by=by)
        _users_affected_sum(incident)
        kept = _default_audiences(incident) if audiences is None else list(dict.fromkeys(audiences))
        for audience in kept:
            validate_audience(incident, audience, field="audiences")
            plan = AudiencePlan(
                incident=incident,
                audience=audience,
                cadence_minutes=default_cadence(),
                channels=list(DEFAULT_CHANNELS[audience]),
                owner=comms_lead or owner or by,
            )
            plan.next_due_at = due_after(plan, now)
            plan.save()
    return incident


# ---------------------------------------------------------------- tickets


def _link(*, incident: Incident, ticket: Ticket, by: User) -> IncidentTicket:
    existing = IncidentTicket.objects.filter(ticket=ticket).select_related("incident").first()
    if existing is not None:
        where = "this incident" if existing.incident_id == incident.pk else existing.incident.reference
        raise ConflictError(
            "ticket_already_linked", f"Ticket {ticket.reference} is already linked to {where}.", field="ticket"
        )
    link = IncidentTicket.objects.create(incident=incident, ticket=ticket, linked_by=by)
    organisation_add(incident, ticket.organisation, None)
    event_record(events.INCIDENT_TICKET_LINKED, subject=incident, by=by, incident_id=incident.pk, ticket_id=ticket.pk)
    return link


def incident_link_ticket(*, incident: Incident, ticket: Ticket, by: User) -> IncidentTicket:
    """Link a ticket about the same problem; its organisation becomes affected if it was not."""
    require_staff(by, "link tickets to incidents")
    if incident.kind != Incident.Kind.INCIDENT:
        raise InvalidInput("not_an_incident", "Tickets are linked to incidents, not to maintenance windows.")
    with transaction.atomic():
        incident = lock(incident)
        link = _link(incident=incident, ticket=ticket, by=by)
        _users_affected_sum(incident)
    return link


# ---------------------------------------------------------------- change


def _narrow_plans(incident: Incident) -> None:
    """Plans of audiences the visibility no longer allows stop, with their clocks."""
    AudiencePlan.objects.filter(incident=incident, is_active=True).exclude(
        audience__in=allowed_audiences(incident)
    ).update(is_active=False, next_due_at=None, updated_at=clock.now())


def incident_change(
    *,
    incident: Incident,
    by: User,
    title: str | None = None,
    severity: str | None = None,
    owner: User | Keep | None = KEEP,
    comms_lead: User | Keep | None = KEEP,
    visibility: str | None = None,
    description: str | None = None,
    impact_started_at: datetime | None = None,
    version: int | None = None,
) -> Incident:
    """Change what is known of an incident; `version` (optional) refuses a stale copy."""
    require_staff(by, "change incidents")
    with transaction.atomic():
        incident = lock(incident)
        if version is not None and version != incident.version:
            raise PreconditionFailed(
                "stale_version",
                f"{incident.reference} was changed by someone else (version {incident.version}, yours {version}).",
            )
        now = clock.now()
        _validate_declaration(
            title=incident.title if title is None else title,
            severity=incident.severity if severity is None else severity,
            visibility=incident.visibility if visibility is None else visibility,
            impact_started_at=impact_started_at,
            now=now,
        )
        if title is not None:
            incident.title = title.strip()
        if severity is not None:
            incident.severity = severity
        if not isinstance(owner, Keep):
            require_staff_member(owner, "owner")
            incident.owner = owner
        if not isinstance(comms_lead, Keep):
            require_staff_member(comms_lead, "comms_lead")
            incident.comms_lead = comms_lead
        if visibility is not None:
            incident.visibility = visibility
        if description is not None:
            incident.description = description
        if impact_started_at is not None:
            incident.impact_started_at = impact_started_at
        incident.version += 1
        incident.save()
        _narrow_plans(incident)
    return incident


def incident_services_set(
    *, incident: Incident, by: User, services: dict[Service, str], offerings: Iterable[Offering] | None = None
) -> Incident:
    """Replace the affected services (and offerings); status rows of services no longer affected close."""
    require_staff(by, "change incidents")
    services = _validate_services(dict(services), [])
    with transaction.atomic():
        incident = lock(incident)
        if incident.status == Incident.Status.RESOLVED:
            raise ConflictError("incident_resolved", f"{incident.reference} is resolved.")
        now = clock.now()
        for affected in incident.affected_services.select_related("service"):
            if affected.service not in services:
                ComponentStatusChange.objects.filter(
                    incident=incident, service=affected.service, ended_at__isnull=True
                ).update(ended_at=now)
                affected.delete()
        current = {a.service_id: a for a in incident.affected_services.all()}
        for service, status in services.items():
            known = current.get(service.pk)
            if known is not None and known.component_status == status:
                continue
            component_status_move(incident=incident, service=service, status=status, at=now)
        if offerings is not None:
            incident.offerings.set(list(offerings))
        incident.version += 1
        incident.save(update_fields=["version", "updated_at"])
    return incident


def component_status_move(*, incident: Incident, service: Service, status: str, at: datetime) -> tuple[str, str]:
    """Move a service's status through the incident: close its open row, open one unless operational."""
    affected = AffectedService.objects.filter(incident=incident, service=service).first()
    old = affected.component_status if affected is not None else ComponentStatus.OPERATIONAL.value
    ComponentStatusChange.objects.filter(incident=incident, service=service, ended_at__isnull=True).update(ended_at=at)
    if status != ComponentStatus.OPERATIONAL:
        ComponentStatusChange.objects.create(incident=incident, service=service, status=status, started_at=at)
    if affected is None:
        AffectedService.objects.create(incident=incident, service=service, component_status=status)
    else:
        affected.component_status = status
        affected.save(update_fields=["component_status", "updated_at"])
    return old, status


# ---------------------------------------------------------------- audience plans


def audience_plan_set(
    *,
    incident: Incident,
    audience: str,
    by: User,
    cadence_minutes: int | None = None,
    channels: list[str] | None = None,
    owner: User | Keep | None = KEEP,
    calendar: BusinessCalendar | Keep | None = KEEP,
    is_active: bool | None = None,
) -> AudiencePlan:
    """Set (or start) the plan for one audience; its clock is re-timed from the last update to it."""
    require_staff(by, "plan incident communication")
    validate_audience(incident, audience)
    if cadence_minutes is not None:
        validate_cadence(cadence_minutes)
    if channels is not None:
        channels = validate_channels(channels)
    if not isinstance(owner, Keep):
        require_staff_member(owner, "owner")
    with transaction.atomic():
        incident = lock(incident)
        if incident.status == Incident.Status.RESOLVED:
            raise ConflictError("incident_resolved", f"{incident.reference} is resolved: its plans are closed.")
        plan = AudiencePlan.objects.select_for_update(of=("self",)).filter(incident=incident, audience=audience).first()
        if plan is None:
            plan = AudiencePlan(
                incident=incident,
                audience=audience,
                cadence_minutes=default_cadence(),
                channels=list(DEFAULT_CHANNELS[audience]),
                owner=incident.comms_lead or incident.owner or by,
            )
        if cadence_minutes is not None:
            plan.cadence_minutes = cadence_minutes
        if channels is not None:
            plan.channels = channels
        if not isinstance(owner, Keep):
            plan.owner = owner
        if not isinstance(calendar, Keep):
            plan.calendar = calendar
        if is_active is not None:
            plan.is_active = is_active
        previous_due = plan.next_due_at
        if plan.is_active:
            plan.next_due_at = due_after(plan, plan.last_update_at or incident.declared_at or clock.now())
        else:
            plan.next_due_at = None
        if plan.next_due_at != previous_due:
            plan.reminded_at = None
            # An open silence lasts until the next update: it is not alerted twice.
            if plan.pk is None or not plan.silences.filter(ended_at__isnull=True).exists():
                plan.overdue_at = None
        plan.save()
    return plan


def is_major_severity(severity: str) -> bool:
    return severity in MAJOR_SEVERITIES

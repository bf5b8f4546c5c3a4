"""Mail to the affected customers about a maintenance window, each in their own time zone.

The people mailed are those who hold the customer or sponsor role in an active relationship of an
affected organisation (on the window's offerings when it has any there, else on any offering): they
decide and plan for their organisation. Status-page subscribers are told by their own subscribers of
the maintenance events; this module mails only the relationship's people, through the outbox.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, tzinfo

from django.conf import settings

from serviceloop.core.mail import OutboundEmail, email_queue
from serviceloop.incidents.models import Incident
from serviceloop.relationships.models import Person, Relationship, RelationshipRole

# What each mail says happened, in its subject.
SUBJECTS = {
    "scheduled": "Scheduled maintenance",
    "notice": "Maintenance starting soon",
    "rescheduled": "Maintenance rescheduled",
    "cancelled": "Maintenance cancelled",
}
PLANNER_ROLES = (RelationshipRole.Role.CUSTOMER, RelationshipRole.Role.SPONSOR)


def _zone(name: str) -> tzinfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def window_text(start: datetime, end: datetime, zone_name: str) -> str:
    """'Tue 8 Dec 2026 22:00 – 23:30 (Europe/Berlin)', the end with its date when it is another day."""
    zone = _zone(zone_name)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    end_format = "%H:%M" if local_end.date() == local_start.date() else "%a %-d %b %Y %H:%M"
    label = getattr(zone, "key", "UTC")
    return f"{local_start:%a %-d %b %Y %H:%M} – {local_end.strftime(end_format)} ({label})"


def recipients(maintenance: Incident) -> list[Person]:
    """The customer and sponsor people of the affected organisations, once each, by email."""
    organisation_ids = list(maintenance.affected_organisations.values_list("organisation_id", flat=True))
    if not organisation_ids:
        return []
    offering_ids = set(maintenance.offerings.values_list("pk", flat=True))
    if not offering_ids:
        service_ids = maintenance.affected_services.values_list("service_id", flat=True)
        offering_ids = set(
            Relationship.objects.filter(offering__service_id__in=service_ids).values_list("offering_id", flat=True)
        )
    roles = RelationshipRole.objects.filter(
        relationship__organisation_id__in=organisation_ids,
        relationship__status=Relationship.Status.ACTIVE,
        role__in=PLANNER_ROLES,
    ).select_related("person", "relationship")
    on_offering = {r.relationship.organisation_id for r in roles if r.relationship.offering_id in offering_ids}
    people: dict[str, Person] = {}
    for role in roles.order_by("person__email", "pk"):
        organisation_id = role.relationship.organisation_id
        if organisation_id in on_offering and role.relationship.offering_id not in offering_ids:
            continue
        people.setdefault(role.person.email.lower(), role.person)
    return list(people.values())


def _domain() -> str:
    address = str(getattr(settings, "SERVICELOOP_MAIL_ADDRESS", "") or settings.DEFAULT_FROM_EMAIL)
    return address.rpartition("@")[2].strip(" >").lower() or "serviceloop.localhost"


def _text(maintenance: Incident, person: Person, what: str, services: list[str], note: str) -> str:
    window = window_text(maintenance.scheduled_for, maintenance.scheduled_until, person.time_zone)  # type: ignore[arg-type]
    utc = window_text(maintenance.scheduled_for, maintenance.scheduled_until, "UTC")  # type: ignore[arg-type]
    lead = {
        "scheduled": "We have planned maintenance that affects services your organisation uses.",
        "notice": "A reminder: planned maintenance on services your organisation uses starts soon.",
        "rescheduled": "The planned maintenance on services your organisation uses has moved.",
        "cancelled": "The planned maintenance below has been cancelled: nothing will change.",
    }[what]
    lines = [
        f"Hello {person.name or person.email},",
        "",
        lead,
        "",
        f"{maintenance.reference}: {maintenance.title}",
        f"When: {window}",
    ]
    if person.time_zone != "UTC":
        lines.append(f"      {utc}")
    lines.append(f"Services: {', '.join(services)}")
    if note:
        lines += ["", note]
    lines += ["", "You receive this because you are a customer or sponsor contact of the service."]
    return "\n".join(lines) + "\n"


def mail_customers(maintenance: Incident, *, what: str, note: str = "") -> int:
    """Queue one mail per affected customer or sponsor person (inside the caller's transaction).

    The Message-ID names the window, what happened and the window's version, so a retried caller
    queues each mail once; a later reschedule (a new version) is a new mail.
    """
    if maintenance.visibility == Incident.Visibility.INTERNAL:
        return 0
    services = list(maintenance.affected_services.order_by("service__name").values_list("service__name", flat=True))
    subject = f"[{maintenance.reference}] {SUBJECTS[what]}: {maintenance.title}"
    count = 0
    for person in recipients(maintenance):
        message_id = f"<{maintenance.reference}.{what}.v{maintenance.version}.{person.public_id}@{_domain()}>"
        email_queue(
            OutboundEmail(
                to=[person.email],
                subject=subject,
                text=_text(maintenance, person, what, services, note),
                headers={"Message-ID": message_id},
            )
        )
        count += 1
    return count

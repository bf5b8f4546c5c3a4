"""Incident mail: who hears of an update per audience, and the mails themselves (queued in the outbox).

Internal: the incident's owner and comms lead, the plan's owner and the service managers of the
affected services. Affected customers (when the plan mails): the people holding the customer or
sponsor role in active relationships of the affected organisations on the affected services. The
public audience is served by the status page and its subscriptions, not from here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings

from serviceloop.core.mail import OutboundEmail, email_queue
from serviceloop.incidents.models import (
    Audience,
    AudiencePlan,
    Channel,
    Incident,
    IncidentUpdate,
    RecoveryStep,
)
from serviceloop.relationships.models import Relationship, RelationshipRole


def mail_domain() -> str:
    address = str(getattr(settings, "SERVICELOOP_MAIL_ADDRESS", "") or settings.DEFAULT_FROM_EMAIL)
    return address.rpartition("@")[2].strip(" >").lower() or "serviceloop.localhost"


def _dedupe(addresses: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for address in addresses:
        address = (address or "").strip()
        if address and address.lower() not in seen:
            seen[address.lower()] = address
    return list(seen.values())


def internal_recipients(incident: Incident, plan: AudiencePlan | None) -> list[str]:
    users = [incident.owner, incident.comms_lead, plan.owner if plan is not None else None]
    managers = [
        a.service.service_manager for a in incident.affected_services.select_related("service__service_manager")
    ]
    return _dedupe(user.email for user in [*users, *managers] if user is not None and user.is_active)


def customer_recipients(incident: Incident) -> list[str]:
    relationships = Relationship.objects.filter(
        status=Relationship.Status.ACTIVE,
        organisation__in=incident.affected_organisations.values("organisation"),
        offering__service__in=incident.affected_services.values("service"),
    )
    roles = (
        RelationshipRole.objects.filter(
            relationship__in=relationships,
            role__in=[RelationshipRole.Role.CUSTOMER, RelationshipRole.Role.SPONSOR],
        )
        .select_related("person")
        .order_by("person__email")
    )
    return _dedupe(role.person.email for role in roles)


def recipients_for(incident: Incident, plan: AudiencePlan) -> list[str]:
    if Channel.EMAIL not in plan.channels:
        return []
    if plan.audience == Audience.INTERNAL:
        return internal_recipients(incident, plan)
    if plan.audience == Audience.CUSTOMERS:
        return customer_recipients(incident)
    return []


def subject_of(incident: Incident, status: str) -> str:
    return f"[{incident.reference}] {incident.title} — {Incident.Status(status).label}"


def _plan_text(steps: list[RecoveryStep]) -> str:
    if not steps:
        return ""
    lines = ["", "Recovery plan:"]
    for step in steps:
        eta = f" (expected by {step.eta:%Y-%m-%d %H:%M} UTC)" if step.eta and step.status != step.Status.DONE else ""
        lines.append(f"- [{step.get_status_display()}] {step.title}{eta}")
    return "\n".join(lines)


def update_text(incident: Incident, update: IncidentUpdate, steps: list[RecoveryStep], *, internal: bool) -> str:
    kind = "Resolution notice" if update.kind == IncidentUpdate.Kind.RESOLUTION else "Update"
    head = f"{kind} on {incident.reference} {incident.title}, {update.display_at:%Y-%m-%d %H:%M} UTC"
    parts = [head, f"Status: {Incident.Status(update.status).label}", "", update.body, _plan_text(steps)]
    if internal:
        parts.append(f"\nAudiences of this update: {', '.join(update.audiences)}. Severity: {incident.severity}.")
    return "\n".join(part for part in parts if part is not None).rstrip() + "\n"


def _message_id(update: IncidentUpdate, address: str) -> str:
    digest = hashlib.sha256(address.lower().encode()).hexdigest()[:16]
    return f"<{update.incident.reference}.{update.public_id}.{digest}@{mail_domain()}>"


def update_mail(
    *, incident: Incident, update: IncidentUpdate, plans: list[AudiencePlan], steps: list[RecoveryStep]
) -> int:
    """Queue one mail per address for the update, over its plans (an address hears it once); how many."""
    sent: set[str] = set()
    for plan in sorted(plans, key=lambda p: p.audience != Audience.INTERNAL):
        internal = plan.audience == Audience.INTERNAL
        for address in recipients_for(incident, plan):
            if address.lower() in sent:
                continue
            sent.add(address.lower())
            email_queue(
                OutboundEmail(
                    to=[address],
                    subject=subject_of(incident, update.status),
                    text=update_text(incident, update, steps, internal=internal),
                    headers={
                        "Message-ID": _message_id(update, address),
                        "X-Serviceloop-Incident": incident.reference,
                    },
                )
            )
    return len(sent)


def clock_mail(*, incident: Incident, plan: AudiencePlan, due: datetime, to: list[str], overdue: bool, key: str) -> int:
    """The reminder before an update falls due, or the alert when it is overdue."""
    if overdue:
        subject = f"[{incident.reference}] Update to {plan.get_audience_display().lower()} overdue"
        first = f"The update to {plan.get_audience_display().lower()} was due at {due:%Y-%m-%d %H:%M} UTC and has not been posted."
    else:
        subject = f"[{incident.reference}] Update to {plan.get_audience_display().lower()} due at {due:%H:%M} UTC"
        first = f"The next update to {plan.get_audience_display().lower()} is due at {due:%Y-%m-%d %H:%M} UTC."
    text = (
        f"{first}\n\n{incident.reference} {incident.title} ({Incident.Status(incident.status).label}, "
        f"{incident.severity}). Cadence: every {plan.cadence_minutes} minutes.\n"
        "Post an update to restart the clock.\n"
    )
    addresses = _dedupe(to)
    for address in addresses:
        digest = hashlib.sha256(address.lower().encode()).hexdigest()[:16]
        email_queue(
            OutboundEmail(
                to=[address],
                subject=subject,
                text=text,
                headers={
                    "Message-ID": f"<{incident.reference}.{key}.{digest}@{mail_domain()}>",
                    "X-Serviceloop-Incident": incident.reference,
                },
            )
        )
    return len(addresses)

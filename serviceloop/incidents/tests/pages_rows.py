"""Incidents written straight to the tables, for the read-only page tests (the services are tested by comms)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from serviceloop.accounts.models import Organisation
from serviceloop.catalogue.models import Service
from serviceloop.core import clock
from serviceloop.incidents.models import (
    AffectedOrganisation,
    AffectedService,
    Audience,
    AudiencePlan,
    ComponentStatus,
    Incident,
    IncidentUpdate,
)
from serviceloop.incidents.references import next_reference


def make_incident(
    title: str,
    *,
    services: list[Service],
    organisations: list[Organisation] = (),  # type: ignore[assignment]
    visibility: str = Incident.Visibility.CUSTOMERS,
    status: str = Incident.Status.INVESTIGATING,
    kind: str = Incident.Kind.INCIDENT,
    plans: dict[str, datetime | None] | None = None,
    **fields: Any,
) -> Incident:
    now = clock.now()
    if kind == Incident.Kind.MAINTENANCE:
        fields.setdefault("scheduled_for", now - timedelta(hours=1))
        fields.setdefault("scheduled_until", now + timedelta(hours=1))
        if status == Incident.Status.INVESTIGATING:
            status = Incident.Status.IN_PROGRESS
    incident = Incident.objects.create(
        reference=next_reference(kind),
        kind=kind,
        title=title,
        status=status,
        visibility=visibility,
        declared_at=fields.pop("declared_at", now),
        **fields,
    )
    for service in services:
        AffectedService.objects.create(incident=incident, service=service, component_status=ComponentStatus.MAJOR)
    for organisation in organisations:
        AffectedOrganisation.objects.create(incident=incident, organisation=organisation, users_affected=3)
    for audience, due in (plans or {}).items():
        AudiencePlan.objects.create(incident=incident, audience=audience, cadence_minutes=30, next_due_at=due)
    return incident


def make_update(incident: Incident, body: str, audiences: list[str], **fields: Any) -> IncidentUpdate:
    return IncidentUpdate.objects.create(
        incident=incident,
        status=incident.status,
        audiences=audiences,
        body=body,
        display_at=fields.pop("display_at", clock.now()),
        **fields,
    )


CUSTOMERS = Audience.CUSTOMERS.value
INTERNAL = Audience.INTERNAL.value
PUBLIC = Audience.PUBLIC.value

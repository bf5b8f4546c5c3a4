"""Rows for the status page's tests, made directly with the ORM (the incident services are another
engineer's; the page only reads). Each factory states the fields a test usually cares about."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from serviceloop.accounts.models import User
from serviceloop.catalogue.models import Service
from serviceloop.catalogue.tests.factories import make_service
from serviceloop.core import clock
from serviceloop.incidents.models import (
    AffectedService,
    Audience,
    Component,
    ComponentGroup,
    ComponentStatus,
    ComponentStatusChange,
    Incident,
    IncidentUpdate,
    RecoveryStep,
    Review,
    Severity,
)
from serviceloop.incidents.references import next_reference

_numbers = itertools.count(1)


def make_component(by: User, name: str = "Mail", *, service: Service | None = None, **fields: Any) -> Component:
    if service is None:
        service = make_service(by, name=f"{name} service {next(_numbers)}")
        # Rows take their creation time from the real clock; the tests' clock may be elsewhere.
        Service.objects.filter(pk=service.pk).update(created_at=clock.now())
        service.refresh_from_db()
    fields.setdefault("created_at", clock.now())
    return Component.objects.create(service=service, name=name, **fields)


def make_group(name: str = "Workplace", **fields: Any) -> ComponentGroup:
    fields.setdefault("created_at", clock.now())
    return ComponentGroup.objects.create(name=name, **fields)


def make_incident(
    title: str = "Mail is delayed",
    *,
    services: dict[Service, str] | None = None,
    status: str = Incident.Status.INVESTIGATING,
    severity: str = Severity.SEV2,
    visibility: str = Incident.Visibility.PUBLIC,
    **fields: Any,
) -> Incident:
    """An incident affecting `services` ({service: component status})."""
    now = clock.now()
    fields.setdefault("declared_at", now)
    fields.setdefault("created_at", now)
    if status == Incident.Status.RESOLVED:
        fields.setdefault("resolved_at", now)
    incident = Incident.objects.create(
        reference=next_reference("incident"),
        title=title,
        status=status,
        severity=severity,
        visibility=visibility,
        **fields,
    )
    for service, component_status in (services or {}).items():
        AffectedService.objects.create(incident=incident, service=service, component_status=component_status)
    return incident


def make_maintenance(
    title: str = "Mail server upgrade",
    *,
    services: list[Service] | None = None,
    status: str = Incident.Status.SCHEDULED,
    starts: datetime | None = None,
    hours: float = 2,
    visibility: str = Incident.Visibility.PUBLIC,
    **fields: Any,
) -> Incident:
    starts = starts or clock.now() + timedelta(days=1)
    fields.setdefault("created_at", clock.now())
    if status in Incident.MAINTENANCE_ACTIVE or status == Incident.Status.COMPLETED:
        fields.setdefault("started_at", starts)
    if status == Incident.Status.COMPLETED:
        fields.setdefault("completed_at", starts + timedelta(hours=hours))
    incident = Incident.objects.create(
        reference=next_reference("maintenance"),
        kind=Incident.Kind.MAINTENANCE,
        title=title,
        status=status,
        severity=Severity.SEV4,
        visibility=visibility,
        scheduled_for=starts,
        scheduled_until=starts + timedelta(hours=hours),
        **fields,
    )
    for service in services or []:
        AffectedService.objects.create(incident=incident, service=service, component_status=ComponentStatus.MAINTENANCE)
    return incident


def make_update(
    incident: Incident,
    body: str = "We are looking into it.",
    *,
    audiences: list[str] | None = None,
    status: str | None = None,
    display_at: datetime | None = None,
    **fields: Any,
) -> IncidentUpdate:
    fields.setdefault("created_at", clock.now())
    return IncidentUpdate.objects.create(
        incident=incident,
        body=body,
        status=status or incident.status,
        audiences=[Audience.PUBLIC] if audiences is None else audiences,
        display_at=display_at or clock.now(),
        **fields,
    )


def make_change(
    incident: Incident,
    service: Service,
    status: str,
    started_at: datetime,
    ended_at: datetime | None = None,
) -> ComponentStatusChange:
    return ComponentStatusChange.objects.create(
        incident=incident, service=service, status=status, started_at=started_at, ended_at=ended_at
    )


def make_step(incident: Incident, title: str = "Fail over to the standby", **fields: Any) -> RecoveryStep:
    return RecoveryStep.objects.create(incident=incident, title=title, **fields)


def publish_review(incident: Incident, summary: str = "A disk filled up; we added an alert.") -> Review:
    now = clock.now()
    return Review.objects.create(
        created_at=now,
        incident=incident,
        status=Review.Status.PUBLISHED,
        due_at=now,
        customer_summary=summary,
        completed_at=now,
        published_at=now,
    )

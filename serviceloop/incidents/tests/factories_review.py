"""Rows for the review tests, made with the ORM (the incident services live on another branch):
the events are recorded as those services record them (names and data of incidents/events.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from serviceloop.accounts.models import User
from serviceloop.core.events import event_record
from serviceloop.incidents.events import INCIDENT_RESOLVED, INCIDENT_UPDATE_POSTED
from serviceloop.incidents.models import (
    AudiencePlan,
    EtaChange,
    Incident,
    IncidentUpdate,
    RecoveryStep,
    Review,
    ReviewAction,
)
from serviceloop.incidents.references import next_reference


def make_incident(*, declared_at: datetime, owner: User | None = None, **fields: Any) -> Incident:
    fields.setdefault("title", "Mail delivery delayed")
    fields.setdefault("severity", "sev1")
    return Incident.objects.create(
        reference=next_reference(Incident.Kind.INCIDENT), declared_at=declared_at, owner=owner, **fields
    )


def make_plan(incident: Incident, audience: str, cadence_minutes: int = 30, **fields: Any) -> AudiencePlan:
    return AudiencePlan.objects.create(incident=incident, audience=audience, cadence_minutes=cadence_minutes, **fields)


def post_update(
    incident: Incident, at: datetime, *audiences: str, body: str = "We are on it.", **fields: Any
) -> IncidentUpdate:
    with transaction.atomic():
        update = IncidentUpdate.objects.create(
            incident=incident,
            status=fields.pop("status", incident.status),
            audiences=list(audiences),
            body=body,
            display_at=at,
            **fields,
        )
        event_record(
            INCIDENT_UPDATE_POSTED,
            subject=incident,
            incident_id=incident.pk,
            update_id=update.pk,
            audiences=list(audiences),
            status=update.status,
            deliver_notifications=True,
        )
    return update


def set_eta(incident: Incident, eta: datetime, at: datetime, step: RecoveryStep | None = None) -> EtaChange:
    return EtaChange.objects.create(incident=incident, step=step, eta=eta, changed_at=at)


def resolve(incident: Incident, at: datetime) -> Incident:
    """As incident_resolve will: the row, then INCIDENT_RESOLVED in the same transaction."""
    with transaction.atomic():
        incident.status = Incident.Status.RESOLVED
        incident.resolved_at = at
        incident.save()
        event_record(
            INCIDENT_RESOLVED,
            subject=incident,
            incident_id=incident.pk,
            resolved_at=at,
            is_major=incident.is_major,
            organisation_ids=list(incident.affected_organisations.values_list("organisation_id", flat=True)),
        )
    return incident


def make_review(incident: Incident, *, due_at: datetime, owner: User | None = None, **fields: Any) -> Review:
    return Review.objects.create(incident=incident, due_at=due_at, owner=owner, **fields)


def make_action(review: Review, **fields: Any) -> ReviewAction:
    fields.setdefault("title", "Alert on queue depth")
    fields.setdefault("kind", ReviewAction.Kind.DETECT)
    return ReviewAction.objects.create(review=review, **fields)

"""The recovery plan: steps with owners, states and ETAs (every ETA kept), the incident's ETA, publishing."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Max

from serviceloop.accounts.models import User
from serviceloop.core import clock
from serviceloop.core.errors import InvalidInput
from serviceloop.core.events import event_record
from serviceloop.incidents import events
from serviceloop.incidents.models import EtaChange, Incident, RecoveryStep
from serviceloop.incidents.services_base import (
    KEEP,
    Keep,
    lock,
    require_open_incident,
    require_staff,
    require_staff_member,
)


def _confidence(value: str, field: str = "eta_confidence") -> str:
    if value and value not in Incident.Confidence.values:
        raise InvalidInput(
            "invalid_confidence", f"Confidence is one of {', '.join(Incident.Confidence.values)}.", field=field
        )
    return value


def _title(value: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput("title_required", "Give the step a title.", field="title")
    if len(value) > 300:
        raise InvalidInput("title_too_long", "A step's title has at most 300 characters.", field="title")
    return value


def _eta_change(
    *, incident: Incident, step: RecoveryStep | None, eta: datetime | None, confidence: str, by: User
) -> None:
    EtaChange.objects.create(
        incident=incident, step=step, eta=eta, confidence=confidence, changed_at=clock.now(), by=by
    )
    event_record(
        events.INCIDENT_ETA_CHANGED,
        subject=incident,
        by=by,
        incident_id=incident.pk,
        step_id=step.pk if step is not None else None,
        eta=eta,
    )


def recovery_step_add(
    *,
    incident: Incident,
    by: User,
    title: str,
    detail: str = "",
    owner: User | None = None,
    eta: datetime | None = None,
    eta_confidence: str = "",
    customer_facing: bool = False,
) -> RecoveryStep:
    require_staff(by, "plan the recovery")
    require_staff_member(owner, "owner")
    title = _title(title)
    _confidence(eta_confidence)
    with transaction.atomic():
        incident = lock(incident)
        require_open_incident(incident, "recovery steps")
        last = incident.recovery_steps.aggregate(last=Max("position"))["last"]
        step = RecoveryStep.objects.create(
            incident=incident,
            position=0 if last is None else last + 1,
            title=title,
            detail=detail,
            owner=owner,
            eta=eta,
            eta_confidence=eta_confidence if eta is not None else "",
            customer_facing=customer_facing,
        )
        if eta is not None:
            _eta_change(incident=incident, step=step, eta=eta, confidence=step.eta_confidence, by=by)
    return step


def recovery_step_update(
    *,
    step: RecoveryStep,
    by: User,
    title: str | None = None,
    detail: str | None = None,
    owner: User | Keep | None = KEEP,
    status: str | None = None,
    eta: datetime | Keep | None = KEEP,
    eta_confidence: str | None = None,
    customer_facing: bool | None = None,
    position: int | None = None,
) -> RecoveryStep:
    """Change a step; a new ETA (or confidence) is kept as an EtaChange; done sets done_at."""
    require_staff(by, "plan the recovery")
    if status is not None and status not in RecoveryStep.Status.values:
        raise InvalidInput(
            "invalid_status", f"A step's status is one of {', '.join(RecoveryStep.Status.values)}.", field="status"
        )
    if eta_confidence is not None:
        _confidence(eta_confidence)
    if position is not None and position < 0:
        raise InvalidInput("invalid_position", "A position is 0 or more.", field="position")
    with transaction.atomic():
        incident = lock(step.incident)
        require_open_incident(incident, "recovery changes")
        step = RecoveryStep.objects.select_for_update().get(pk=step.pk)
        if title is not None:
            step.title = _title(title)
        if detail is not None:
            step.detail = detail
        if not isinstance(owner, Keep):
            require_staff_member(owner, "owner")
            step.owner = owner
        if status is not None and status != step.status:
            step.status = status
            step.done_at = clock.now() if status == RecoveryStep.Status.DONE else None
        if customer_facing is not None:
            step.customer_facing = customer_facing
        if position is not None:
            step.position = position
        eta_changed = False
        if not isinstance(eta, Keep) and eta != step.eta:
            step.eta = eta
            eta_changed = True
        if eta_confidence is not None and eta_confidence != step.eta_confidence:
            step.eta_confidence = eta_confidence
            eta_changed = True
        step.save()
        if eta_changed:
            _eta_change(incident=incident, step=step, eta=step.eta, confidence=step.eta_confidence, by=by)
    return step


def incident_eta_set(*, incident: Incident, by: User, eta: datetime | None, confidence: str) -> Incident:
    """The ETA for recovery as a whole, and how sure the team is of it (every one kept)."""
    require_staff(by, "set the ETA")
    _confidence(confidence, field="confidence")
    if eta is not None and not confidence:
        raise InvalidInput("confidence_required", "Say how sure the team is of the ETA.", field="confidence")
    with transaction.atomic():
        incident = lock(incident)
        require_open_incident(incident, "ETA")
        incident.eta = eta
        incident.eta_confidence = confidence if eta is not None else ""
        incident.save(update_fields=["eta", "eta_confidence", "updated_at"])
        _eta_change(incident=incident, step=None, eta=eta, confidence=incident.eta_confidence, by=by)
    return incident


def recovery_plan_publish(*, incident: Incident, by: User) -> Incident:
    """Show the customer-facing steps with the updates from now on."""
    require_staff(by, "publish the recovery plan")
    with transaction.atomic():
        incident = lock(incident)
        require_open_incident(incident, "recovery plan")
        if (
            not incident.recovery_steps.filter(customer_facing=True)
            .exclude(status=RecoveryStep.Status.DROPPED)
            .exists()
        ):
            raise InvalidInput(
                "no_customer_facing_step",
                "The plan has no customer-facing step to publish: mark at least one step customer-facing.",
                field="steps",
            )
        now = clock.now()
        incident.plan_published_at = now
        incident.save(update_fields=["plan_published_at", "updated_at"])
        event_record(events.INCIDENT_PLAN_PUBLISHED, subject=incident, by=by, incident_id=incident.pk, published_at=now)
    return incident

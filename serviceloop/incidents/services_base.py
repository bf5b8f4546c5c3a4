"""What every write of the incidents app shares: who may write, locks, the plan's business clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import EllipsisType
from typing import Any

from django.conf import settings

from serviceloop.accounts.models import User
from serviceloop.core.errors import ConflictError, InvalidInput, NotAllowed
from serviceloop.desk.business_time import Calendar, add_business_seconds
from serviceloop.desk.services.sla import calendar_of
from serviceloop.incidents.models import Audience, AudiencePlan, Channel, Incident

# `owner=...` (the default) leaves a field as it is; `owner=None` clears it.
Keep = EllipsisType
KEEP = ...

MIN_CADENCE, MAX_CADENCE = 5, 1440

DEFAULT_CHANNELS: dict[str, list[str]] = {
    Audience.INTERNAL: [Channel.EMAIL],
    Audience.CUSTOMERS: [Channel.EMAIL, Channel.STATUS_PAGE],
    Audience.PUBLIC: [Channel.STATUS_PAGE, Channel.WEBHOOK],
}


def default_cadence() -> int:
    return int(getattr(settings, "SERVICELOOP_INCIDENT_CADENCE_MINUTES", 30))


def remind_minutes() -> int:
    return int(getattr(settings, "SERVICELOOP_INCIDENT_REMIND_MINUTES", 5))


def require_staff(user: Any, what: str) -> None:
    if user is None or not getattr(user, "is_staff_member", False):
        raise NotAllowed("staff_only", f"Only staff may {what}.")


def require_staff_member(user: User | None, field: str) -> None:
    """An owner, comms lead or step owner is a member of staff (or nobody)."""
    if user is not None and not user.is_staff_member:
        raise InvalidInput("not_staff", f"The {field.replace('_', ' ')} must be a member of staff.", field=field)


def lock(incident: Incident) -> Incident:
    """The incident row, locked for the rest of the transaction (call inside one)."""
    return Incident.objects.select_for_update().get(pk=incident.pk)


def require_open_incident(incident: Incident, what: str) -> None:
    if incident.kind != Incident.Kind.INCIDENT:
        raise InvalidInput("not_an_incident", f"A maintenance window has no {what}.")
    if incident.status == Incident.Status.RESOLVED:
        raise ConflictError("incident_resolved", f"{incident.reference} is resolved: it takes no more {what}.")


def allowed_audiences(incident: Incident) -> list[str]:
    """Staff always; affected customers unless the incident is internal; the public only when public."""
    result = [Audience.INTERNAL.value]
    if incident.visibility != Incident.Visibility.INTERNAL:
        result.append(Audience.CUSTOMERS.value)
    if incident.visibility == Incident.Visibility.PUBLIC:
        result.append(Audience.PUBLIC.value)
    return result


def plan_calendar(plan: AudiencePlan) -> Calendar | None:
    """The plan's business calendar, or None: every hour of every day counts."""
    return calendar_of(plan.calendar) if plan.calendar_id is not None and plan.calendar is not None else None


def due_after(plan: AudiencePlan, start: datetime, calendar: Calendar | None = None) -> datetime:
    """When an update is due `plan.cadence_minutes` of the plan's business time after `start`."""
    calendar = calendar if calendar is not None else plan_calendar(plan)
    if calendar is None:
        return start + timedelta(minutes=plan.cadence_minutes)
    return add_business_seconds(calendar, start, plan.cadence_minutes * 60)


def validate_cadence(cadence: int) -> None:
    if not MIN_CADENCE <= cadence <= MAX_CADENCE:
        raise InvalidInput(
            "invalid_cadence",
            f"A cadence is between {MIN_CADENCE} and {MAX_CADENCE} minutes (a day); {cadence} is not.",
            field="cadence_minutes",
        )


def validate_channels(channels: list[str]) -> list[str]:
    known = set(Channel.values)
    unknown = [channel for channel in channels if channel not in known]
    if unknown:
        raise InvalidInput(
            "invalid_channel",
            f"Unknown channel {', '.join(unknown)}: choose from {', '.join(Channel.values)}.",
            field="channels",
        )
    return [channel for channel in Channel.values if channel in channels]


def validate_audience(incident: Incident, audience: str, field: str = "audience") -> None:
    if audience not in Audience.values:
        raise InvalidInput(
            "invalid_audience", f"Unknown audience {audience!r}: choose from {', '.join(Audience.values)}.", field=field
        )
    if audience not in allowed_audiences(incident):
        raise InvalidInput(
            "audience_not_allowed",
            f"A {incident.get_visibility_display().lower()} incident ({incident.visibility}) has no {audience} audience.",
            field=field,
        )

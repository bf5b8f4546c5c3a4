"""The "next update due" clocks: remind the owner before an update falls due, alert when it is overdue.

Run every minute by beat (`incidents.tasks.cadence_check`). Each plan is handled in its own locked
transaction and each step is recorded on the plan (`reminded_at`, `overdue_at`), so a second run,
or two workers at once, do nothing more.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from serviceloop.core import clock
from serviceloop.core.events import event_record
from serviceloop.incidents import events
from serviceloop.incidents.comms_mail import clock_mail
from serviceloop.incidents.models import AudiencePlan, Incident, Silence
from serviceloop.incidents.services_base import remind_minutes


def _due_plans(now: datetime) -> list[int]:
    soon = now + timedelta(minutes=remind_minutes())
    return list(
        AudiencePlan.objects.filter(
            is_active=True,
            next_due_at__isnull=False,
            next_due_at__lte=soon,
            overdue_at__isnull=True,
            incident__kind=Incident.Kind.INCIDENT,
            incident__status__in=Incident.OPEN_INCIDENT,
        )
        .order_by("next_due_at", "pk")
        .values_list("pk", flat=True)
    )


def _handle(plan_id: int, now: datetime) -> str:
    with transaction.atomic():
        plan = (
            AudiencePlan.objects.select_for_update(of=("self",))
            .select_related("incident__owner", "incident__comms_lead", "owner")
            .filter(pk=plan_id, is_active=True, next_due_at__isnull=False, overdue_at__isnull=True)
            .first()
        )
        if plan is None or plan.next_due_at is None or not plan.incident.is_open:
            return ""
        incident, due = plan.incident, plan.next_due_at
        data: dict[str, Any] = {
            "incident_id": incident.pk,
            "plan_id": plan.pk,
            "audience": plan.audience,
            "due_at": due,
        }
        key = f"{plan.audience}.{due:%Y%m%d%H%M%S}"
        if now >= due:
            Silence.objects.get_or_create(plan=plan, due_at=due, defaults={"alerted_at": now})
            plan.overdue_at = now
            plan.save(update_fields=["overdue_at", "updated_at"])
            people = [plan.owner, incident.comms_lead, incident.owner]
            to = [user.email for user in people if user is not None and user.is_active]
            clock_mail(incident=incident, plan=plan, due=due, to=to, overdue=True, key=f"overdue.{key}")
            event_record(events.INCIDENT_UPDATE_OVERDUE, subject=incident, **data)
            return "overdue"
        if plan.reminded_at is not None:
            return ""
        plan.reminded_at = now
        plan.save(update_fields=["reminded_at", "updated_at"])
        owner = plan.owner or incident.comms_lead or incident.owner
        to = [owner.email] if owner is not None and owner.is_active else []
        clock_mail(incident=incident, plan=plan, due=due, to=to, overdue=False, key=f"due.{key}")
        event_record(events.INCIDENT_UPDATE_DUE_SOON, subject=incident, **data)
        return "reminded"


def cadence_check(*, now: datetime | None = None) -> dict[str, int]:
    """Remind and alert every plan whose clock calls for it; how many of each."""
    now = now or clock.now()
    counts = {"reminded": 0, "overdue": 0}
    for plan_id in _due_plans(now):
        outcome = _handle(plan_id, now)
        if outcome:
            counts[outcome] += 1
    return counts

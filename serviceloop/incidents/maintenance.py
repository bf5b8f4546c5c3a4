"""Scheduled maintenance: planned windows, the notice before them, and their automatic edges.

A maintenance is an `Incident` of kind maintenance (reference MW-n) that goes scheduled →
in_progress → verifying → completed. While it is active its services are under maintenance: one
`ComponentStatusChange` row per service from `started_at` to `completed_at`, which the uptime
computation leaves out of the agreed time. A cancelled window is kept (Statuspage deletes it): it is
completed at its planned start, `cancelled_at` says when it was called off, and it has no status rows.

The beat task (`maintenance_tick`, every minute) sends the notice once `notice_minutes` before the
window (at once when a window is scheduled inside its notice period), and opens and closes windows
with `auto_start` / `auto_complete` at their planned edges. Every step locks its row and checks its
state again, so running the tick twice (or two schedulers at once) does each step once.

Events (serviceloop.incidents.events), with data {incident_id, status, update_id}: MAINTENANCE_SCHEDULED
(also on a reschedule, with rescheduled=true), MAINTENANCE_NOTICE (+ minutes: whole minutes to the
start), MAINTENANCE_STARTED, MAINTENANCE_COMPLETED (cancelled=true for a cancelled window). An update
without a maintenance event of its own (verifying, a free update) records INCIDENT_UPDATE_POSTED.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core import clock
from serviceloop.core.errors import ConflictError, InvalidInput
from serviceloop.core.events import event_record
from serviceloop.incidents import events
from serviceloop.incidents.maintenance_checks import (
    BODY_MAX,
    NOTICE_MAX_MINUTES,
    PAST_GRACE,
    TITLE_MAX,
    notice_minutes_default,
    validate_notice,
    validate_offerings,
    validate_services,
    validate_text,
    validate_window,
)
from serviceloop.incidents.maintenance_mail import mail_customers, window_text
from serviceloop.incidents.models import (
    AffectedService,
    Audience,
    ComponentStatus,
    ComponentStatusChange,
    Incident,
    IncidentUpdate,
    Severity,
)
from serviceloop.incidents.references import next_reference
from serviceloop.incidents.services_declare import organisation_add, organisations_derive

Status = Incident.Status

DEFAULT_BODY = {
    Status.IN_PROGRESS: "Scheduled maintenance is currently in progress. We will provide updates as necessary.",
    Status.VERIFYING: "Maintenance work is done; we are verifying that everything works as it should.",
    Status.COMPLETED: "The scheduled maintenance has been completed.",
}


def _maintenance(maintenance: Incident) -> Incident:
    """The row, locked; a plain incident is refused."""
    locked = Incident.objects.select_for_update().filter(pk=maintenance.pk, kind=Incident.Kind.MAINTENANCE).first()
    if locked is None:
        raise InvalidInput("not_maintenance", "This is not a scheduled maintenance.")
    return locked


# -- affected organisations -----------------------------------------------------------------------------


def _affect_organisations(maintenance: Incident, organisations: Sequence[Organisation] | None) -> None:
    """AffectedOrganisation rows: the given organisations, or those the rule of major incidents derives
    (services_declare.organisations_derive); users from the relationships' `user` roles either way."""
    if organisations is None:
        organisations_derive(maintenance)
    else:
        for organisation in sorted(set(organisations), key=lambda org: org.pk):
            organisation_add(maintenance, organisation, None)
    maintenance.users_affected = sum(maintenance.affected_organisations.values_list("users_affected", flat=True))


# -- updates -------------------------------------------------------------------------------------------


def audiences_of(visibility: str) -> list[str]:
    """Who an update of a window with this visibility is addressed to."""
    if visibility == Incident.Visibility.PUBLIC:
        return [Audience.PUBLIC, Audience.CUSTOMERS]
    if visibility == Incident.Visibility.CUSTOMERS:
        return [Audience.CUSTOMERS]
    return [Audience.INTERNAL]


def _components(maintenance: Incident, old: str, new: str) -> list[dict[str, str]]:
    rows = maintenance.affected_services.select_related("service").order_by("service__name")
    return [{"code": r.service.public_id, "name": r.service.name, "old_status": old, "new_status": new} for r in rows]


def _post(
    maintenance: Incident,
    *,
    by: User | None,
    body: str,
    at: datetime,
    kind: str = IncidentUpdate.Kind.UPDATE,
    components: tuple[str, str] | None = None,
) -> IncidentUpdate:
    old, new = components or (ComponentStatus.OPERATIONAL, ComponentStatus.OPERATIONAL)
    if components is None and maintenance.status in Incident.MAINTENANCE_ACTIVE:
        old = new = ComponentStatus.MAINTENANCE
    return IncidentUpdate.objects.create(
        incident=maintenance,
        kind=kind,
        status=maintenance.status,
        audiences=audiences_of(maintenance.visibility),
        affected=", ".join(maintenance.affected_services.values_list("service__name", flat=True)),
        body=body,
        display_at=at,
        posted_by=by,
        affected_components=_components(maintenance, old, new),
    )


def _record(name: str, maintenance: Incident, update: IncidentUpdate, by: User | None, **data: Any) -> None:
    event_record(
        name,
        subject=maintenance,
        by=by,
        incident_id=maintenance.pk,
        status=maintenance.status,
        update_id=update.pk,
        **data,
    )


def _announcement(maintenance: Incident, *, rescheduled: bool = False) -> str:
    services = ", ".join(
        maintenance.affected_services.order_by("service__name").values_list("service__name", flat=True)
    )
    window = window_text(maintenance.scheduled_for, maintenance.scheduled_until, "UTC")  # type: ignore[arg-type]
    lead = "Rescheduled: maintenance" if rescheduled else "Maintenance"
    return f"{lead} on {services} is scheduled for {window}."


def _notice_if_due(maintenance: Incident, *, now: datetime, by: User | None, mail: bool) -> bool:
    """Send the notice when its time has come and the window has not started (row locked by the caller)."""
    if maintenance.status != Status.SCHEDULED or maintenance.notice_sent_at is not None:
        return False
    if maintenance.scheduled_for is None:
        return False
    minutes = maintenance.notice_minutes if maintenance.notice_minutes is not None else notice_minutes_default()
    if now < maintenance.scheduled_for - timedelta(minutes=minutes):
        return False
    maintenance.notice_sent_at = now
    maintenance.save(update_fields=["notice_sent_at", "updated_at"])
    left = max(0, math.ceil((maintenance.scheduled_for - now).total_seconds() / 60))
    update = _post(
        maintenance,
        by=by,
        kind=IncidentUpdate.Kind.NOTICE,
        at=now,
        body=f"Reminder: {_announcement(maintenance)} It starts in {left} minutes.",
    )
    if mail:
        mail_customers(maintenance, what="notice")
    _record(events.MAINTENANCE_NOTICE, maintenance, update, by, minutes=left)
    return True


# -- the services -------------------------------------------------------------------------------------


def maintenance_schedule(
    *,
    by: User | None,
    title: str,
    description: str = "",
    services: Sequence[Service],
    scheduled_for: datetime,
    scheduled_until: datetime,
    offerings: Iterable[Offering] = (),
    organisations: Sequence[Organisation] | None = None,
    visibility: str = Incident.Visibility.PUBLIC,
    notice_minutes: int | None = None,
    auto_start: bool = True,
    auto_complete: bool = True,
    body: str = "",
) -> Incident:
    """Plan a window: the announcement update, mail to the affected customers, MAINTENANCE_SCHEDULED."""
    now = clock.now()
    title = validate_text(title, field="title", required=True, limit=TITLE_MAX)
    description = validate_text(description, field="description", required=False, limit=BODY_MAX)
    body = validate_text(body, field="body", required=False, limit=BODY_MAX)
    if visibility not in Incident.Visibility.values:
        raise InvalidInput("visibility_unknown", "Choose public, customers or internal.", field="visibility")
    validate_window(scheduled_for, scheduled_until, now=now, check_start=True)
    minutes = validate_notice(notice_minutes)
    chosen = validate_services(services)
    chosen_offerings = validate_offerings(offerings, chosen)
    with transaction.atomic():
        maintenance = Incident.objects.create(
            reference=next_reference(Incident.Kind.MAINTENANCE),
            kind=Incident.Kind.MAINTENANCE,
            status=Status.SCHEDULED,
            severity=Severity.SEV4,
            title=title,
            description=description,
            visibility=visibility,
            owner=by,
            declared_by=by,
            declared_at=now,
            scheduled_for=scheduled_for,
            scheduled_until=scheduled_until,
            notice_minutes=minutes,
            auto_start=bool(auto_start),
            auto_complete=bool(auto_complete),
        )
        maintenance.offerings.set(chosen_offerings)
        AffectedService.objects.bulk_create(
            AffectedService(incident=maintenance, service=service, component_status=ComponentStatus.MAINTENANCE)
            for service in chosen
        )
        _affect_organisations(maintenance, organisations)
        maintenance.save(update_fields=["users_affected", "updated_at"])
        update = _post(
            maintenance, by=by, kind=IncidentUpdate.Kind.NOTICE, at=now, body=body or _announcement(maintenance)
        )
        mail_customers(maintenance, what="scheduled", note=body)
        _record(events.MAINTENANCE_SCHEDULED, maintenance, update, by)
        # Scheduled inside its notice period: the notice is due now (the customers were just mailed).
        _notice_if_due(maintenance, now=now, by=by, mail=False)
    return maintenance


def maintenance_reschedule(
    *,
    maintenance: Incident,
    by: User | None,
    scheduled_for: datetime,
    scheduled_until: datetime,
    notice_minutes: int | None = None,
    body: str = "",
) -> Incident:
    """Move a planned window (or, once started, only its end). A notice already sent is sent again
    at the new window's notice time; the customers are mailed the new window."""
    now = clock.now()
    body = validate_text(body, field="body", required=False, limit=BODY_MAX)
    with transaction.atomic():
        maintenance = _maintenance(maintenance)
        if maintenance.status == Status.COMPLETED:
            raise ConflictError("maintenance_completed", "A completed maintenance cannot be rescheduled.")
        started = maintenance.status != Status.SCHEDULED
        if started and scheduled_for != maintenance.scheduled_for:
            raise ConflictError(
                "maintenance_started", "The window has started: only its end can move.", field="scheduled_for"
            )
        validate_window(scheduled_for, scheduled_until, now=now, check_start=not started)
        if started and scheduled_until < now - PAST_GRACE:
            raise InvalidInput(
                "window_in_past", "The new end is in the past: complete it instead.", field="scheduled_until"
            )
        minutes = validate_notice(maintenance.notice_minutes if notice_minutes is None else notice_minutes)
        if (scheduled_for, scheduled_until) == (maintenance.scheduled_for, maintenance.scheduled_until):
            # Only the notice moved: nothing to announce; a notice now due goes out (once) as usual.
            if minutes != maintenance.notice_minutes:
                maintenance.notice_minutes = minutes
                maintenance.version += 1
                maintenance.save()
                _notice_if_due(maintenance, now=now, by=by, mail=True)
            return maintenance
        maintenance.scheduled_for, maintenance.scheduled_until = scheduled_for, scheduled_until
        maintenance.notice_minutes = minutes
        if not started:
            maintenance.notice_sent_at = None
        maintenance.version += 1
        maintenance.save()
        update = _post(
            maintenance,
            by=by,
            kind=IncidentUpdate.Kind.NOTICE if not started else IncidentUpdate.Kind.UPDATE,
            at=now,
            body=body or _announcement(maintenance, rescheduled=True),
        )
        mail_customers(maintenance, what="rescheduled", note=body)
        _record(events.MAINTENANCE_SCHEDULED, maintenance, update, by, rescheduled=True)
        if not started:
            _notice_if_due(maintenance, now=now, by=by, mail=False)
    return maintenance


def maintenance_change(
    *,
    maintenance: Incident,
    by: User | None,
    title: str | None = None,
    description: str | None = None,
    auto_start: bool | None = None,
    auto_complete: bool | None = None,
) -> Incident:
    """Change what the window says and whether its edges are automatic (no update, no mail)."""
    with transaction.atomic():
        maintenance = _maintenance(maintenance)
        if title is not None:
            maintenance.title = validate_text(title, field="title", required=True, limit=TITLE_MAX)
        if description is not None:
            maintenance.description = validate_text(description, field="description", required=False, limit=BODY_MAX)
        if auto_start is not None:
            maintenance.auto_start = bool(auto_start)
        if auto_complete is not None:
            maintenance.auto_complete = bool(auto_complete)
        maintenance.version += 1
        maintenance.save()
    return maintenance


def _at(at: datetime | None, *, now: datetime, after: datetime | None, field: str = "at") -> datetime:
    at = at or now
    if at.tzinfo is None:
        raise InvalidInput("naive_time", "Give the time with its time zone.", field=field)
    if at > now + PAST_GRACE:
        raise InvalidInput("time_in_future", "The time cannot be in the future.", field=field)
    if after is not None and at < after:
        raise InvalidInput(
            "time_too_early", "The time cannot be before the window was scheduled or started.", field=field
        )
    return at


def maintenance_start(
    *, maintenance: Incident, by: User | None, at: datetime | None = None, body: str = ""
) -> Incident:
    """Open the window: in progress, its services under maintenance from `at` (default now)."""
    now = clock.now()
    body = validate_text(body, field="body", required=False, limit=BODY_MAX)
    with transaction.atomic():
        maintenance = _maintenance(maintenance)
        if maintenance.status != Status.SCHEDULED:
            raise ConflictError("maintenance_not_scheduled", "Only a scheduled maintenance can start.")
        # Not before it was planned: the status rows it writes are the uptime history.
        planned = maintenance.declared_at - PAST_GRACE if maintenance.declared_at else None
        _open(maintenance, by=by, at=_at(at, now=now, after=planned, field="at"), body=body)
    return maintenance


def _open(maintenance: Incident, *, by: User | None, at: datetime, body: str) -> None:
    maintenance.status = Status.IN_PROGRESS
    maintenance.started_at = at
    maintenance.version += 1
    maintenance.save()
    ComponentStatusChange.objects.bulk_create(
        ComponentStatusChange(
            incident=maintenance, service_id=row.service_id, status=ComponentStatus.MAINTENANCE, started_at=at
        )
        for row in maintenance.affected_services.all()
    )
    update = _post(
        maintenance,
        by=by,
        at=at,
        body=body or DEFAULT_BODY[Status.IN_PROGRESS],
        components=(ComponentStatus.OPERATIONAL, ComponentStatus.MAINTENANCE),
    )
    _record(events.MAINTENANCE_STARTED, maintenance, update, by)


def maintenance_verify(
    *, maintenance: Incident, by: User | None, at: datetime | None = None, body: str = ""
) -> Incident:
    """The work is done and being checked; the services stay under maintenance until completed."""
    now = clock.now()
    body = validate_text(body, field="body", required=False, limit=BODY_MAX)
    with transaction.atomic():
        maintenance = _maintenance(maintenance)
        if maintenance.status != Status.IN_PROGRESS:
            raise ConflictError("maintenance_not_in_progress", "Only a maintenance in progress can be verified.")
        at = _at(at, now=now, after=maintenance.started_at)
        maintenance.status = Status.VERIFYING
        maintenance.version += 1
        maintenance.save()
        update = _post(maintenance, by=by, at=at, body=body or DEFAULT_BODY[Status.VERIFYING])
        _record(
            events.INCIDENT_UPDATE_POSTED,
            maintenance,
            update,
            by,
            audiences=update.audiences,
            deliver_notifications=True,
        )
    return maintenance


def maintenance_complete(
    *, maintenance: Incident, by: User | None, at: datetime | None = None, body: str = ""
) -> Incident:
    """Close the window at `at` (default now): completed, its status rows ended, the update posted."""
    now = clock.now()
    body = validate_text(body, field="body", required=False, limit=BODY_MAX)
    with transaction.atomic():
        maintenance = _maintenance(maintenance)
        if maintenance.status not in Incident.MAINTENANCE_ACTIVE:
            raise ConflictError(
                "maintenance_not_active", "Only a maintenance in progress can be completed; cancel a planned one."
            )
        _close(maintenance, by=by, at=_at(at, now=now, after=maintenance.started_at), body=body)
    return maintenance


def _close(maintenance: Incident, *, by: User | None, at: datetime, body: str) -> None:
    maintenance.status = Status.COMPLETED
    maintenance.completed_at = at
    maintenance.version += 1
    maintenance.save()
    maintenance.status_changes.filter(ended_at__isnull=True).update(ended_at=at)
    update = _post(
        maintenance,
        by=by,
        at=at,
        body=body or DEFAULT_BODY[Status.COMPLETED],
        components=(ComponentStatus.MAINTENANCE, ComponentStatus.OPERATIONAL),
    )
    _record(events.MAINTENANCE_COMPLETED, maintenance, update, by)


def maintenance_cancel(*, maintenance: Incident, by: User | None, body: str = "") -> Incident:
    """Call off a planned window: kept, completed at its planned start with no status rows, the
    customers told; MAINTENANCE_COMPLETED with cancelled=true."""
    now = clock.now()
    body = validate_text(body, field="body", required=False, limit=BODY_MAX)
    with transaction.atomic():
        maintenance = _maintenance(maintenance)
        if maintenance.status != Status.SCHEDULED:
            raise ConflictError(
                "maintenance_not_scheduled", "Only a maintenance that has not started can be cancelled; complete it."
            )
        maintenance.status = Status.COMPLETED
        maintenance.completed_at = maintenance.scheduled_for
        maintenance.cancelled_at = now
        maintenance.version += 1
        maintenance.save()
        update = _post(maintenance, by=by, at=now, body=f"Cancelled: {body or 'this maintenance will not take place.'}")
        mail_customers(maintenance, what="cancelled", note=body)
        _record(events.MAINTENANCE_COMPLETED, maintenance, update, by, cancelled=True)
    return maintenance


def maintenance_update_post(
    *, maintenance: Incident, by: User | None, body: str, at: datetime | None = None
) -> IncidentUpdate:
    """A free update about a window that is not over (progress, a delay); INCIDENT_UPDATE_POSTED."""
    now = clock.now()
    body = validate_text(body, field="body", required=False, limit=BODY_MAX)
    if not body:
        raise InvalidInput("required", "Write the update.", field="body")
    with transaction.atomic():
        maintenance = _maintenance(maintenance)
        if maintenance.status == Status.COMPLETED:
            raise ConflictError("maintenance_completed", "The maintenance is over: no more updates.")
        update = _post(maintenance, by=by, at=_at(at, now=now, after=None), body=body)
        _record(
            events.INCIDENT_UPDATE_POSTED,
            maintenance,
            update,
            by,
            audiences=update.audiences,
            deliver_notifications=True,
        )
    return update


# -- the beat task --------------------------------------------------------------------------------------


def maintenance_tick(*, now: datetime | None = None) -> dict[str, int]:
    """Notices due, windows to open and windows to close, each once; returns how many of each."""
    now = now or clock.now()
    windows = Incident.objects.filter(kind=Incident.Kind.MAINTENANCE)
    horizon = now + timedelta(minutes=NOTICE_MAX_MINUTES)
    counts = {"notices": 0, "started": 0, "completed": 0}
    pending = windows.filter(status=Status.SCHEDULED, notice_sent_at__isnull=True, scheduled_for__lte=horizon)
    default = notice_minutes_default()
    for pk, start, minutes in pending.order_by("scheduled_for").values_list("pk", "scheduled_for", "notice_minutes"):
        # Only the windows whose notice time has come are locked and looked at again.
        if start is not None and start - timedelta(minutes=default if minutes is None else minutes) <= now:
            counts["notices"] += _tick_notice(pk, now)
    to_start = windows.filter(status=Status.SCHEDULED, auto_start=True, scheduled_for__lte=now)
    for pk in to_start.order_by("scheduled_for").values_list("pk", flat=True):
        counts["started"] += _tick_start(pk, now)
    to_close = windows.filter(status__in=Incident.MAINTENANCE_ACTIVE, auto_complete=True, scheduled_until__lte=now)
    for pk in to_close.order_by("scheduled_until").values_list("pk", flat=True):
        counts["completed"] += _tick_complete(pk, now)
    return counts


# Each step locks its row and checks again what the query saw: another scheduler, or a person,
# may have got there first.


def _tick_notice(pk: int, now: datetime) -> int:
    with transaction.atomic():
        row = Incident.objects.select_for_update().get(pk=pk)
        start = row.scheduled_for
        # A window this same tick opens is announced by its "in progress" update instead.
        if start is None or (row.auto_start and start <= now):
            return 0
        return int(_notice_if_due(row, now=now, by=None, mail=True))


def _tick_start(pk: int, now: datetime) -> int:
    with transaction.atomic():
        row = Incident.objects.select_for_update().get(pk=pk)
        start = row.scheduled_for
        if row.status != Status.SCHEDULED or not row.auto_start or start is None or start > now:
            return 0
        # Opened at the planned time, not at the tick's: that is what the automation stands for.
        _open(row, by=None, at=start, body="")
        return 1


def _tick_complete(pk: int, now: datetime) -> int:
    with transaction.atomic():
        row = Incident.objects.select_for_update().get(pk=pk)
        end = row.scheduled_until
        if row.status not in Incident.MAINTENANCE_ACTIVE or not row.auto_complete or end is None or end > now:
            return 0
        if row.started_at is not None and row.started_at > end:
            end = row.started_at
        _close(row, by=None, at=end, body="")
        return 1

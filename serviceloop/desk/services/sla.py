"""SLA clocks: targets, due instants in business time, pausing, and recording warnings and breaches.

A ticket's due and warning instants are computed once from its opening time; whenever the clock
stands still (waiting on the customer, resolved) and starts again, every instant still ahead moves
later by the business time that passed, and that time is kept as paused time (`paused_seconds`),
so instants computed again from the opening time (a priority change) keep it too. A warning or
breach happened at its instant if the clock was running then: the task records it with that
instant, whenever the task happens to run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q

from serviceloop.core.events import event_record
from serviceloop.desk.business_time import Calendar, add_business_seconds, business_seconds_between
from serviceloop.desk.models import BusinessCalendar, PriorityRule, SlaEvent, SlaTarget, Ticket

H, M, L = Ticket.Level.HIGH, Ticket.Level.MEDIUM, Ticket.Level.LOW
P1, P2, P3, P4 = Ticket.Priority.P1, Ticket.Priority.P2, Ticket.Priority.P3, Ticket.Priority.P4
# ITIL's usual matrix; a PriorityRule row overrides a cell.
DEFAULT_MATRIX: dict[tuple[str, str], str] = {
    (H, H): P1,
    (H, M): P2,
    (H, L): P3,
    (M, H): P2,
    (M, M): P3,
    (M, L): P4,
    (L, H): P3,
    (L, M): P4,
    (L, L): P4,
}


def priority_for(*, impact: str, urgency: str) -> str:
    rule = PriorityRule.objects.filter(impact=impact, urgency=urgency).values_list("priority", flat=True).first()
    return rule or DEFAULT_MATRIX[(impact, urgency)]


def calendar_of(calendar: BusinessCalendar) -> Calendar:
    hours = calendar.working_hours or {str(day): [["09:00", "17:00"]] for day in range(5)}
    holidays = [holiday.date for holiday in calendar.holidays.all()]
    return Calendar.from_spec(time_zone=calendar.time_zone, hours=hours, holidays=holidays)


def sla_target_for(*, service_id: int, offering_id: int | None, priority: str) -> SlaTarget | None:
    """The offering's own target for the priority, else the service's."""
    targets = SlaTarget.objects.select_related("calendar").filter(service_id=service_id, priority=priority)
    if offering_id is not None:
        own = targets.filter(offering_id=offering_id).first()
        if own is not None:
            return own
    return targets.filter(offering__isnull=True).first()


@dataclass(frozen=True)
class Clock:
    """One SLA clock of a ticket as a page shows it."""

    target: str
    label: str
    due_at: datetime | None
    met_at: datetime | None
    breached: bool
    paused: bool
    # Business seconds left (negative once breached); None without a target or once met.
    seconds_left: float | None

    @property
    def state(self) -> str:
        if self.due_at is None:
            return "none"
        if self.met_at is not None:
            return "breached" if self.breached else "met"
        if self.breached or (self.seconds_left is not None and self.seconds_left < 0):
            return "breached"
        return "paused" if self.paused else "running"


def ticket_clocks(ticket: Ticket, *, now: datetime, calendar: Calendar | None = None) -> list[Clock]:
    if ticket.sla_target_id is None:
        return []
    if calendar is None:
        assert ticket.sla_target is not None  # nosec B101  # narrows for mypy; sla_target_id is set (checked above)
        calendar = calendar_of(ticket.sla_target.calendar)
    # While stopped, the time left is what was left when it stopped.
    reference = ticket.clock_stopped_at or now
    clocks = []
    for target, label, due, met, breached in (
        (
            SlaEvent.Target.FIRST_RESPONSE,
            "First response",
            ticket.first_response_due_at,
            ticket.first_response_at,
            ticket.first_response_breached,
        ),
        (
            SlaEvent.Target.RESOLUTION,
            "Resolution",
            ticket.resolution_due_at,
            ticket.resolved_at if ticket.status in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED) else None,
            ticket.resolution_breached,
        ),
    ):
        left = None
        if due is not None and met is None:
            left = business_seconds_between(calendar, reference, due)
        clocks.append(
            Clock(
                target=target,
                label=label,
                due_at=due,
                met_at=met,
                breached=breached or (met is not None and due is not None and met > due),
                paused=ticket.clock_stopped_at is not None,
                seconds_left=left,
            )
        )
    return clocks


def sla_start(ticket: Ticket) -> None:
    """Set the target and its instants from the opening time (the caller saves the ticket)."""
    target = sla_target_for(service_id=ticket.service_id, offering_id=ticket.offering_id, priority=ticket.priority)
    ticket.sla_target = target
    if target is None:
        ticket.first_response_due_at = ticket.first_response_warn_at = None
        ticket.resolution_due_at = ticket.resolution_warn_at = None
        return
    calendar = calendar_of(target.calendar)
    # Time the clock already stood still (a priority change on a paused or reopened ticket): all of it
    # for the resolution clock, the part before the first response for the first-response clock.
    resolution_offset = ticket.paused_seconds
    first_offset = ticket.first_response_paused_seconds
    share = target.warning_percent / 100
    start = ticket.opened_at
    first, resolution = target.first_response_minutes * 60, target.resolution_minutes * 60
    ticket.first_response_due_at = add_business_seconds(calendar, start, first + first_offset)
    ticket.first_response_warn_at = add_business_seconds(calendar, start, first * share + first_offset)
    ticket.resolution_due_at = add_business_seconds(calendar, start, resolution + resolution_offset)
    ticket.resolution_warn_at = add_business_seconds(calendar, start, resolution * share + resolution_offset)


def sla_stop(ticket: Ticket, *, at: datetime) -> None:
    if ticket.clock_stopped_at is None:
        ticket.clock_stopped_at = at


@dataclass(frozen=True)
class Pause:
    """How long the clock stood still, in business seconds, before it ran again."""

    seconds: int
    resolved_seconds: int


def sla_resume(ticket: Ticket, *, at: datetime, resolved_since: datetime | None = None) -> Pause:
    """Start the clock again; move the instants still ahead by the business time it stood still.

    Every stop counts as paused time (`paused_seconds`): waiting on the customer, and the time a
    ticket spent resolved before a reopen (`resolved_since`: when it was resolved), so that due
    instants computed again later (`sla_start`, a priority change) keep it. The first-response
    clock moves only by the part of the stop before the first response.
    """
    stopped = ticket.clock_stopped_at
    if stopped is None:
        return Pause(0, 0)
    ticket.clock_stopped_at = None
    if ticket.sla_target is None:
        return Pause(0, 0)
    calendar = calendar_of(ticket.sla_target.calendar)
    still = _business_seconds(calendar, stopped, at)
    if still <= 0:
        return Pause(0, 0)
    resolved = _business_seconds(calendar, max(stopped, resolved_since), at) if resolved_since else 0
    answered = ticket.first_response_at
    before_answer = still if answered is None else _business_seconds(calendar, stopped, min(answered, at))
    ticket.paused_seconds += still
    ticket.resolved_paused_seconds += resolved
    ticket.first_response_paused_seconds += before_answer
    for name, moved in (
        ("first_response_due_at", before_answer),
        ("first_response_warn_at", before_answer),
        ("resolution_due_at", still),
        ("resolution_warn_at", still),
    ):
        instant = getattr(ticket, name)
        if moved > 0 and instant is not None and instant > stopped:
            setattr(ticket, name, add_business_seconds(calendar, instant, moved))
    return Pause(still, resolved)


def _business_seconds(calendar: Calendar, start: datetime, end: datetime) -> int:
    # Whole seconds: the instants move by exactly what paused_seconds adds up, so recomputing them agrees.
    return max(int(business_seconds_between(calendar, start, end)), 0)


def _reached(due: str, met: str | None) -> Q:
    """The instant `due` has passed while the clock ran, and the clock was not met before it."""
    condition = Q(**{f"{due}__isnull": False}) & (Q(clock_stopped_at__isnull=True) | Q(clock_stopped_at__gte=F(due)))
    if met is not None:
        condition &= Q(**{f"{met}__isnull": True}) | Q(**{f"{met}__gt": F(due)})
    return condition


def sla_check(*, now: datetime) -> int:
    """Record every warning and breach that has happened by `now` and is not recorded yet (idempotent)."""
    recorded = 0
    specs = (
        (SlaEvent.Target.FIRST_RESPONSE, SlaEvent.Kind.WARNING, "first_response_warn_at", "first_response_at"),
        (SlaEvent.Target.FIRST_RESPONSE, SlaEvent.Kind.BREACHED, "first_response_due_at", "first_response_at"),
        (SlaEvent.Target.RESOLUTION, SlaEvent.Kind.WARNING, "resolution_warn_at", None),
        (SlaEvent.Target.RESOLUTION, SlaEvent.Kind.BREACHED, "resolution_due_at", None),
    )
    for target, kind, due, met in specs:
        already = SlaEvent.objects.filter(ticket=OuterRef("pk"), target=target, kind=kind)
        candidates = (
            Ticket.objects.filter(**{f"{due}__lte": now})
            .filter(_reached(due, met))
            .exclude(Exists(already))
            .values_list("pk", due)
        )
        for ticket_id, at in candidates.iterator(chunk_size=500):
            if _record(ticket_id=ticket_id, target=target, kind=kind, at=at):
                recorded += 1
    return recorded


def _record(*, ticket_id: int, target: str, kind: str, at: datetime) -> bool:
    with transaction.atomic():
        _event, created = SlaEvent.objects.get_or_create(
            ticket_id=ticket_id, target=target, kind=kind, defaults={"at": at}
        )
        if not created:
            return False
        if kind == SlaEvent.Kind.BREACHED:
            flag = "first_response_breached" if target == SlaEvent.Target.FIRST_RESPONSE else "resolution_breached"
            Ticket.objects.filter(pk=ticket_id).update(**{flag: True})
            ticket = Ticket.objects.get(pk=ticket_id)
            event_record("ticket.sla_breached", subject=ticket, ticket_id=ticket_id, target=target, breached_at=at)
    return True


def breaching_soon_window() -> timedelta:
    return timedelta(hours=settings.SERVICELOOP_SLA_BREACHING_SOON_HOURS)

"""Business minutes stored on the ticket: opened → first response, opened → (last) resolution.

The desk metrics (MTTA, MTTR) average these columns in SQL instead of computing business time per
ticket at every read. They are set by the services that move the instants (first staff reply,
resolve, reopen, and a priority change or move that gives the ticket another target) and, for rows
written set-wise (the demo, an import), by `business_minutes_refresh`.

The calendar, in this order:

1. the calendar of the ticket's SLA target;
2. else the **service's calendar**: the calendar of the service's own SLA targets (those without an
   offering; a service with offering targets only: those), the one most of them use, ties to the
   calendar created first. The catalogue has no calendar of its own per service: its targets are
   where the desk keeps a service's working hours;
3. else Monday to Friday 09:00–17:00 in settings.TIME_ZONE.

Minutes are whole, rounded to the nearest (30 s and more round up), never negative. Paused time
(waiting on the customer) is included: it is the time the customer lived (DOMAIN §2). The minutes
are those of the calendar when the instant happened; editing a calendar later does not change them
until `business_minutes_refresh` runs again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.db.models import F, Q

from serviceloop.desk.business_time import Calendar, business_seconds_between
from serviceloop.desk.models import BusinessCalendar, SlaTarget, Ticket
from serviceloop.desk.services.sla import calendar_of

DONE = (Ticket.Status.RESOLVED, Ticket.Status.CLOSED)
FIELDS = ("response_business_minutes", "resolution_business_minutes")
UPDATE_MINUTES = "UPDATE desk_ticket SET response_business_minutes = %s, resolution_business_minutes = %s WHERE id = %s"


def default_calendar() -> Calendar:
    """09:00–17:00 Monday to Friday in the project's time zone: tickets without any calendar."""
    return Calendar(time_zone=settings.TIME_ZONE)


def service_calendar_ids(service_ids: Iterable[int] | None = None) -> dict[int, int]:
    """service id → the id of its calendar (rule 2 above), for the services that have targets."""
    targets = SlaTarget.objects.all()
    if service_ids is not None:
        targets = targets.filter(service_id__in=list(service_ids))
    votes: dict[int, Counter[tuple[bool, int]]] = {}
    for service_id, calendar_id, offering_id in targets.values_list("service_id", "calendar_id", "offering_id"):
        votes.setdefault(service_id, Counter())[(offering_id is None, calendar_id)] += 1
    chosen = {}
    for service_id, counted in votes.items():
        # Service-wide targets first, then the most used calendar, then the oldest calendar (lowest id).
        (_own, calendar_id), _n = max(counted.items(), key=lambda item: (item[0][0], item[1], -item[0][1]))
        chosen[service_id] = calendar_id
    return chosen


def minutes_between(calendar: Calendar, start: datetime, end: datetime) -> int:
    seconds = max(business_seconds_between(calendar, start, end), 0.0)
    return int((seconds + 30) // 60)


def ticket_business_calendar(ticket: Ticket) -> Calendar:
    """The calendar a ticket's business minutes are counted in (rules 1–3 above)."""
    if ticket.sla_target_id is not None:
        return calendar_of(ticket.sla_target.calendar)  # type: ignore[union-attr]
    calendar_id = service_calendar_ids([ticket.service_id]).get(ticket.service_id)
    if calendar_id is None:
        return default_calendar()
    return calendar_of(BusinessCalendar.objects.prefetch_related("holidays").get(pk=calendar_id))


def _minutes(ticket: Ticket, calendar: Calendar) -> tuple[int | None, int | None]:
    response = (
        minutes_between(calendar, ticket.opened_at, ticket.first_response_at) if ticket.first_response_at else None
    )
    resolved = ticket.resolved_at if ticket.status in DONE else None
    resolution = minutes_between(calendar, ticket.opened_at, resolved) if resolved else None
    return response, resolution


def business_minutes_set(ticket: Ticket) -> None:
    """Set both stored minutes from the ticket's instants (the caller saves the ticket).

    Without a first response, or while not resolved (a reopen), the minutes are empty; a new
    resolution counts from the opening to that resolution.
    """
    if ticket.first_response_at is None and (ticket.resolved_at is None or ticket.status not in DONE):
        ticket.response_business_minutes = ticket.resolution_business_minutes = None
        return
    ticket.response_business_minutes, ticket.resolution_business_minutes = _minutes(
        ticket, ticket_business_calendar(ticket)
    )


def business_minutes_refresh(tickets: Iterable[int] | None = None) -> int:
    """Recompute the stored minutes of tickets (all tickets with an instant when None), set-wise.

    For rows written without the services (the demo, imports) and after a calendar was edited.
    Reads every row first and writes after (no write to the table while a read of it is open);
    returns the number of tickets whose minutes changed.
    """
    rows = Ticket.objects.filter(Q(first_response_at__isnull=False) | Q(resolved_at__isnull=False))
    if tickets is not None:
        rows = rows.filter(pk__in=list(tickets))
    calendars: dict[int | None, Calendar] = {
        calendar.pk: calendar_of(calendar) for calendar in BusinessCalendar.objects.prefetch_related("holidays")
    }
    calendars[None] = default_calendar()
    by_service = service_calendar_ids()
    changed: list[tuple[int | None, int | None, int]] = []
    selected = rows.only("pk", "service_id", "status", "opened_at", "first_response_at", "resolved_at", *FIELDS)
    for ticket in selected.annotate(target_calendar_id=F("sla_target__calendar_id")).iterator(chunk_size=2000):
        calendar_id = ticket.target_calendar_id or by_service.get(ticket.service_id)
        minutes = _minutes(ticket, calendars.get(calendar_id, calendars[None]))
        if minutes != (ticket.response_business_minutes, ticket.resolution_business_minutes):
            changed.append((*minutes, ticket.pk))
    # One plain UPDATE per row, sent as executemany (bulk_update's CASE expressions grow too slow).
    with connection.cursor() as cursor:
        for start in range(0, len(changed), 5000):
            cursor.executemany(UPDATE_MINUTES, changed[start : start + 5000])
    return len(changed)

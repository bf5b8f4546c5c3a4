"""The desk's metrics, from tickets: FCR, MTTA/MTTR in business hours, SLA compliance, reopens, reassignments.

They are not in the tally (tickets are few beside responses): one aggregate query per grouping counts
FCR, reopens, reassignments and SLA compliance; the durations need the business-time engine, so one
query fetches the instants and Python sums the business seconds per ticket.

Which tickets:

- **resolved tickets** (status resolved or closed) by `resolved_at` in the period: FCR, MTTR, SLA
  compliance, paused time, reopen rate, reassignments;
- **answered tickets** (a first staff response) by `first_response_at` in the period: MTTA.

FCR: a ticket the desk marked resolved at the first interaction (`first_contact_resolution`: never
reopened, at most one public staff answer and at most one public message from the customer — the
opening one), and no new ticket from the same requester on the same service opened within 7 days
after it was resolved.

Business time: the calendar of the ticket's SLA target; a ticket without one uses 09:00–17:00 Monday
to Friday in settings.TIME_ZONE. MTTA/MTTR count the business time between the instants as DOMAIN
§2 defines them (paused time included: the time to an answer is what the customer lived).

SLA compliance per clock: met / tickets with a target; the due instants already moved later by the
paused time, so paused time is excluded, and its total is shown apart (`sla_paused`).

Dimensions: service, offering, organisation, ticket_type (the ticket's type), channel (the ticket's
channel: portal, email, api, staff), day/week/month of the instant above.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, DateTimeField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, Sum

from serviceloop.desk.business_time import Calendar, business_seconds_between
from serviceloop.desk.models import BusinessCalendar, Ticket
from serviceloop.desk.services.sla import calendar_of
from serviceloop.experience.metrics import DESK_METRICS, METRICS, Figure, make_figure, mean_figure, share_figure
from serviceloop.experience.sources import DATES, aggregated, as_day, check_group_by, date_expression, day_bounds
from serviceloop.experience.tally import Scope

FCR_WINDOW = timedelta(days=7)
COLUMNS = {
    "service": "service_id",
    "offering": "offering_id",
    "organisation": "organisation_id",
    "channel": "channel",
    "ticket_type": "type",
}
DONE = (Ticket.Status.RESOLVED, Ticket.Status.CLOSED)

Key = tuple[object, ...]


def _in_scope(scope: Scope, date_field: str) -> QuerySet[Ticket]:
    rows = Ticket.objects.filter(**{f"{date_field}__isnull": False})
    for name, values in (
        ("service", scope.service_ids),
        ("offering", scope.offering_ids),
        ("organisation", scope.organisation_ids),
        ("channel", scope.channels),
        ("ticket_type", scope.ticket_types),
    ):
        if values is not None:
            rows = rows.filter(**{f"{COLUMNS[name]}__in": values})
    start, end = day_bounds(scope)
    if start is not None:
        rows = rows.filter(**{f"{date_field}__gte": start})
    if end is not None:
        rows = rows.filter(**{f"{date_field}__lt": end})
    return rows


def _grouping(group_by: Sequence[str], date_field: str) -> dict[str, Any]:
    return {f"g_{name}": date_expression(name, date_field) if name in DATES else F(COLUMNS[name]) for name in group_by}


def _key(row: dict[str, Any], group_by: Sequence[str]) -> Key:
    return tuple(as_day(row[f"g_{name}"]) if name in DATES else row[f"g_{name}"] for name in group_by)


def _new_contact() -> Exists:
    """A later ticket from the same requester on the same service within 7 days of the resolution."""
    later = Ticket.objects.annotate(
        window_end=ExpressionWrapper(OuterRef("resolved_at") + FCR_WINDOW, output_field=DateTimeField())
    )
    return Exists(
        later.filter(
            requester_id=OuterRef("requester_id"),
            service_id=OuterRef("service_id"),
            opened_at__gt=OuterRef("resolved_at"),
            opened_at__lte=F("window_end"),
        )
    )


def _counts(scope: Scope, group_by: Sequence[str], *, fcr: bool) -> dict[Key, dict[str, int]]:
    """Counts of resolved tickets per group; the FCR count (a subquery per ticket) only when asked for."""
    resolved = _in_scope(scope, "resolved_at").filter(status__in=DONE)
    grouping = _grouping(group_by, "resolved_at")
    rows = aggregated(
        resolved.values(**grouping).order_by(),
        list(grouping),
        {
            "resolved": Count("pk"),
            "reopened": Count("pk", filter=Q(reopen_count__gt=0)),
            "reassignments": Sum("reassignment_count"),
            "fr_target": Count("pk", filter=Q(first_response_due_at__isnull=False)),
            "fr_met": Count(
                "pk",
                filter=Q(
                    first_response_due_at__isnull=False,
                    first_response_at__isnull=False,
                    first_response_at__lte=F("first_response_due_at"),
                    first_response_breached=False,
                ),
            ),
            "res_target": Count("pk", filter=Q(resolution_due_at__isnull=False)),
            "res_met": Count(
                "pk",
                filter=Q(
                    resolution_due_at__isnull=False,
                    resolved_at__lte=F("resolution_due_at"),
                    resolution_breached=False,
                ),
            ),
            "paused": Sum("paused_seconds", filter=Q(sla_target__isnull=False)),
            **(
                {"fcr": Count("pk", filter=Q(first_contact_resolution=True, reopen_count=0) & ~_new_contact())}
                if fcr
                else {}
            ),
        },
    )
    return {
        _key(row, group_by): {name: int(row.get(name) or 0) for name in _COUNT_NAMES} for row in rows if row["resolved"]
    }


_COUNT_NAMES = (
    "resolved",
    "fcr",
    "reopened",
    "reassignments",
    "fr_target",
    "fr_met",
    "res_target",
    "res_met",
    "paused",
)


def _calendars() -> dict[int | None, Calendar]:
    calendars: dict[int | None, Calendar] = {
        calendar.pk: calendar_of(calendar) for calendar in BusinessCalendar.objects.prefetch_related("holidays")
    }
    calendars[None] = Calendar(time_zone=settings.TIME_ZONE)
    return calendars


def _durations(scope: Scope, group_by: Sequence[str], date_field: str, start_field: str) -> dict[Key, list[float]]:
    """Business minutes from opened_at to `start_field` of each ticket in scope, per group."""
    rows = _in_scope(scope, date_field)
    if date_field == "resolved_at":
        rows = rows.filter(status__in=DONE)
    calendars = _calendars()
    result: dict[Key, list[float]] = defaultdict(list)
    values = rows.values(
        "opened_at", start_field, "sla_target__calendar_id", **_grouping(group_by, date_field)
    ).order_by()
    for row in values.iterator(chunk_size=2000):
        calendar = calendars.get(row["sla_target__calendar_id"], calendars[None])
        seconds = max(business_seconds_between(calendar, row["opened_at"], row[start_field]), 0.0)
        result[_key(row, group_by)].append(seconds / 60)
    return result


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def desk_figures(scope: Scope, group_by: Sequence[str], names: Sequence[str]) -> dict[Key, dict[str, Figure]]:
    """The figures of the desk metrics asked for, per group (only groups with a ticket)."""
    check_group_by(group_by)
    names = [name for name in names if name in DESK_METRICS]
    if not names:
        return {}
    counts = _counts(scope, group_by, fcr="fcr" in names)
    wanted = set(names)
    answered = (
        _durations(scope, group_by, "first_response_at", "first_response_at")
        if wanted
        & {
            "mtta_mean",
            "mtta_median",
        }
        else {}
    )
    resolving = (
        _durations(scope, group_by, "resolved_at", "resolved_at")
        if wanted
        & {
            "mttr_mean",
            "mttr_median",
        }
        else {}
    )
    result: dict[Key, dict[str, Figure]] = {}
    for key in set(counts) | set(answered) | set(resolving):
        result[key] = {
            name: desk_figure(name, counts.get(key, {}), answered.get(key, []), resolving.get(key, []))
            for name in names
        }
    return result


def desk_figure(name: str, counts: dict[str, int], answered: list[float], resolving: list[float]) -> Figure:
    """One desk figure from a group's counts and durations (business minutes)."""
    metric = METRICS[name]
    resolved = counts.get("resolved", 0)
    if name == "fcr":
        return share_figure(metric, counts.get("fcr", 0), resolved)
    if name == "reopen_rate":
        return share_figure(metric, counts.get("reopened", 0), resolved)
    if name == "reassignment_mean":
        return mean_figure(metric, counts.get("reassignments", 0), resolved)
    if name == "sla_first_response":
        return share_figure(metric, counts.get("fr_met", 0), counts.get("fr_target", 0))
    if name == "sla_resolution":
        return share_figure(metric, counts.get("res_met", 0), counts.get("res_target", 0))
    if name == "sla_paused":
        return make_figure(metric, n=counts.get("res_target", 0), value=counts.get("paused", 0) / 60)
    if name == "mtta_mean":
        return mean_figure(metric, sum(answered), len(answered))
    if name == "mtta_median":
        return make_figure(metric, n=len(answered), value=_median(answered))
    if name == "mttr_mean":
        return mean_figure(metric, sum(resolving), len(resolving))
    if name == "mttr_median":
        return make_figure(metric, n=len(resolving), value=_median(resolving))
    raise ValueError(f"{name} is not a desk metric")

"""The desk's metrics, from tickets: FCR, MTTA/MTTR in business hours, SLA compliance, reopens, reassignments.

They are not in the tally (tickets are few beside responses): aggregate queries per grouping, no
per-ticket Python. The durations are stored on the ticket in business minutes when they happen
(`Ticket.response_business_minutes`, `resolution_business_minutes`: desk.services.business_minutes),
so MTTA/MTTR are SQL sums and counts; their medians are `percentile_cont(0.5)` on PostgreSQL and, on
SQLite (no such aggregate), a Python median over the grouped minute values only.

Which tickets, and on which day each counts:

- **resolved tickets** (status resolved or closed) on the day of `resolved_at`: FCR, MTTR, reopen
  rate, reassignments, and SLA compliance and paused time of the tickets with a target;
- **answered tickets** (a first staff response) on the day of `first_response_at`: MTTA;
- **overdue open tickets** (not resolved or closed, a clock's due instant passed while the clock ran
  and the clock not met by then) on the day of that due instant: SLA compliance, as not met (and
  their paused time). Once resolved, such a ticket counts on its resolution day instead.

FCR: a ticket the desk marked resolved at the first interaction (`first_contact_resolution`: never
reopened, at most one public staff answer and at most one public message from the customer — the
opening one), and no new ticket from the same requester on the same service opened within 7 days
after it was resolved.

Business time: the calendar of the ticket's SLA target; without one the service's calendar (the
calendar of its targets), else 09:00–17:00 Monday to Friday in settings.TIME_ZONE. MTTA/MTTR count
the business time between the instants as DOMAIN §2 defines them (paused time included: the time to
an answer is what the customer lived).

SLA compliance per clock: met / tickets with a target whose clock is done or overdue; the due
instants already moved later by the paused time, so paused time is excluded, and its total is shown
apart (`sla_paused`).

Dimensions: service, offering, organisation, ticket_type (the ticket's type), channel (the ticket's
channel: portal, email, api, staff), day/week/month of the instant above. Before computing, the
distinct group keys are fetched (at most MAX_GROUPS + 1 per population): a grouping with more
groups is refused ("too_many_groups") before any figure is computed.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)

from serviceloop.core import clock
from serviceloop.desk.models import Ticket
from serviceloop.experience import tally
from serviceloop.experience.metrics import DESK_METRICS, METRICS, Figure, make_figure, mean_figure, share_figure
from serviceloop.experience.sources import DATES, aggregated, as_day, check_group_by, date_expression, day_bounds
from serviceloop.experience.tally import Scope, check_groups

FCR_WINDOW = timedelta(days=7)
COLUMNS = {
    "service": "service_id",
    "offering": "offering_id",
    "organisation": "organisation_id",
    "channel": "channel",
    "ticket_type": "type",
}
DONE = (Ticket.Status.RESOLVED, Ticket.Status.CLOSED)
RESPONSE, RESOLUTION = "response_business_minutes", "resolution_business_minutes"

Key = tuple[object, ...]
Counts = Mapping[str, float | None]


class Median(Aggregate):
    """PostgreSQL's continuous median of a column (the mean of the two middle values when n is even)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def sql_median() -> bool:
    return connection.vendor == "postgresql"


@dataclass(frozen=True)
class Population:
    """Which tickets one query counts, and the instant that dates them."""

    date_field: str
    condition: Q


def _overdue(due: str, breached: str, met: str | None) -> Q:
    """Open, the due instant passed while the clock ran (as sla_check decides), the clock not met by then."""
    ran_out = Q(clock_stopped_at__isnull=True) | Q(clock_stopped_at__gte=F(due))
    not_met = Q(**{f"{met}__isnull": True}) | Q(**{f"{met}__gt": F(due)}) if met else Q()
    return Q(status__in=Ticket.ACTIVE, **{f"{due}__lte": clock.now()}) & (Q(**{breached: True}) | (ran_out & not_met))


def _populations() -> dict[str, Population]:
    return {
        "resolved": Population("resolved_at", Q(status__in=DONE)),
        "answered": Population("first_response_at", Q()),
        "fr_overdue": Population(
            "first_response_due_at", _overdue("first_response_due_at", "first_response_breached", "first_response_at")
        ),
        "res_overdue": Population("resolution_due_at", _overdue("resolution_due_at", "resolution_breached", None)),
    }


# Which populations each metric reads.
NEEDS = {
    "fcr": ("resolved",),
    "reopen_rate": ("resolved",),
    "reassignment_mean": ("resolved",),
    "mttr_mean": ("resolved",),
    "mttr_median": ("resolved",),
    "mtta_mean": ("answered",),
    "mtta_median": ("answered",),
    "sla_first_response": ("resolved", "fr_overdue"),
    "sla_resolution": ("resolved", "res_overdue"),
    "sla_paused": ("resolved", "res_overdue"),
}


def _in_scope(scope: Scope, population: Population) -> QuerySet[Ticket]:
    date_field = population.date_field
    rows = Ticket.objects.filter(population.condition, **{f"{date_field}__isnull": False})
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


def _key(row: Mapping[str, Any], group_by: Sequence[str]) -> Key:
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


def _aggregates(population: str, wanted: set[str]) -> dict[str, Any]:
    """The aggregates one population's query computes for the metrics asked for."""
    median = sql_median()
    if population == "answered":
        return {
            "mtta_n": Count(RESPONSE),
            "mtta_sum": Sum(RESPONSE),
            **({"mtta_median": Median(RESPONSE)} if median and "mtta_median" in wanted else {}),
        }
    if population == "fr_overdue":
        return {"fr_overdue": Count("pk", filter=Q(sla_target__isnull=False))}
    if population == "res_overdue":
        with_target = Q(sla_target__isnull=False)
        return {
            "res_overdue": Count("pk", filter=with_target),
            "overdue_paused": Sum("paused_seconds", filter=with_target),
        }
    result: dict[str, Any] = {
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
        "paused": Sum("paused_seconds", filter=Q(resolution_due_at__isnull=False)),
        "mttr_n": Count(RESOLUTION),
        "mttr_sum": Sum(RESOLUTION),
    }
    if median and "mttr_median" in wanted:
        result["mttr_median"] = Median(RESOLUTION)
    if "fcr" in wanted:
        # A subquery per resolved ticket: only when asked for.
        result["fcr"] = Count("pk", filter=Q(first_contact_resolution=True, reopen_count=0) & ~_new_contact())
    return result


def _python_medians(rows: QuerySet[Ticket], group_by: Sequence[str], date_field: str, column: str) -> dict[Key, float]:
    """SQLite: the median per group from the grouped minute values (two columns or so per ticket, no objects)."""
    values: dict[Key, list[int]] = defaultdict(list)
    fetched = rows.filter(**{f"{column}__isnull": False}).values(column, **_grouping(group_by, date_field)).order_by()
    for row in fetched.iterator(chunk_size=5000):
        values[_key(row, group_by)].append(row[column])
    return {key: float(statistics.median(minutes)) for key, minutes in values.items()}


# SQLite: the medians taken in Python, per population (metric, column).
PYTHON_MEDIANS = {"resolved": ("mttr_median", RESOLUTION), "answered": ("mtta_median", RESPONSE)}


def _wanted_populations(names: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(population for name in names for population in NEEDS[name]))


def group_count_check(scope: Scope, group_by: Sequence[str], names: Sequence[str]) -> None:
    """Refuse ("too_many_groups") a grouping with more than MAX_GROUPS groups, before computing.

    One cheap query per population: its distinct group keys, at most MAX_GROUPS + 1 of them.
    """
    if not group_by:
        return
    populations = _populations()
    keys: set[Key] = set()
    for population in _wanted_populations(names):
        spec = populations[population]
        grouping = _grouping(group_by, spec.date_field)
        distinct = _in_scope(scope, spec).values(**grouping).order_by().distinct()[: tally.MAX_GROUPS + 1]
        keys.update(_key(row, group_by) for row in distinct)
        if len(keys) > tally.MAX_GROUPS:
            check_groups(len(keys), exact=False)


def desk_counts(scope: Scope, group_by: Sequence[str], names: Sequence[str]) -> dict[Key, dict[str, float | None]]:
    """The counts, sums and medians behind the desk figures asked for, per group (only groups with a ticket)."""
    wanted = set(names)
    populations = _populations()
    result: dict[Key, dict[str, float | None]] = defaultdict(dict)
    for population in _wanted_populations(names):
        spec = populations[population]
        rows = _in_scope(scope, spec)
        grouping = _grouping(group_by, spec.date_field)
        aggregates = _aggregates(population, wanted)
        first = next(iter(aggregates))  # the population's count: a group without rows is no group
        for row in aggregated(rows.values(**grouping).order_by(), list(grouping), aggregates):
            if row[first]:
                result[_key(row, group_by)].update({name: row[name] for name in aggregates})
        median = PYTHON_MEDIANS.get(population)
        if median is not None and median[0] in wanted and not sql_median():
            for key, value in _python_medians(rows, group_by, spec.date_field, median[1]).items():
                result[key][median[0]] = value
    return dict(result)


def desk_figures(scope: Scope, group_by: Sequence[str], names: Sequence[str]) -> dict[Key, dict[str, Figure]]:
    """The figures of the desk metrics asked for, per group (only groups with a ticket).

    Refuses a grouping with more than MAX_GROUPS groups (InvalidInput "too_many_groups") first.
    """
    check_group_by(group_by)
    names = [name for name in names if name in DESK_METRICS]
    if not names:
        return {}
    group_count_check(scope, group_by, names)
    counts = desk_counts(scope, group_by, names)
    return {key: {name: desk_figure(name, group) for name in names} for key, group in counts.items()}


def _int(counts: Counts, name: str) -> int:
    return int(counts.get(name) or 0)


def desk_figure(name: str, counts: Counts) -> Figure:
    """One desk figure from a group's counts (`desk_counts`); durations in business minutes."""
    metric = METRICS[name]
    resolved = _int(counts, "resolved")
    if name == "fcr":
        return share_figure(metric, _int(counts, "fcr"), resolved)
    if name == "reopen_rate":
        return share_figure(metric, _int(counts, "reopened"), resolved)
    if name == "reassignment_mean":
        return mean_figure(metric, _int(counts, "reassignments"), resolved)
    if name == "sla_first_response":
        return share_figure(metric, _int(counts, "fr_met"), _int(counts, "fr_target") + _int(counts, "fr_overdue"))
    res_n = _int(counts, "res_target") + _int(counts, "res_overdue")
    if name == "sla_resolution":
        return share_figure(metric, _int(counts, "res_met"), res_n)
    if name == "sla_paused":
        paused = _int(counts, "paused") + _int(counts, "overdue_paused")
        return make_figure(metric, n=res_n, value=paused / 60)
    for prefix in ("mtta", "mttr"):
        if name == f"{prefix}_mean":
            return mean_figure(metric, _int(counts, f"{prefix}_sum"), _int(counts, f"{prefix}_n"))
        if name == f"{prefix}_median":
            median = counts.get(f"{prefix}_median")
            return make_figure(metric, n=_int(counts, f"{prefix}_n"), value=None if median is None else float(median))
    raise ValueError(f"{name} is not a desk metric")

"""Keeping the rollups and reading them: replace cells by a recount, rebuild, and tallies for the metrics.

A cell is (service, day). Whatever changed in it — an arrival, an edit, a deletion — it is replaced
by a recount of its raw rows (delete and `INSERT … SELECT` in one transaction, with the services'
rows locked so that two workers replacing the same cell run one after the other). Replacing is
idempotent: an event delivered twice, or a retry after a failure half-way, writes the same rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Max, Min, QuerySet, Sum
from django.db.models.functions import TruncMonth, TruncWeek

from serviceloop.catalogue.models import Service
from serviceloop.core import clock
from serviceloop.experience.models import NONE_ID, RollupCount, RollupDay
from serviceloop.experience.recount import Cells, day_of, insert_recount
from serviceloop.experience.tally import GROUP_DIMENSIONS, Grouped, Scope, Tally
from serviceloop.feedback.models import Invitation, Post, Response, SuppressedInvitation

CellMap = dict[int, set[date]]


def _lock(service_ids: Collection[int] | None) -> None:
    """Lock the services' rows (in id order, so two workers never wait on each other in a circle)."""
    services = Service.objects.select_for_update().order_by("pk")
    if service_ids is not None:
        services = services.filter(pk__in=list(service_ids))
    list(services.values_list("pk", flat=True))


def _in_cells(rows: QuerySet[Any], cells: Cells) -> QuerySet[Any]:
    rows = rows.filter(day__gte=cells.first, day__lte=cells.last)
    if cells.service_ids is not None:
        rows = rows.filter(service_id__in=list(cells.service_ids))
    if cells.days is not None:
        rows = rows.filter(day__in=list(cells.days))
    return rows


def _replace(cells: Cells) -> int:
    """Replace the cells' rows by a recount, then their day rows by the sum of the new rows."""
    _in_cells(RollupCount.objects.all(), cells).delete()
    written = insert_recount(cells)
    _in_cells(RollupDay.objects.all(), cells).delete()
    summed = (
        _in_cells(RollupCount.objects.all(), cells)
        .order_by()
        .values("service_id", "day", "measure", "value")
        .annotate(total=Sum("count"))
    )
    sql, params = summed.query.sql_with_params()
    table = connection.ops.quote_name(RollupDay._meta.db_table)
    names = ", ".join(connection.ops.quote_name(name) for name in ("service_id", "day", "measure", "value", "count"))
    with connection.cursor() as cursor:
        # Django-compiled SQL; every value is a parameter.
        cursor.execute(f"INSERT INTO {table} ({names}) {sql}", params)  # nosec B608
    return written


def cells_refresh(cells: CellMap) -> int:
    """Replace every (service, day) cell of `cells` by its recount, in one transaction; rows written."""
    cells = {service: days for service, days in cells.items() if days}
    if not cells:
        return 0
    # Services with the same days (one day's batch, an event about one row) are recounted together.
    by_days: dict[frozenset[date], list[int]] = defaultdict(list)
    for service_id in sorted(cells):
        by_days[frozenset(cells[service_id])].append(service_id)
    written = 0
    with transaction.atomic():
        _lock(cells.keys())
        for days, service_ids in by_days.items():
            written += _replace(Cells(service_ids=service_ids, first=min(days), last=max(days), days=days))
    return written


# ---------------------------------------------------------------- which cells a change touches


def _add(cells: CellMap, service_id: int, moment: datetime) -> None:
    cells[service_id].add(day_of(moment))


def cells_of_responses(response_ids: Iterable[int]) -> CellMap:
    """The cells of the responses, and of their invitations (answered counts on the day it was sent)."""
    cells: CellMap = defaultdict(set)
    rows = Response.objects.filter(pk__in=list(response_ids)).values_list(
        "service_id", "responded_at", "invitation__service_id", "invitation__sent_at"
    )
    for service_id, responded_at, invitation_service_id, sent_at in rows.iterator(chunk_size=2_000):
        _add(cells, service_id, responded_at)
        if invitation_service_id is not None:
            _add(cells, invitation_service_id, sent_at)
    return cells


def cells_of_posts(post_ids: Iterable[int]) -> CellMap:
    cells: CellMap = defaultdict(set)
    links = Post.services.through.objects.filter(post_id__in=list(post_ids)).values_list(
        "service_id", "post__posted_at"
    )
    for service_id, posted_at in links.iterator(chunk_size=2_000):
        _add(cells, service_id, posted_at)
    return cells


def cells_of_invitations(invitation_ids: Iterable[int]) -> CellMap:
    cells: CellMap = defaultdict(set)
    for service_id, sent_at in Invitation.objects.filter(pk__in=list(invitation_ids)).values_list(
        "service_id", "sent_at"
    ):
        _add(cells, service_id, sent_at)
    return cells


def cells_of_suppressed(suppressed_ids: Iterable[int]) -> CellMap:
    cells: CellMap = defaultdict(set)
    rows = SuppressedInvitation.objects.filter(pk__in=list(suppressed_ids)).values_list("service_id", "created_at")
    for service_id, created_at in rows:
        _add(cells, service_id, created_at)
    return cells


def cells_of_offering(offering_id: int) -> CellMap:
    """The cells that still count rows of an offering (after it was deleted, its rows have none)."""
    cells: CellMap = defaultdict(set)
    for service_id, day in (
        RollupCount.objects.filter(offering_id=offering_id).values_list("service_id", "day").distinct()
    ):
        cells[service_id].add(day)
    return cells


def service_forget(service_id: int) -> int:
    """A deleted service's rollups go with it."""
    deleted, _ = RollupCount.objects.filter(service_id=service_id).delete()
    RollupDay.objects.filter(service_id=service_id).delete()
    return deleted


# ---------------------------------------------------------------- rebuild


@dataclass(frozen=True)
class RebuildResult:
    days: int
    chunks: int
    rows: int
    first: date | None
    last: date | None


def _span(service_ids: Collection[int] | None) -> tuple[date, date] | None:
    """The first and last day of any raw row counted (of the services)."""
    moments: list[datetime] = []
    sources: list[tuple[Any, str, str]] = [
        (Response.objects, "responded_at", "service_id"),
        (Invitation.objects, "sent_at", "service_id"),
        (SuppressedInvitation.objects, "created_at", "service_id"),
        (Post.services.through.objects, "post__posted_at", "service_id"),
    ]
    for manager, moment, service in sources:
        rows = manager.all()
        if service_ids is not None:
            rows = rows.filter(**{f"{service}__in": list(service_ids)})
        span = rows.aggregate(first=Min(moment), last=Max(moment))
        moments += [moment for moment in span.values() if moment is not None]
    return (day_of(min(moments)), day_of(max(moments))) if moments else None


def _kept_span(service_ids: Collection[int] | None) -> tuple[date, date] | None:
    kept = RollupCount.objects.all()
    if service_ids is not None:
        kept = kept.filter(service_id__in=list(service_ids))
    span = kept.aggregate(first=Min("day"), last=Max("day"))
    return (span["first"], span["last"]) if span["first"] is not None else None


def day_chunks(first: date, last: date, size: int) -> Iterator[tuple[date, date]]:
    start = first
    while start <= last:
        end = min(start + timedelta(days=size - 1), last)
        yield start, end
        start = end + timedelta(days=1)


def rollups_rebuild(
    *,
    since: date | None = None,
    service_ids: Collection[int] | None = None,
    until: date | None = None,
    chunk_days: int = 31,
    wrap: Callable[[Iterator[tuple[date, date]], int], Iterable[tuple[date, date]]] | None = None,
) -> RebuildResult:
    """Replace every cell from `since` (default: the first raw row) to `until` (default: today or the last row) by its
    recount, `chunk_days` days at a time, each chunk in one transaction; `wrap` shows progress."""
    # The days of the raw rows and of the rollups kept so far (a stale row outside the raw rows' days
    # goes too); up to today, or later when a row is dated later (an import with a clock ahead).
    days = [day for pair in (_span(service_ids), _kept_span(service_ids)) if pair for day in pair]
    if not days and (since is None or until is None):
        return RebuildResult(days=0, chunks=0, rows=0, first=None, last=None)
    first = since or min(days)
    last = until or max([*days, day_of(clock.now())])
    if first > last:
        return RebuildResult(days=0, chunks=0, rows=0, first=None, last=None)
    total = (last - first).days // chunk_days + 1
    chunks: Iterable[tuple[date, date]] = day_chunks(first, last, chunk_days)
    if wrap is not None:
        chunks = wrap(day_chunks(first, last, chunk_days), total)
    rows = count = 0
    for start, end in chunks:
        with transaction.atomic():
            _lock(service_ids)
            rows += _replace(Cells(service_ids=service_ids, first=start, last=end))
        count += 1
    return RebuildResult(days=(last - first).days + 1, chunks=count, rows=rows, first=first, last=last)


# ---------------------------------------------------------------- reading


_GROUPS: dict[str, Any] = {
    "service": F("service_id"),
    "offering": F("offering_id"),
    "organisation": F("organisation_id"),
    "channel": F("channel"),
    "ticket_type": F("ticket_type"),
    "day": F("day"),
    "week": TruncWeek("day"),
    "month": TruncMonth("day"),
}


def _as_date(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value


def tally_from_rollups(scope: Scope, group_by: tuple[str, ...]) -> Grouped:
    """SUM(count) of the rollup rows in `scope`, grouped by `group_by` (keys in the order asked).

    "week" is the Monday of the ISO week, "month" the first of the month; an offering or
    organisation key is None for rows without one. `group_by=()` gives one tally under the key ().
    """
    unknown = [dimension for dimension in group_by if dimension not in GROUP_DIMENSIONS]
    if unknown:
        raise ValueError(f"Unknown grouping {unknown[0]!r}; group by {', '.join(GROUP_DIMENSIONS)}.")
    rows: QuerySet[Any] = RollupDay.objects.all() if _by_day_only(scope, group_by) else RollupCount.objects.all()
    for ids, field in (
        (scope.service_ids, "service_id"),
        (scope.offering_ids, "offering_id"),
        (scope.organisation_ids, "organisation_id"),
        (scope.channels, "channel"),
        (scope.ticket_types, "ticket_type"),
    ):
        if ids is not None:
            rows = rows.filter(**{f"{field}__in": list(ids)})
    if scope.since is not None:
        rows = rows.filter(day__gte=scope.since)
    if scope.until is not None:
        rows = rows.filter(day__lte=scope.until)
    names = [f"g_{dimension}" for dimension in group_by]
    grouped = (
        rows.annotate(**{name: _GROUPS[dimension] for name, dimension in zip(names, group_by, strict=True)})
        .order_by()
        .values(*names, "measure", "value")
        .annotate(n=Sum("count"))
    )
    result: dict[tuple[object, ...], Tally] = defaultdict(Tally)
    for row in grouped:
        key = tuple(_key_part(dimension, row[name]) for name, dimension in zip(names, group_by, strict=True))
        result[key].add(row["measure"], row["value"], int(row["n"]))
    return dict(result)


DAY_DIMENSIONS = frozenset({"service", "day", "week", "month"})


def _by_day_only(scope: Scope, group_by: tuple[str, ...]) -> bool:
    """Whether the day rows (RollupDay) answer: no filter or grouping on what they sum over."""
    finer = (scope.offering_ids, scope.organisation_ids, scope.channels, scope.ticket_types)
    return all(ids is None for ids in finer) and set(group_by) <= DAY_DIMENSIONS


def _key_part(dimension: str, value: Any) -> object:
    if dimension in ("offering", "organisation"):
        return None if value == NONE_ID else int(value)
    if dimension in ("day", "week", "month"):
        return _as_date(value)
    return value

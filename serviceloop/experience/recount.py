"""The raw recount: the rollup rows of some (service, day) cells, computed set-wise from the raw rows.

One pass over the responses for every response measure, and one SELECT per invitation and post
measure (each GROUP BY the rollup key), joined with UNION ALL, so that the subscriber and the rebuild
write a cell with one `INSERT … SELECT` and a check reads the same numbers. Measures and
values are tally.py's table; each row's day is the calendar day in settings.TIME_ZONE of the moment
it counts from (responded_at, sent_at, created_at for a suppressed invitation, posted_at).

Dimensions of the rows that have none: an invitation and a suppressed invitation are on channel
"email" (the only channel that invites); a post is on channel "social" with no offering, organisation
or ticket; "no offering" and "no organisation" are `NONE_ID` (0); "no ticket" is the type "".
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import CharField, Count, F, PositiveBigIntegerField, QuerySet, TextField, Value
from django.db.models.functions import Cast, Coalesce, TruncDate

from serviceloop.experience.models import NONE_ID, RollupCount
from serviceloop.feedback.models import (
    Driver,
    Invitation,
    Post,
    Response,
    SentimentLabel,
    SuppressedInvitation,
)

SCORE_MEASURES = ("csat", "happiness", "nps", "ces")
POST_CHANNEL = "social"
INVITATION_CHANNEL = "email"
# The rollup columns, in the order the recount selects them and the INSERT names them.
KEY = ("service_id", "day", "offering_id", "organisation_id", "channel", "ticket_type", "measure", "value")
COLUMNS = (*KEY, "count")
Key = tuple[int, date, int, int, str, str, str, str]


@dataclass(frozen=True)
class Cells:
    """Which cells to recount: services (None: all), days from `first` to `last`, and only `days` when given."""

    service_ids: Collection[int] | None
    first: date
    last: date
    days: Collection[date] | None = None


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_of(moment: datetime) -> date:
    return moment.astimezone(zone()).date()


def _bounds(cells: Cells) -> tuple[datetime, datetime]:
    tz = zone()
    return datetime.combine(cells.first, time.min, tz), datetime.combine(cells.last + timedelta(days=1), time.min, tz)


def _text(value: str) -> Value:
    return Value(value, output_field=CharField())


def _keyed(
    queryset: QuerySet[Any],
    cells: Cells,
    *,
    moment: str,
    service: str,
    measure: str,
    value: Any,
    offering: Any,
    organisation: Any,
    channel: Any,
    ticket_type: Any,
) -> QuerySet[Any]:
    """`queryset` grouped by the rollup key (as k_… columns) with its count, limited to `cells`."""
    start, end = _bounds(cells)
    rows = queryset.filter(**{f"{moment}__gte": start, f"{moment}__lt": end})
    if cells.service_ids is not None:
        rows = rows.filter(**{f"{service}__in": list(cells.service_ids)})
    rows = rows.annotate(
        k_service_id=F(service),
        k_day=TruncDate(moment, tzinfo=zone()),
        k_offering_id=offering,
        k_organisation_id=organisation,
        k_channel=channel,
        k_ticket_type=ticket_type,
        k_measure=_text(measure),
        k_value=value,
    )
    if cells.days is not None:
        rows = rows.filter(k_day__in=list(cells.days))
    return rows.order_by().values(*(f"k_{column}" for column in KEY)).annotate(k_count=Count("*"))


def _none(field: str) -> Coalesce:
    return Coalesce(F(field), Value(NONE_ID), output_field=PositiveBigIntegerField())


# What one response counts for: (measure, code) pairs, and the value each gives (NULL: nothing there).
# Codes and labels are this module's own constants, so they are written into the SQL as literals.
_DRIVER_TEXT = "b.k_drivers"


def _response_measures() -> list[tuple[str, str, str]]:
    """(measure, code, value SQL over the base row `b` and the pair's code `m.code`)."""
    labels = ", ".join(f"'{label}'" for label in SentimentLabel.values)
    # A driver is matched in the JSON list's text ('"speed"'), the same on both databases and never a
    # code inside another.
    named = f"{_DRIVER_TEXT} LIKE '%%\"' || m.code || '\"%%'"
    measures = [("responses", "", "''")]
    measures += [(kind, "", f"CAST(b.{kind} AS TEXT)") for kind in SCORE_MEASURES]
    measures += [
        ("lost_time", "", "b.lost_time_bucket"),
        ("sentiment", "", f"CASE WHEN b.sentiment_label IN ({labels}) THEN b.sentiment_label END"),
    ]
    measures += [("driver", driver, f"CASE WHEN {named} THEN m.code END") for driver in Driver.values]
    return measures


def _responses_sql(cells: Cells) -> tuple[str, list[Any]]:
    """Every response measure of `cells` in one pass over the responses.

    The base rows (key columns and the raw values, compiled by the ORM: the day in the project's time
    zone, the ticket's type, the cells' filters) meet a constant table of (measure, code) pairs; a CASE
    gives each pair's value or NULL, and the NULLs are dropped before grouping. One scan instead of one
    per measure: measured 1M responses on PostgreSQL, bench/README.md "Experience at scale".
    """
    start, end = _bounds(cells)
    rows = Response.objects.filter(responded_at__gte=start, responded_at__lt=end)
    if cells.service_ids is not None:
        rows = rows.filter(service_id__in=list(cells.service_ids))
    rows = rows.annotate(
        k_service_id=F("service_id"),
        k_day=TruncDate("responded_at", tzinfo=zone()),
        k_offering_id=_none("offering_id"),
        k_organisation_id=_none("organisation_id"),
        k_channel=F("channel"),
        k_ticket_type=Coalesce(F("ticket__type"), _text("")),
        k_drivers=Cast("drivers", TextField()),
    )
    if cells.days is not None:
        rows = rows.filter(k_day__in=list(cells.days))
    base_columns = [f"k_{column}" for column in KEY[:6]]
    raw = [*SCORE_MEASURES, "lost_time_bucket", "sentiment_label"]
    base, params = rows.order_by().values(*base_columns, *raw, "k_drivers").query.sql_with_params()
    measures = _response_measures()
    pairs = " UNION ALL ".join(f"SELECT '{measure}' AS measure, '{code}' AS code" for measure, code, _ in measures)
    value = (
        "CASE m.measure "
        + " ".join(f"WHEN '{measure}' THEN {sql}" for measure, sql in {m: v for m, _c, v in measures}.items())
        + " END"
    )
    keys = ", ".join(f"b.{column}" for column in base_columns)
    grouped = ", ".join(f"p.k_{column}" for column in KEY)
    sql = (
        f"SELECT {grouped}, COUNT(*) AS k_count FROM ("  # noqa: S608  # nosec B608  # our constants and ORM SQL
        f"SELECT {keys}, m.measure AS k_measure, {value} AS k_value FROM ({base}) b CROSS JOIN ({pairs}) m"
        f") p WHERE p.k_value IS NOT NULL GROUP BY {grouped}"
    )
    return sql, list(params)


def _invitation_selects(cells: Cells) -> Iterable[QuerySet[Any]]:
    def keyed(rows: QuerySet[Any], value: str) -> QuerySet[Any]:
        return _keyed(
            rows,
            cells,
            moment="sent_at",
            service="service_id",
            measure="invitation",
            value=_text(value),
            offering=_none("offering_id"),
            organisation=_none("organisation_id"),
            channel=_text(INVITATION_CHANNEL),
            ticket_type=Coalesce(F("ticket__type"), _text("")),
        )

    yield keyed(Invitation.objects.all(), "sent")
    yield keyed(Invitation.objects.filter(response__isnull=False), "answered")
    yield _keyed(
        SuppressedInvitation.objects.all(),
        cells,
        moment="created_at",
        service="service_id",
        measure="suppressed",
        value=F("reason"),
        offering=Value(NONE_ID, output_field=PositiveBigIntegerField()),
        organisation=_none("organisation_id"),
        channel=_text(INVITATION_CHANNEL),
        ticket_type=Coalesce(F("ticket__type"), _text("")),
    )


def _post_selects(cells: Cells) -> Iterable[QuerySet[Any]]:
    # One row per (post, service) it is matched to: the M2M table is what is counted.
    links = Post.services.through.objects.filter(post__sentiment_label__in=SentimentLabel.values)
    yield _keyed(
        links,
        cells,
        moment="post__posted_at",
        service="service_id",
        measure="post_sentiment",
        value=F("post__sentiment_label"),
        offering=Value(NONE_ID, output_field=PositiveBigIntegerField()),
        organisation=Value(NONE_ID, output_field=PositiveBigIntegerField()),
        channel=_text(POST_CHANNEL),
        ticket_type=_text(""),
    )


def recount_sql(cells: Cells) -> tuple[str, list[Any]]:
    """One SELECT of the rollup columns (in `COLUMNS` order) for `cells`, with its parameters."""
    parts: list[str] = []
    params: list[Any] = []
    columns = ", ".join(f"r.k_{column}" for column in COLUMNS)
    selects: list[tuple[str, Sequence[Any]]] = [_responses_sql(cells)]
    selects += [queryset.query.sql_with_params() for queryset in (*_invitation_selects(cells), *_post_selects(cells))]
    for sql, part_params in selects:
        # Django-compiled SQL; every value is a parameter.
        parts.append(f"SELECT {columns} FROM ({sql}) r")  # noqa: S608  # nosec B608
        params.extend(part_params)
    return " UNION ALL ".join(parts), params


def insert_recount(cells: Cells) -> int:
    """INSERT … SELECT the recount of `cells` into the rollup table (the caller deleted them); rows written."""
    sql, params = recount_sql(cells)
    table = connection.ops.quote_name(RollupCount._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({names}) {sql}", params)  # nosec B608
        return max(cursor.rowcount, 0)


def recount_cells(service_id: int, days: Collection[date]) -> dict[Key, int]:
    """The rollup rows the raw rows give for one service on `days`: key → count (nothing is written)."""
    if not days:
        return {}
    sql, params = recount_sql(Cells(service_ids=[service_id], first=min(days), last=max(days), days=days))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    counts: dict[Key, int] = {}
    for row in rows:
        service, day, offering, organisation, channel, ticket_type, measure, value, count = row
        if isinstance(day, str):  # SQLite answers a computed date as text
            day = date.fromisoformat(day)
        key = (int(service), day, int(offering), int(organisation), channel, ticket_type, measure, str(value))
        counts[key] = counts.get(key, 0) + int(count)
    return counts

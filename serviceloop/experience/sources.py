"""The raw recount: tallies straight from the feedback rows, set-wise (GROUP BY), for any scope and grouping.

`tally_from_rows(scope, group_by)` is the truth the rollups are checked against. Each source is one
aggregate query per grouping with conditional counts (no per-row Python):

- responses by `responded_at`: `responses`, the scores, `lost_time`, `driver` (the JSON list is
  searched for the quoted code, portable across SQLite and PostgreSQL), `driver_lost` (driver ×
  lost-time bucket), `sentiment`;
- invitations by `sent_at`: `invitation` sent and answered (it has a response); channel "email";
- suppressed invitations by `created_at`: `suppressed` per reason; channel "email", no offering;
- posts by `posted_at`, once per service they are matched to: `post_sentiment`; channel "social",
  no organisation, offering or ticket (so a filter on organisation or offering leaves them out).

Grouping keys are tuples in the order of `group_by`: service, offering and organisation are primary
keys (None when the row has none), channel a string, ticket_type the ticket's type ("" without a
ticket), day a date, week the date of its Monday (ISO weeks), month the date of its first day —
all days in settings.TIME_ZONE.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce, TruncDate, TruncMonth, TruncWeek

from serviceloop.experience.tally import GROUP_DIMENSIONS, Grouped, Scope, Tally
from serviceloop.feedback.models import (
    Driver,
    Invitation,
    LostTime,
    Post,
    Response,
    SentimentLabel,
    SuppressedInvitation,
)

SCORES = {"csat": (1, 5), "happiness": (0, 10), "nps": (0, 10), "ces": (1, 7)}
DATES = ("day", "week", "month")


def project_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def check_group_by(group_by: Sequence[str]) -> None:
    unknown = [name for name in group_by if name not in GROUP_DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown grouping {', '.join(unknown)}")


def day_bounds(scope: Scope) -> tuple[datetime | None, datetime | None]:
    """The scope's inclusive days as instants: [start of since, start of the day after until)."""
    zone = project_zone()
    start = datetime.combine(scope.since, time.min, tzinfo=zone) if scope.since else None
    end = datetime.combine(scope.until + timedelta(days=1), time.min, tzinfo=zone) if scope.until else None
    return start, end


def as_day(value: object) -> date | None:
    """A truncated date or instant as a calendar day of the project's zone."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(project_zone())
        return value.date()
    assert isinstance(value, date)  # nosec B101  # TruncDate answers a date
    return value


def date_expression(dimension: str, field_name: str) -> Any:
    zone = project_zone()
    if dimension == "day":
        return TruncDate(field_name, tzinfo=zone)
    if dimension == "week":
        return TruncWeek(field_name, tzinfo=zone)
    return TruncMonth(field_name, tzinfo=zone)


@dataclass(frozen=True)
class Source:
    """How one table answers the scope and the grouping dimensions."""

    date_field: str
    # dimension → the column (or expression) to group by; a dimension missing here is `constants`'.
    columns: dict[str, str]
    constants: dict[str, object] = field(default_factory=dict)
    ticket_type: str = "ticket__type"

    def filtered(self, rows: QuerySet[Any], scope: Scope) -> QuerySet[Any] | None:
        """The rows in scope, or None when a filter excludes the whole source."""
        for name, values in (
            ("service", scope.service_ids),
            ("offering", scope.offering_ids),
            ("organisation", scope.organisation_ids),
            ("channel", scope.channels),
        ):
            if values is None:
                continue
            if name in self.constants:
                if self.constants[name] not in values:
                    return None
                continue
            rows = rows.filter(**{f"{self.columns[name]}__in": values})
        if scope.ticket_types is not None:
            if "ticket_type" in self.constants:
                if self.constants["ticket_type"] not in scope.ticket_types:
                    return None
            else:
                typed = [value for value in scope.ticket_types if value]
                condition = Q(**{f"{self.ticket_type}__in": typed})
                if "" in scope.ticket_types:
                    condition |= Q(**{f"{self.ticket_type.removesuffix('__type')}__isnull": True})
                rows = rows.filter(condition)
        start, end = day_bounds(scope)
        if start is not None:
            rows = rows.filter(**{f"{self.date_field}__gte": start})
        if end is not None:
            rows = rows.filter(**{f"{self.date_field}__lt": end})
        return rows

    def grouped(self, rows: QuerySet[Any], group_by: Sequence[str]) -> tuple[QuerySet[Any], list[str]]:
        """rows.values(...) over the grouping's columns; the aliases in the order of group_by."""
        expressions: dict[str, Any] = {}
        for name in group_by:
            if name in self.constants:
                continue
            if name in DATES:
                expressions[f"g_{name}"] = date_expression(name, self.date_field)
            elif name == "ticket_type":
                expressions["g_ticket_type"] = Coalesce(self.ticket_type, Value(""))
            else:
                expressions[f"g_{name}"] = F(self.columns[name])
        return rows.values(**expressions).order_by(), list(expressions)

    def key(self, row: dict[str, Any], group_by: Sequence[str]) -> tuple[object, ...]:
        parts: list[object] = []
        for name in group_by:
            if name in self.constants:
                parts.append(self.constants[name])
            elif name in DATES:
                parts.append(as_day(row[f"g_{name}"]))
            else:
                parts.append(row[f"g_{name}"])
        return tuple(parts)


def aggregated(rows: QuerySet[Any], aliases: list[str], aggregates: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per group (rows is a .values() over the aliases), or the one total when there is no grouping.

    Without a grouping `.values()` would select (and group by) every column: aggregate instead.
    """
    if not aliases:
        return [rows.aggregate(**aggregates)]
    return list(rows.annotate(**aggregates))


RESPONSES = Source(
    "responded_at",
    {
        "service": "service_id",
        "offering": "offering_id",
        "organisation": "organisation_id",
        "channel": "channel",
    },
)
INVITATIONS = Source(
    "sent_at",
    {
        "service": "service_id",
        "offering": "offering_id",
        "organisation": "organisation_id",
    },
    constants={"channel": "email"},
)
SUPPRESSED = Source(
    "created_at",
    {"service": "service_id", "organisation": "organisation_id"},
    constants={"channel": "email", "offering": None},
)
# Rows of the post ↔ service link: one per (post, service).
POSTS = Source(
    "post__posted_at",
    {"service": "service_id"},
    constants={"channel": "social", "offering": None, "organisation": None, "ticket_type": ""},
)


def _response_counts() -> dict[str, Any]:
    counts: dict[str, Any] = {"responses": Count("pk")}
    for measure, (low, high) in SCORES.items():
        for score in range(low, high + 1):
            counts[f"{measure}|{score}"] = Count("pk", filter=Q(**{measure: score}))
    for code in LostTime.values:
        counts[f"lost_time|{code}"] = Count("pk", filter=Q(lost_time_bucket=code))
    for code in Driver.values:
        # The JSON text holds each named driver quoted: "speed" never matches inside another code.
        counts[f"driver|{code}"] = Count("pk", filter=Q(drivers__icontains=f'"{code}"'))
        for bucket in LostTime.values:
            counts[f"driver_lost|{code}:{bucket}"] = Count(
                "pk", filter=Q(drivers__icontains=f'"{code}"', lost_time_bucket=bucket)
            )
    for label in SentimentLabel.values:
        counts[f"sentiment|{label}"] = Count("pk", filter=Q(sentiment_label=label))
    return counts


def _count(
    result: dict[tuple[object, ...], Tally],
    source: Source,
    rows: QuerySet[Any],
    scope: Scope,
    group_by: Sequence[str],
    counts: dict[str, Any],
) -> None:
    narrowed = source.filtered(rows, scope)
    if narrowed is None:
        return
    grouped, aliases = source.grouped(narrowed, group_by)
    names = {f"c{index}": pair for index, pair in enumerate(counts)}
    for row in aggregated(grouped, aliases, {alias: counts[pair] for alias, pair in names.items()}):
        tally = result[source.key(row, group_by)]
        for alias, pair in names.items():
            if row[alias]:
                measure, _, value = pair.partition("|")
                tally.add(measure, value, row[alias])


def _grouped_by_value(
    result: dict[tuple[object, ...], Tally],
    source: Source,
    rows: QuerySet[Any],
    scope: Scope,
    group_by: Sequence[str],
    measure: str,
    column: str,
) -> None:
    """Counts per value of one column (suppressed reasons, post labels): the value is one more GROUP BY column."""
    narrowed = source.filtered(rows, scope)
    if narrowed is None:
        return
    grouped, aliases = source.grouped(narrowed, group_by)
    for row in grouped.values(*aliases, column).annotate(n=Count("pk")):
        if row[column] is not None and row["n"]:
            result[source.key(row, group_by)].add(measure, str(row[column]), row["n"])


def tally_from_rows(scope: Scope, group_by: Sequence[str] = ()) -> Grouped:
    """The tally of every group, recounted from the raw rows; groups with nothing counted are absent."""
    check_group_by(group_by)
    result: dict[tuple[object, ...], Tally] = defaultdict(Tally)
    _count(result, RESPONSES, Response.objects.all(), scope, group_by, _response_counts())
    invitation_counts = {
        "invitation|sent": Count("pk"),
        "invitation|answered": Count("pk", filter=Q(response__isnull=False)),
    }
    _count(result, INVITATIONS, Invitation.objects.all(), scope, group_by, invitation_counts)
    _grouped_by_value(result, SUPPRESSED, SuppressedInvitation.objects.all(), scope, group_by, "suppressed", "reason")
    links = Post.services.through.objects.filter(post__sentiment_label__isnull=False)
    _grouped_by_value(result, POSTS, links, scope, group_by, "post_sentiment", "post__sentiment_label")
    return {key: tally for key, tally in result.items() if +tally.counts}

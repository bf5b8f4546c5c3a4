"""The charts of the service and organisation pages, drawn from the pages' tables (experience.queries).

Every point links to the rows behind it (`Links.rows`): for staff looking at one service, the
feedback stream of that service (feedback:service_stream) narrowed by the same days, organisation,
offering, channel (and driver or sentiment); otherwise — a customer, or the organisation page's
figures across services — the comments list of the page (or of the service's page) narrowed the same
way. A customer's links carry their own organisation only (the pages refuse any other).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from django.urls import reverse

from serviceloop.accounts.models import Organisation
from serviceloop.catalogue.models import Service
from serviceloop.experience.benchmarks import benchmarks_for
from serviceloop.experience.charts import Chart, Point, Reference, Series, bar_chart, line_chart
from serviceloop.experience.forms import PageFilters
from serviceloop.experience.metrics import METRICS, Figure
from serviceloop.experience.queries import Row, Table, period_end
from serviceloop.feedback.models import Channel

Y_RANGES = {"points": (-100.0, 100.0), "%": (0.0, 100.0)}
STREAM_CHANNELS = set(Channel.values)  # the feedback stream filters by the channels of responses only


@dataclass(frozen=True)
class Links:
    """Where the rows behind a chart are: built from the page's URL, filters, its service and the viewer."""

    page_url: str
    filters: PageFilters
    service: Service | None = None  # the page's service (the service page)
    organisation: Organisation | None = None  # the page's organisation (the organisation page)
    staff: bool = False

    def rows(self, *, service: Service | None = None, **changes: str | date | None) -> str:
        service = service or self.service
        values = {
            "since": self.filters.since,
            "until": self.filters.until,
            "organisation": organisation.public_id
            if (organisation := self.organisation or self.filters.organisation)
            else "",
            "offering": self.filters.offering.public_id if self.filters.offering else "",
            "channel": self.filters.channel,
        }
        values.update(changes)
        if service is not None and self.staff:
            if values.get("channel") not in STREAM_CHANNELS:
                values.pop("channel", None)
            url = reverse("feedback:service_stream", args=[service.public_id])
            return f"{url}?{_encode(values)}#responses"
        own = {"from": values.pop("since"), "to": values.pop("until"), **values}
        own.pop("driver", None)  # the pages' comments list has no driver filter
        own["grouping"] = self.filters.grouping
        if self.filters.ticket_type:
            own["ticket_type"] = self.filters.ticket_type
        url = self.page_url
        if service is not None and service != self.service:
            url = reverse("experience:service", args=[service.public_id])
        return f"{url}?{_encode(own)}#comments"


def _encode(values: dict[str, str | date | None]) -> str:
    return urlencode(
        {
            key: value.isoformat() if isinstance(value, date) else str(value)
            for key, value in values.items()
            if value not in (None, "")
        }
    )


def point_of(label: str, shown: Figure, href: str = "") -> Point:
    low, high = shown.interval if shown.interval is not None else (None, None)
    return Point(label=label, value=shown.value, low=low, high=high, n=shown.n, href=href)


def references_for(metric: str, ticket_type: str) -> list[Reference]:
    types = (ticket_type,) if ticket_type else None
    return [Reference(row.value, row.label, row.source) for row in benchmarks_for(metric, types)]


def trend_charts(table: Table, links: Links, filters: PageFilters) -> list[Chart]:
    """One line chart per metric of the trend table, each point linked to that period's rows."""
    charts = []
    grouping = filters.grouping
    for metric in table.metrics:
        points = []
        for row, shown in table.column(metric):
            start = date.fromisoformat(str(row.key[grouping]))
            since, until = max(start, filters.since), min(period_end(start, grouping), filters.until)
            points.append(point_of(row.labels[0], shown, links.rows(since=since, until=until)))
        charts.append(_line(metric, [Series(METRICS[metric].label, points)], filters))
    return charts


def _line(metric: str, series: Sequence[Series], filters: PageFilters, title: str = "") -> Chart:
    unit = METRICS[metric].unit
    return line_chart(
        series,
        title=title or f"{METRICS[metric].label} by {filters.grouping}",
        unit=unit,
        y_range=Y_RANGES.get(unit),
        references=references_for(metric, filters.ticket_type),
    )


def bars(table: Table, metric: str, title: str, href: Callable[[Row], str]) -> Chart:
    """A bar per row of the table: the metric's figure, with its interval and n."""
    unit = METRICS[metric].unit
    points = [point_of(row.labels[0], shown, href(row)) for row, shown in table.column(metric)]
    return bar_chart(points, title=title, unit=unit, y_range=Y_RANGES.get(unit))


def driver_chart(table: Table, links: Links) -> Chart:
    def href(row: Row) -> str:
        return links.rows(driver=str(row.key["metric"]).removeprefix("driver_"))

    points = [
        point_of(str(METRICS[str(row.key["metric"])].label).removeprefix("Driver named: "), row.figures[0], href(row))
        for row in table.rows
    ]
    return bar_chart(points, title="Drivers named (% of responses)", unit="%", y_range=(0.0, 100.0))


def breakdown_chart(table: Table, links: Links, services: dict[str, Service] | None = None) -> Chart:
    """Happiness per organisation, offering, service or channel, each bar linked to its rows."""
    dimension = table.name

    def href(row: Row) -> str:
        value = row.key.get(dimension) or ""
        if dimension == "service":
            return links.rows(service=(services or {}).get(value))
        return links.rows(**{dimension: value})  # type: ignore[arg-type]  # organisation, offering or channel

    return bars(table, "happiness", f"Happiness {table.title.lower()}", href)


def ticket_chart(table: Table, links: Links) -> Chart:
    # The feedback stream has no ticket filters: the bars link to the period's responses.
    return bars(table, "happiness", table.title, lambda row: links.rows())


def service_lines(
    grouped: dict[str, list[tuple[date, Figure]]],
    names: dict[str, str],
    services: dict[str, Service],
    links: Links,
    filters: PageFilters,
    labels: list[tuple[date, str]],
) -> Chart:
    """The organisation page: happiness by period, a line per service."""
    series = []
    for public_id, by_period in grouped.items():
        found = dict(by_period)
        points = []
        for start, label in labels:
            empty = Figure("happiness", METRICS["happiness"].label, None, 0, None, "points", False)
            shown = found.get(start, empty)
            since, until = max(start, filters.since), min(period_end(start, filters.grouping), filters.until)
            href = links.rows(service=services.get(public_id), since=since, until=until)
            points.append(point_of(label, shown, href))
        series.append(Series(names.get(public_id, public_id), points))
    return _line("happiness", series, filters, title=f"Happiness by {filters.grouping}, per service")

"""The experience pages: a service's experience, and one consumer organisation's across its services.

Thin: the filters parse in experience.forms, the data comes from experience.queries (figures from
api.compute), the charts from experience.page_charts. Every table answers `?export=<table>` as CSV
with the page's own filters and tenancy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Service
from serviceloop.core.errors import DomainError
from serviceloop.core.pagination import paginate
from serviceloop.core.visibility import is_staff_viewer
from serviceloop.experience import page_charts, queries, trust_panels
from serviceloop.experience.api import compute
from serviceloop.experience.benchmarks import BENCHMARKS
from serviceloop.experience.exports import comments_csv, table_csv
from serviceloop.experience.forms import ExperienceFilterForm, PageFilters
from serviceloop.experience.metrics import METRICS, Figure, min_sample
from serviceloop.experience.queries import Row, Table
from serviceloop.experience.tally import Scope
from serviceloop.experience.trust_sharing import trust_sharing_set
from serviceloop.feedback.models import SentimentLabel


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # nosec B101  # login_required ran first
    return user


@dataclass
class Context:
    """What both pages share: the viewer, the parsed filters, the scope and the chart links."""

    viewer: User
    form: ExperienceFilterForm
    filters: PageFilters
    scope: Scope
    links: page_charts.Links
    status: int

    @property
    def staff(self) -> bool:
        return is_staff_viewer(self.viewer)

    @property
    def query(self) -> str:
        return urlencode(self.filters.query())


def _context(
    request: HttpRequest, *, service: Service | None = None, organisation: Organisation | None = None
) -> Context:
    viewer = _user(request)
    queries.check_organisation_parameter(viewer=viewer, value=request.GET.get("organisation", ""))
    form = ExperienceFilterForm(
        request.GET or None,
        offerings=queries.offerings_for_filter(viewer=viewer, service=service),
        organisations=queries.organisations_for_filter(viewer=viewer) if organisation is None else None,
    )
    status = 400 if request.GET and not form.is_valid() else 200
    filters = form.filters()
    scope = queries.page_scope(viewer=viewer, filters=filters, service=service, organisation=organisation)
    links = page_charts.Links(
        request.path, filters, service=service, organisation=organisation, staff=is_staff_viewer(viewer)
    )
    return Context(viewer, form, filters, scope, links, status)


def _export(
    request: HttpRequest,
    ctx: Context,
    tables: dict[str, Callable[[], Table]],
    comments: Callable[[], HttpResponseBase],
    prefix: str,
) -> HttpResponseBase | None:
    name = request.GET.get("export")
    if name is None:
        return None
    if ctx.status == 400:
        # A CSV of other filters than those asked for would mislead: name what did not parse.
        problems = "; ".join(
            f"{field}: {' '.join(str(error) for error in errors)}" for field, errors in ctx.form.errors.items()
        )
        return HttpResponse(problems, status=400, content_type="text/plain; charset=utf-8")
    if name == "comments":
        return comments()
    if name not in tables:
        return HttpResponse(
            f"export: no table {name!r}; one of {', '.join([*tables, 'comments'])}.",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    return table_csv(tables[name](), prefix)


def _common_tables(ctx: Context) -> dict[str, Callable[[], Table]]:
    """headline, drivers, sentiment (one compute), trend: read only when shown or exported."""
    cache: dict[str, dict[str, Figure]] = {}

    def summary() -> dict[str, Figure]:
        if "summary" not in cache:
            cache["summary"] = queries.figures_by_name(
                ctx.scope, [*queries.HEADLINE, *queries.DRIVERS, *queries.SENTIMENTS]
            )
        return cache["summary"]

    return {
        "headline": lambda: queries.figures_table("headline", "Headline figures", summary(), queries.HEADLINE),
        "drivers": lambda: queries.figures_table("drivers", "Drivers named", summary(), queries.DRIVERS),
        "sentiment": lambda: queries.figures_table("sentiment", "Sentiment of comments", summary(), queries.SENTIMENTS),
        "trend": lambda: queries.trend_table(ctx.scope, ctx.filters),
    }


def _ticket_tables(ctx: Context) -> dict[str, Callable[[], Table]]:
    cache: list[list[queries.TicketBreakdown]] = []

    def beside() -> list[queries.TicketBreakdown]:
        if not cache:
            cache.append(queries.tickets_beside(ctx.scope))
        return cache[0]

    return {
        "priority": lambda: beside()[0].table(),
        "reassignments": lambda: beside()[1].table(),
        "fcr": lambda: beside()[2].table(),
    }


def _comments_page(request: HttpRequest, ctx: Context) -> Any:
    return paginate(request, queries.comments(ctx.scope, sentiment=ctx.filters.sentiment))


def _comments_export(ctx: Context, prefix: str) -> Callable[[], HttpResponseBase]:
    def export() -> HttpResponseBase:
        rows = queries.comments_for_export(ctx.scope, sentiment=ctx.filters.sentiment)
        return comments_csv(rows, prefix, with_organisation=ctx.staff)

    return export


def _sections(
    ctx: Context,
    tables: dict[str, Callable[[], Table]],
    breakdowns: list[str],
    services: dict[str, Service] | None = None,
) -> dict[str, Any]:
    headline = tables["headline"]()
    trend = tables["trend"]()
    drivers = tables["drivers"]()
    shown_breakdowns = []
    for name in breakdowns:
        table = tables[name]()
        shown_breakdowns.append(
            (table, page_charts.breakdown_chart(table, ctx.links, services) if table.rows else None)
        )
    tickets = []
    for name in ("priority", "reassignments", "fcr"):
        table = tables[name]()
        tickets.append((table, page_charts.ticket_chart(table, ctx.links) if table.rows else None))
    figures = {row.key["metric"]: row.figures[0] for row in headline.rows}
    charts = page_charts.trend_charts(trend, ctx.links, ctx.filters)
    return {
        "form": ctx.form,
        "filters": ctx.filters,
        "query": ctx.query,
        "headline": headline,
        "figures": figures,
        # A driver share's n is every response in scope: none means no response in the period.
        "has_responses": any(row.figures[0].n for row in drivers.rows),
        "trend": trend,
        "trend_charts": list(zip(trend.metrics, charts, strict=True)),
        "drivers": drivers,
        "driver_chart": page_charts.driver_chart(drivers, ctx.links),
        "sentiment": tables["sentiment"](),
        "breakdowns": shown_breakdowns,
        "tickets": tickets,
        "benchmarks": BENCHMARKS,
        "min_sample": min_sample(),
        "is_staff": ctx.staff,
        "rows_url": ctx.links.rows(),
        "sentiment_choices": SentimentLabel.choices,
    }


@login_required
def service_page(request: HttpRequest, public_id: str) -> HttpResponseBase:
    """A service's experience: headline, trends, drivers, lost time, comments, breakdowns, tickets beside."""
    service = queries.service_for_page(viewer=_user(request), public_id=public_id)
    ctx = _context(request, service=service)
    tables = _common_tables(ctx)
    tables.update(
        {name: partial(queries.breakdown_table, ctx.scope, name) for name in ("organisation", "offering", "channel")}
    )
    tables.update(_ticket_tables(ctx))
    prefix = f"experience-{service.slug}"
    exported = _export(request, ctx, tables, _comments_export(ctx, prefix), prefix)
    if exported is not None:
        return exported
    context = _sections(ctx, tables, ["organisation", "offering", "channel"] if ctx.staff else ["offering", "channel"])
    context.update(
        {
            "service": service,
            "page_obj": _comments_page(request, ctx),
            "trust": trust_panels.service_panel(viewer=ctx.viewer, service=service),
        }
    )
    return render(request, "experience/service.html", context, status=ctx.status)


@login_required
def organisation_page(request: HttpRequest, public_id: str) -> HttpResponseBase:
    """One consumer organisation's experience across the services it consumes; staff POST here the
    choice whether the organisation sees its own trust in the portal."""
    organisation = queries.organisation_for_page(viewer=_user(request), public_id=public_id)
    if request.method == "POST":
        return _trust_sharing_post(request, organisation)
    ctx = _context(request, organisation=organisation)
    consumed = {service.public_id: service for service in queries.consumed_services(organisation)}
    tables = _common_tables(ctx)
    tables["service"] = lambda: _service_rows(ctx, organisation, consumed)
    tables.update({name: partial(queries.breakdown_table, ctx.scope, name) for name in ("offering", "channel")})
    tables.update(_ticket_tables(ctx))
    trends: list[ServiceTrend] = []

    def service_trend() -> ServiceTrend:
        if not trends:
            trends.append(_service_trend(ctx))
        return trends[0]

    tables["service_trend"] = lambda: service_trend().table
    prefix = f"experience-{organisation.slug}"
    exported = _export(request, ctx, tables, _comments_export(ctx, prefix), prefix)
    if exported is not None:
        return exported
    services_table = tables["service"]()
    lines = service_trend()
    services = {**consumed, **lines.services}
    context = _sections(ctx, tables, ["offering", "channel"], services)
    context.update(
        {
            "organisation": organisation,
            "services_table": services_table,
            "services_chart": page_charts.breakdown_chart(services_table, ctx.links, services)
            if services_table.rows
            else None,
            "service_lines": lines.chart(ctx) if lines.grouped else None,
            "service_trend": lines.table,
            "page_obj": _comments_page(request, ctx),
            "trust": trust_panels.organisation_panel(
                viewer=ctx.viewer, organisation=organisation, services=consumed.values()
            ),
        }
    )
    return render(request, "experience/organisation.html", context, status=ctx.status)


def _trust_sharing_post(request: HttpRequest, organisation: Organisation) -> HttpResponseBase:
    """The staff toggle "show this organisation its own trust in the portal" (trust_sharing_set)."""
    viewer = _user(request)
    if not is_staff_viewer(viewer):
        raise PermissionDenied("Only the provider's staff choose whether an organisation sees its trust.")
    value = request.POST.get("shown_in_portal", "")
    if value not in ("on", "off"):
        return HttpResponse("shown_in_portal: must be on or off.", status=400, content_type="text/plain; charset=utf-8")
    try:
        trust_sharing_set(organisation=organisation, shown=value == "on", by=viewer)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if value == "on":
            messages.success(request, f"{organisation.name} now sees its own trust in the portal.")
        else:
            messages.success(request, f"{organisation.name} no longer sees its trust in the portal.")
    return redirect(reverse("experience:organisation", args=[organisation.public_id]) + "#trust")


ROW_METRICS = ("happiness", "csat", "lost_time_mean", "lost_time_total", "response_rate", "fcr", "sla_resolution")
MAX_SERVICE_LINES = 6  # more lines than this no one tells apart: the most answered services


def _service_rows(ctx: Context, organisation: Organisation, consumed: dict[str, Service]) -> Table:
    """A row per service the organisation consumes or answered about, each linking to its service page."""
    table = queries.breakdown_table(ctx.scope, "service", ROW_METRICS)
    seen = {row.key["service"] for row in table.rows}
    empty = [Figure(name, METRICS[name].label, None, 0, None, METRICS[name].unit, False) for name in ROW_METRICS]
    for public_id, service in sorted(consumed.items(), key=lambda item: item[1].name):
        if public_id not in seen:
            table.rows.append(Row({"service": public_id}, [service.name], list(empty)))
    # The service's page, seen from this organisation, over the same period and filters.
    query = urlencode({**ctx.filters.query(), "organisation": organisation.public_id})
    for row in table.rows:
        row.href = reverse("experience:service", args=[row.key["service"]]) + f"?{query}"
    return table


@dataclass
class ServiceTrend:
    grouped: dict[str, list[tuple[date, Figure]]]
    names: dict[str, str]
    services: dict[str, Service]
    table: Table
    labels: list[tuple[date, str]]

    def chart(self, ctx: Context) -> Any:
        return page_charts.service_lines(self.grouped, self.names, self.services, ctx.links, ctx.filters, self.labels)


def _service_trend(ctx: Context) -> ServiceTrend:
    """Happiness by period and service (one compute), the most answered services as lines."""
    grouping = ctx.filters.grouping
    groups = compute(ctx.scope, ["service", grouping], ["happiness"])
    totals: dict[str, int] = {}
    grouped: dict[str, list[tuple[date, Figure]]] = {}
    for key, (figure,) in groups:
        public_id = str(key["service"])
        totals[public_id] = totals.get(public_id, 0) + figure.n
        grouped.setdefault(public_id, []).append((date.fromisoformat(str(key[grouping])), figure))
    top = sorted(totals, key=lambda public_id: -totals[public_id])[:MAX_SERVICE_LINES]
    services = {service.public_id: service for service in Service.objects.filter(public_id__in=top)}
    names = {public_id: service.name for public_id, service in services.items()}
    labels = [
        (start, queries.period_label(start, grouping))
        for start in queries.periods(ctx.filters.since, ctx.filters.until, grouping)
    ]
    rows = [
        Row(
            {"service": public_id, grouping: start.isoformat()},
            [names.get(public_id, public_id), queries.period_label(start, grouping)],
            [figure],
        )
        for public_id in top
        for start, figure in grouped[public_id]
    ]
    table = Table(
        "service_trend",
        f"Happiness by service and {grouping}",
        ["Service", grouping.capitalize()],
        ["happiness"],
        rows,
        key_name="service",
    )
    return ServiceTrend({public_id: grouped[public_id] for public_id in top}, names, services, table, labels)


@login_required
def my_organisation(request: HttpRequest) -> HttpResponse:
    """The customers' "Experience" item: their own organisation's page."""
    user = _user(request)
    if is_staff_viewer(user) or user.organisation_id is None:
        raise PermissionDenied(
            "Customers open their organisation's experience here; staff open it from the organisation's page."
        )
    public_id = Organisation.objects.filter(pk=user.organisation_id).values_list("public_id", flat=True).get()
    return redirect("experience:organisation", public_id=public_id)

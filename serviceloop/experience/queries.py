"""The data of the service page and the organisation page: figures, trends, breakdowns, comments.

Every figure comes from `experience.api.compute(scope, group_by, names)`, the same function the
metrics API answers with, so a page shows what the API says for the same scope. Three reads are not
summaries and read raw rows, each with the index it uses:

- **tickets beside experience** (happiness by ticket priority, by reassignments 0/1/2/3+, by
  first-contact resolution yes/no) joins responses to their tickets: one grouped query per
  breakdown (`GROUP BY` the ticket's column, a conditional count per happiness value), over the
  service's responses of the period — `feedback_resp_service_idx` (service, -responded_at); on the
  organisation page `feedback_resp_org_idx` (organisation, -responded_at) — and the ticket by its
  primary key. The counts become a `Tally`, so the figure is `metrics.figure("happiness", …)`, the
  one definition of happiness.
- **comments**: the responses with a comment, newest first, paged, by the same two indexes.
- the names of the groups' services, offerings and organisations (one query per dimension).

Tenancy: a customer user's scope is always their own organisation (`page_scope`); naming another
organisation answers 404, and a service their organisation does not consume is a 404 too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Least
from django.http import Http404

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.queries import organisations_visible
from serviceloop.catalogue.models import Offering, Service
from serviceloop.catalogue.queries import RELATIONSHIP_OPEN, offerings_visible
from serviceloop.core.visibility import is_staff_viewer
from serviceloop.desk.models import Ticket
from serviceloop.experience.api import compute
from serviceloop.experience.forms import PageFilters
from serviceloop.experience.metrics import METRICS, Figure, figure
from serviceloop.experience.sources import RESPONSES
from serviceloop.experience.tally import Scope, Tally
from serviceloop.feedback.models import Driver, Response

# The headline: each with its n and interval, or "not enough data".
HEADLINE = (
    "happiness",
    "csat",
    "nps",
    "ces",
    "lost_time_mean",
    "lost_time_total",
    "response_rate",
    "suppressed",
    "fcr",
    "mttr_mean",
    "mttr_median",
    "sla_first_response",
    "sla_resolution",
    "sla_paused",
)
DRIVERS = tuple(f"driver_{code}" for code in Driver.values)
SENTIMENTS = ("sentiment_positive", "sentiment_neutral", "sentiment_negative")
TRENDS = ("happiness", "csat", "nps", "ces", "lost_time_mean", "lost_time_total", "response_rate")
BREAKDOWN = ("happiness", "csat", "ces", "lost_time_mean", "lost_time_total", "sentiment_negative")
FCR_WINDOW = timedelta(days=7)  # as the desk metric: no new contact within 7 days of the resolution
REASSIGNMENT_CAP = 3  # 0, 1, 2, 3+

Key = dict[str, str | None]


# ---------------------------------------------------------------- who may see what


def service_for_page(*, viewer: User, public_id: str) -> Service:
    """Staff: any service. A customer: a service one of their organisation's open relationships consumes."""
    service = Service.objects.select_related("service_manager").filter(public_id=public_id).first()
    if service is None:
        raise Http404("No such service.")
    if not is_staff_viewer(viewer) and not offerings_visible(viewer=viewer).filter(service=service).exists():
        raise Http404("No such service.")
    return service


def organisation_for_page(*, viewer: User, public_id: str) -> Organisation:
    """Staff: any organisation; a customer: their own only (another one is a 404)."""
    found = organisations_visible(viewer=viewer).filter(public_id=public_id).first()
    if found is None:
        raise Http404("No such organisation.")
    return found


def offerings_for_filter(*, viewer: User, service: Service | None = None) -> QuerySet[Offering]:
    rows = offerings_visible(viewer=viewer)
    return rows.filter(service=service) if service is not None else rows


def organisations_for_filter(*, viewer: User) -> QuerySet[Organisation] | None:
    """Staff choose among every organisation; a customer has no choice (None): always their own."""
    return Organisation.objects.all() if is_staff_viewer(viewer) else None


def check_organisation_parameter(*, viewer: User, value: str) -> None:
    """A customer naming any organisation but their own gets a 404, as a row they may not see."""
    if not value or is_staff_viewer(viewer):
        return
    own = Organisation.objects.filter(pk=viewer.organisation_id or 0).values_list("public_id", flat=True).first()
    if value != own:
        raise Http404("No such organisation.")


def page_scope(
    *, viewer: User, filters: PageFilters, service: Service | None = None, organisation: Organisation | None = None
) -> Scope:
    """The scope of a page: its service or organisation, the filters, and the viewer's tenancy."""
    if is_staff_viewer(viewer):
        chosen = organisation or filters.organisation
        organisation_ids = (chosen.pk,) if chosen is not None else None
    else:
        if viewer.organisation_id is None:
            raise Http404("No such page.")
        asked = organisation or filters.organisation
        if asked is not None and asked.pk != viewer.organisation_id:
            raise Http404("No such organisation.")
        organisation_ids = (viewer.organisation_id,)
    ticket_type = {"": None, "none": ("",)}.get(filters.ticket_type, (filters.ticket_type,))
    return Scope(
        service_ids=(service.pk,) if service is not None else None,
        offering_ids=(filters.offering.pk,) if filters.offering is not None else None,
        organisation_ids=organisation_ids,
        channels=(filters.channel,) if filters.channel else None,
        ticket_types=ticket_type,
        since=filters.since,
        until=filters.until,
    )


# ---------------------------------------------------------------- figures


def figures_by_name(scope: Scope, names: Sequence[str]) -> dict[str, Figure]:
    """One group: every figure asked for, by metric name (compute() without grouping)."""
    ((_key, shown),) = compute(scope, [], list(names))
    return {item.metric: item for item in shown}


@dataclass
class Row:
    """One row of a table: its labels (one per dimension), figures (in the table's metric order), a link."""

    key: Key
    labels: list[str]
    figures: list[Figure]
    href: str = ""
    links: list[str] = field(default_factory=list)  # per label: a page about it ("" for none)


@dataclass
class Table:
    """A table of figures the page shows, exportable as CSV (`?export=<name>`)."""

    name: str
    title: str
    dimensions: list[str]  # column headers of the labels
    metrics: list[str]  # the figure columns; "_figure" in a table of one group's figures, a row per metric
    rows: list[Row]
    key_name: str = ""  # the key column of the CSV (public id / ISO day), "" for none

    @property
    def headers(self) -> list[str]:
        return [METRICS[name].label if name in METRICS else "Figure" for name in self.metrics]

    def column(self, metric: str) -> list[tuple[Row, Figure]]:
        position = self.metrics.index(metric)
        return [(row, row.figures[position]) for row in self.rows]


def periods(since: date, until: date, grouping: str) -> list[date]:
    """Every week (its Monday) or month (its first day) the period touches, in order."""
    if grouping == "month":
        current = since.replace(day=1)
        result = []
        while current <= until:
            result.append(current)
            current = (current + timedelta(days=32)).replace(day=1)
        return result
    current = since - timedelta(days=since.weekday())
    result = []
    while current <= until:
        result.append(current)
        current += timedelta(days=7)
    return result


def period_end(start: date, grouping: str) -> date:
    if grouping == "month":
        return (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return start + timedelta(days=6)


def period_label(start: date, grouping: str) -> str:
    return f"{start:%b %Y}" if grouping == "month" else f"{start:%d %b}"


def trend_table(scope: Scope, filters: PageFilters, names: Sequence[str] = TRENDS) -> Table:
    """Every period of the page (a gap where nothing was counted), by the grouping asked for."""
    grouping = filters.grouping
    found = {key[grouping]: shown for key, shown in compute(scope, [grouping], list(names))}
    rows = []
    empty = _empty_figures(names)
    for start in periods(filters.since, filters.until, grouping):
        shown = found.get(start.isoformat(), empty)
        rows.append(Row({grouping: start.isoformat()}, [period_label(start, grouping)], list(shown)))
    return Table("trend", f"By {grouping}", [grouping.capitalize()], list(names), rows, key_name=grouping)


def _empty_figures(names: Sequence[str]) -> list[Figure]:
    return [Figure(name, METRICS[name].label, None, 0, None, METRICS[name].unit, False) for name in names]


DIMENSION_MODELS: dict[str, Any] = {"service": Service, "offering": Offering, "organisation": Organisation}
DIMENSION_TITLES = {"service": "Service", "offering": "Offering", "organisation": "Organisation", "channel": "Channel"}
NONE_LABELS = {"offering": "No offering", "organisation": "No organisation", "service": "—", "channel": "—"}


def breakdown_table(scope: Scope, dimension: str, names: Sequence[str] = BREAKDOWN) -> Table:
    """One row per organisation, offering, service or channel with something counted, named."""
    groups = compute(scope, [dimension], list(names))
    model = DIMENSION_MODELS.get(dimension)
    names_of: dict[str, str] = {}
    if model is not None:
        ids = {key[dimension] for key, _shown in groups if key[dimension]}
        names_of = dict(model.objects.filter(public_id__in=ids).values_list("public_id", "name"))
    rows = []
    for key, shown in groups:
        value = key[dimension]
        label = NONE_LABELS[dimension] if value is None else names_of.get(value, value)
        rows.append(Row(key, [label], list(shown)))
    rows.sort(key=lambda row: -row.figures[0].n)  # the most answered first
    title = f"By {DIMENSION_TITLES[dimension].lower()}"
    return Table(dimension, title, [DIMENSION_TITLES[dimension]], list(names), rows, key_name=dimension)


def figures_table(name: str, title: str, shown: dict[str, Figure], names: Sequence[str]) -> Table:
    """A table of one group's figures, one row per metric (the headline, the drivers)."""
    rows = [Row({"metric": metric}, [METRICS[metric].label], [shown[metric]]) for metric in names]
    return Table(name, title, ["Metric"], ["_figure"], rows)


# ---------------------------------------------------------------- tickets beside experience (raw rows)


def _responses(scope: Scope) -> QuerySet[Response]:
    rows = RESPONSES.filtered(Response.objects.all(), scope)
    return rows if rows is not None else Response.objects.none()


def _new_contact() -> Exists:
    """A later ticket from the response's ticket's requester on its service within 7 days of its resolution."""
    later = Ticket.objects.annotate(
        window_end=ExpressionWrapper(OuterRef("ticket__resolved_at") + FCR_WINDOW, output_field=DateTimeField())
    )
    return Exists(
        later.filter(
            requester_id=OuterRef("ticket__requester_id"),
            service_id=OuterRef("ticket__service_id"),
            opened_at__gt=OuterRef("ticket__resolved_at"),
            opened_at__lte=F("window_end"),
        )
    )


def _happiness_by(rows: QuerySet[Response], group: Any) -> dict[object, Figure]:
    """One query: GROUP BY `group`, a conditional count per happiness answer 0–10 → a figure per group."""
    counts = {f"h{score}": Count("pk", filter=Q(happiness=score)) for score in range(11)}
    result = {}
    for row in rows.filter(happiness__isnull=False).values(g=group).order_by().annotate(**counts):
        tally = Tally.of_pairs(("happiness", str(score), row[f"h{score}"]) for score in range(11))
        result[row["g"]] = figure("happiness", tally)
    return result


@dataclass
class TicketBreakdown:
    name: str
    title: str
    rows: list[tuple[str, str, Figure]]  # (value, label, figure)

    def table(self) -> Table:
        rows = [Row({self.name: value}, [label], [shown]) for value, label, shown in self.rows]
        header = self.title.removeprefix("Happiness by ").capitalize()
        return Table(self.name, self.title, [header], ["happiness"], rows, key_name=self.name)


def tickets_beside(scope: Scope) -> list[TicketBreakdown]:
    """Happiness by the priority, reassignments and first-contact resolution of the responses' tickets."""
    rows = _responses(scope).filter(ticket__isnull=False)
    by_priority = _happiness_by(rows, F("ticket__priority"))
    priority = [
        (str(value), str(label), by_priority[value]) for value, label in Ticket.Priority.choices if value in by_priority
    ]
    by_hops = _happiness_by(rows, Least(F("ticket__reassignment_count"), Value(REASSIGNMENT_CAP)))
    hops = [
        (str(count), f"{count}+" if count == REASSIGNMENT_CAP else str(count), by_hops[count])
        for count in range(REASSIGNMENT_CAP + 1)
        if count in by_hops
    ]
    # FCR as the desk metric counts it: marked at the first contact, never reopened, no new contact in 7 days.
    resolved = rows.filter(ticket__first_contact_resolution__isnull=False)
    fcr_q = Q(ticket__first_contact_resolution=True, ticket__reopen_count=0) & ~_new_contact()
    by_fcr = _happiness_by(resolved, Case(When(fcr_q, then=Value("yes")), default=Value("no")))
    fcr = [(value, label, by_fcr[value]) for value, label in (("yes", "Yes"), ("no", "No")) if value in by_fcr]
    return [
        TicketBreakdown("priority", "Happiness by ticket priority", priority),
        TicketBreakdown("reassignments", "Happiness by reassignments", hops),
        TicketBreakdown("fcr", "Happiness by first-contact resolution", fcr),
    ]


# ---------------------------------------------------------------- comments (raw rows, paged)


def comments(scope: Scope, *, sentiment: str = "") -> QuerySet[Response]:
    """The responses with a comment, newest first (by the service's or the organisation's index)."""
    rows = _responses(scope).exclude(comment="").select_related("organisation", "offering", "ticket", "service")
    if sentiment:
        rows = rows.filter(sentiment_label=sentiment)
    return rows.order_by("-responded_at", "-pk")


def comments_for_export(scope: Scope, *, sentiment: str = "", limit: int = 50_000) -> Iterator[Response]:
    return comments(scope, sentiment=sentiment)[:limit].iterator(chunk_size=2000)


# ---------------------------------------------------------------- the organisation page


def consumed_services(organisation: Organisation) -> QuerySet[Service]:
    """The services an organisation consumes through a relationship that has not ended."""
    offering_ids = Offering.objects.filter(
        relationships__organisation=organisation, relationships__status__in=RELATIONSHIP_OPEN
    ).values("service_id")
    return Service.objects.filter(pk__in=offering_ids)

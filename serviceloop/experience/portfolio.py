"""The portfolio (staff's home page): every live service's figures, the services that fell the most, hotspots.

Every figure comes from `experience.api.compute` — a fixed handful of calls for the whole page, never
one per service:

1. the period, grouped by service: the primary score, lost time (mean and total), responses;
2. the last 12 ISO weeks of the services on the page shown, grouped by service and week: the primary
   score (the sparklines; `trends_fill`, so a page of 50 services stays far under compute()'s limit
   of groups however many services there are);
3. the period, ungrouped: the portfolio's baseline (primary score and lost time per answer);
4. and 5. the last 30 days and the 30 before, grouped by service: "fell the most";
6. and 7. the period, grouped by service × organisation and service × offering: the hotspots
   (and service × driver once compute() can group by driver: see `DRIVER_DIMENSION`).

The primary score is `SERVICELOOP_PRIMARY_METRIC` (default `happiness`, any metric of metrics.py).
"Responses" is every response of the service in the period (the n of a driver share, whose
denominator is every response).

Impact of a hotspot (DOMAIN §2) = its answers × (its score − the baseline), the baseline being the
portfolio's score over the same period and the same services; ranked worst first (most negative for
a score where higher is better). By lost time: answers × (its lost time per answer − the baseline's),
the minutes lost beyond what the portfolio loses per answer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.catalogue.queries import services_visible
from serviceloop.core import clock
from serviceloop.core.errors import InvalidInput
from serviceloop.experience.api import compute
from serviceloop.experience.drops import drop_statistic
from serviceloop.experience.metrics import HIGHER, LOWER, METRICS, NPS_INTERVAL, WILSON, Figure, Metric
from serviceloop.experience.stats import discoveries
from serviceloop.experience.tally import GROUP_DIMENSIONS, Scope
from serviceloop.feedback.models import Driver

PERIODS = (30, 90, 365)
DEFAULT_PERIOD = 90
TREND_WEEKS = 12
FALL_DAYS = 30
TOP_FALLS = 5
TOP_HOTSPOTS = 10
FDR_Q = 0.05  # the false-discovery rate across the services compared in "fell the most"
# A driver share's n is every response of the group: the response volume, through compute().
RESPONSES_FROM = "driver_communication"
LOST_MEAN, LOST_TOTAL = "lost_time_mean", "lost_time_total"
# Hotspots by driver need compute() to group by driver (driver × score counts): shown once it does.
DRIVER_DIMENSION = "driver"
# Lost time per driver (a total of the answers naming the driver), where metrics.py defines it: the
# service × driver hotspots by lost time come from these, one compute() call for every driver.
DRIVER_LOST = "lost_time_driver_{code}"
NO_XLA = "—"


def primary_metric() -> Metric:
    name = settings.SERVICELOOP_PRIMARY_METRIC
    if name not in METRICS:
        raise ImproperlyConfigured(
            f"SERVICELOOP_PRIMARY_METRIC: {name!r} is not a metric; use one of {', '.join(METRICS)}."
        )
    return METRICS[name]


def service_page_url(public_id: str) -> str:
    """The service's experience page."""
    return reverse("experience:service", kwargs={"public_id": public_id})


def today() -> date:
    return timezone.localdate(clock.now())


@dataclass(frozen=True)
class Period:
    since: date
    until: date

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    def before(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.since - timedelta(days=self.days), self.since - timedelta(days=1))


def period_ending(last: date, days: int) -> Period:
    return Period(last - timedelta(days=days - 1), last)


def worse_by(metric: Metric, change: float) -> float:
    """How much worse a change is (positive: worse), by the metric's direction."""
    return change if metric.direction == LOWER else -change


@dataclass
class ServiceRow:
    service_id: int
    public_id: str
    name: str
    url: str
    score: Figure
    lost_mean: Figure
    lost_total: Figure
    responses: int
    xla_state: str
    trend: list[tuple[date, Figure | None]] = field(default_factory=list)  # trends_fill


@dataclass
class Fall:
    name: str
    url: str
    before: Figure
    after: Figure
    change: float  # after − before, in the metric's unit
    z: float | None  # of the drop (positive: worse), as the alerts test it; None: no test for this metric
    p: float | None  # one-sided p of the drop
    significant: bool | None  # None: not tested


@dataclass
class Hotspot:
    kind: str  # organisation, offering, driver
    service: str
    url: str
    name: str  # the organisation's, offering's or driver's name
    responses: int  # the figure's n
    value: float
    gap: float  # value − baseline, in the unit
    impact: float  # responses × gap


@dataclass
class Portfolio:
    metric: Metric
    period: Period
    rows: list[ServiceRow]
    baseline: Figure
    baseline_lost: Figure
    fall_period: Period
    falls: list[Fall]
    tested: int  # services compared in both periods (the family BH controls)
    hotspots: list[Hotspot]
    lost_hotspots: list[Hotspot]
    hotspot_kinds: tuple[str, ...]
    notes: list[str] = field(default_factory=list)


def _names(primary: Metric) -> list[str]:
    return list(dict.fromkeys([primary.name, LOST_MEAN, LOST_TOTAL, RESPONSES_FROM]))


def _by_service(groups: Sequence[tuple[Mapping[str, str | None], list[Figure]]]) -> dict[str, dict[str, Figure]]:
    return {str(key["service"]): {figure.metric: figure for figure in shown} for key, shown in groups if key["service"]}


def _empty(name: str) -> Figure:
    metric = METRICS[name]
    return Figure(metric.name, metric.label, None, 0, None, metric.unit, False)


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def portfolio(
    viewer: User, *, days: int = DEFAULT_PERIOD, xla_states: Mapping[int, str] | None = None, last: date | None = None
) -> Portfolio:
    """The portfolio of the live services the viewer may see, over the `days` ending `last` (today).

    `xla_states` maps a service's primary key to its XLA state (met, at risk, breached): the XLA
    engine's hook, empty until it is wired; a service without one shows "—".
    """
    if days not in PERIODS:
        choices = ", ".join(map(str, PERIODS))
        raise InvalidInput("invalid", f"period: {days} days is not one of {choices}.", field="period")
    primary = primary_metric()
    last = last or today()
    period = period_ending(last, days)
    services = list(
        services_visible(viewer=viewer).filter(lifecycle=Service.Lifecycle.LIVE).values_list("pk", "public_id", "name")
    )
    services.sort(key=lambda row: (row[2].casefold(), row[1]))
    ids = tuple(pk for pk, _public, _name in services)
    fall_period = period_ending(last, FALL_DAYS)
    empty = Portfolio(primary, period, [], _empty(primary.name), _empty(LOST_MEAN), fall_period, [], 0, [], [], ())
    if not ids:
        return empty
    scope = Scope(service_ids=ids, since=period.since, until=period.until)
    names = _names(primary)
    figures = _by_service(compute(scope, ["service"], names))
    ((_key, overall),) = compute(scope, [], [primary.name, LOST_MEAN])
    baseline, baseline_lost = overall
    xla_states = xla_states or {}
    rows = []
    for pk, public_id, name in services:
        shown = figures.get(public_id, {})
        rows.append(
            ServiceRow(
                service_id=pk,
                public_id=public_id,
                name=name,
                url=service_page_url(public_id),
                score=shown.get(primary.name) or _empty(primary.name),
                lost_mean=shown.get(LOST_MEAN) or _empty(LOST_MEAN),
                lost_total=shown.get(LOST_TOTAL) or _empty(LOST_TOTAL),
                responses=shown[RESPONSES_FROM].n if RESPONSES_FROM in shown else 0,
                xla_state=xla_states.get(pk, NO_XLA),
            )
        )
    by_public = {public_id: name for _pk, public_id, name in services}
    falls, tested = fell_the_most(primary, ids, by_public, fall_period)
    result = Portfolio(primary, period, rows, baseline, baseline_lost, fall_period, falls, tested, [], [], ())
    hotspots_fill(result, scope, by_public)
    return result


def trends_fill(rows: Sequence[ServiceRow], metric: Metric, last: date) -> None:
    """Each row's primary score in each of the TREND_WEEKS ISO weeks ending with `last`'s (None: no answer)."""
    if not rows:
        return
    first_week = monday(last) - timedelta(weeks=TREND_WEEKS - 1)
    weeks = [first_week + timedelta(weeks=index) for index in range(TREND_WEEKS)]
    scope = Scope(service_ids=tuple(row.service_id for row in rows), since=first_week, until=last)
    trends: dict[str, dict[str, Figure]] = {}
    try:
        groups = compute(scope, ["service", "week"], [metric.name])
    except InvalidInput:  # more groups than compute() answers: no trends rather than no page
        return
    for key, weekly in groups:
        trends.setdefault(str(key["service"]), {})[str(key["week"])] = weekly[0]
    for row in rows:
        row.trend = [(week, trends.get(row.public_id, {}).get(week.isoformat())) for week in weeks]


def tested(metric: Metric) -> bool:
    """Whether a change of the metric has a test: proportions and NPS-style scores with a direction."""
    return metric.interval in (WILSON, NPS_INTERVAL) and metric.direction in (HIGHER, LOWER)


def fell_the_most(
    metric: Metric, ids: tuple[int, ...], names: Mapping[str, str], period: Period
) -> tuple[list[Fall], int]:
    """The services whose score got worse the most, `period` against the one before; both need enough data.

    Every service with enough data in both periods is tested for a drop as the alerts test one
    (`drops.drop_statistic`: the pooled two-proportion z-test, or the NPS-style score difference
    with DOMAIN §2's variance; one-sided), and Benjamini–Hochberg at FDR_Q across them decides which
    falls are significant (`stats.discoveries`).
    """
    earlier = period.before()
    now = _by_service(
        compute(Scope(service_ids=ids, since=period.since, until=period.until), ["service"], [metric.name])
    )
    then = _by_service(
        compute(Scope(service_ids=ids, since=earlier.since, until=earlier.until), ["service"], [metric.name])
    )
    compared = []
    for public_id, shown in now.items():
        after, before = shown[metric.name], then.get(public_id, {}).get(metric.name)
        if before is None or not (after.enough and before.enough) or after.value is None or before.value is None:
            continue
        compared.append((public_id, before, after, drop_statistic(metric, before, after) if tested(metric) else None))
    rejected = iter(discoveries([test[1] for *_rest, test in compared if test is not None], FDR_Q))
    falls = []
    for public_id, before, after, test in compared:
        assert after.value is not None and before.value is not None  # nosec B101  # filtered above
        change = after.value - before.value
        significant = next(rejected) if test is not None else None
        if worse_by(metric, change) <= 0:
            continue
        falls.append(
            Fall(
                name=names[public_id],
                url=service_page_url(public_id),
                before=before,
                after=after,
                change=round(change, metric.decimals),
                z=None if test is None else round(test[0], 2),
                p=None if test is None else test[1],
                significant=significant,
            )
        )
    falls.sort(key=lambda fall: (-worse_by(metric, fall.change), fall.name))
    return falls[:TOP_FALLS], len(compared)


def _hotspot_names(kind: str, public_ids: set[str]) -> dict[str, str]:
    if kind == "organisation":
        return dict(Organisation.objects.filter(public_id__in=public_ids).values_list("public_id", "name"))
    if kind == "offering":
        return dict(Offering.objects.filter(public_id__in=public_ids).values_list("public_id", "name"))
    labels = dict(Driver.choices)
    return {code: str(labels.get(code, code)) for code in public_ids}


def hotspots_fill(result: Portfolio, scope: Scope, services: Mapping[str, str]) -> None:
    """The worst hotspots (service × organisation, × offering, × driver) by impact, on score and on lost time."""
    metric = result.metric
    kinds = ["organisation", "offering"] + ([DRIVER_DIMENSION] if DRIVER_DIMENSION in GROUP_DIMENSIONS else [])
    result.hotspot_kinds = tuple(kinds)
    driver_lost = [name for name in (DRIVER_LOST.format(code=code) for code in Driver.values) if name in METRICS]
    if DRIVER_DIMENSION not in GROUP_DIMENSIONS:
        result.notes.append(
            "Hotspots by driver are ranked by lost time only: the scores are not counted by driver."
            if driver_lost
            else "Hotspots by driver are not ranked yet: the figures are not counted by driver."
        )
    by_score: list[Hotspot] = []
    by_lost: list[Hotspot] = []
    base, base_lost = result.baseline.value, result.baseline_lost.value
    for kind in kinds:
        try:
            groups = compute(scope, ["service", kind], list(dict.fromkeys([metric.name, LOST_MEAN])))
        except InvalidInput:
            result.notes.append(f"Too many service × {kind} groups to rank in this period: choose a shorter one.")
            continue
        names = _hotspot_names(kind, {str(key[kind]) for key, _shown in groups if key[kind]})
        for key, shown in groups:
            service = str(key["service"])
            label = names.get(key[kind] or "", f"(no {kind})")
            for figure, baseline, bucket in ((shown[0], base, by_score), (shown[-1], base_lost, by_lost)):
                if not figure.enough or figure.value is None or baseline is None:
                    continue
                gap = figure.value - baseline
                bucket.append(
                    Hotspot(
                        kind=kind,
                        service=services.get(service, service),
                        url=service_page_url(service),
                        name=label,
                        responses=figure.n,
                        value=figure.value,
                        gap=round(gap, 1),
                        impact=round(figure.n * gap, 1),
                    )
                )
    if driver_lost and base_lost is not None and DRIVER_DIMENSION not in GROUP_DIMENSIONS:
        by_lost += _driver_lost_hotspots(scope, driver_lost, base_lost, services)
    lost_metric = METRICS[LOST_MEAN]
    result.hotspots = _worst(metric, by_score)
    result.lost_hotspots = _worst(lost_metric, by_lost)


def _driver_lost_hotspots(
    scope: Scope, names: list[str], baseline: float, services: Mapping[str, str]
) -> list[Hotspot]:
    """Service × driver by lost time, from the per-driver lost-time totals (n: the answers naming it).

    Its lost time per answer is the total over n; impact = n × (that − the baseline) = total − n × baseline.
    """
    labels = dict(Driver.choices)
    spots = []
    for key, shown in compute(scope, ["service"], names):
        service = str(key["service"])
        for figure in shown:
            if not figure.enough or figure.value is None or figure.n <= 0:
                continue
            mean = figure.value / figure.n
            code = figure.metric.removeprefix(DRIVER_LOST.format(code=""))
            spots.append(
                Hotspot(
                    kind="driver",
                    service=services.get(service, service),
                    url=service_page_url(service),
                    name=str(labels.get(code, code)),
                    responses=figure.n,
                    value=round(mean, 1),
                    gap=round(mean - baseline, 1),
                    impact=round(figure.n * (mean - baseline), 1),
                )
            )
    return spots


def _worst(metric: Metric, hotspots: list[Hotspot]) -> list[Hotspot]:
    """Hotspots worse than the baseline, by impact (worst first), at most TOP_HOTSPOTS."""
    worse = [spot for spot in hotspots if worse_by(metric, spot.impact) > 0 and not math.isclose(spot.impact, 0)]
    worse.sort(key=lambda spot: (-worse_by(metric, spot.impact), spot.service, spot.name))
    return worse[:TOP_HOTSPOTS]

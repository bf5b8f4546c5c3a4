"""Every experience metric, defined once (DOMAIN §2): its formula, unit, direction, minimum sample and interval.

A figure is computed from a `Tally` only (`figure(metric, tally)`), so the raw recount and the
rollups give the same figure. The desk's metrics (FCR, MTTA/MTTR, SLA compliance, reopens,
reassignments) are defined here too but computed from tickets (experience/desk_metrics.py) with the
same helpers, so every figure has the same shape:

    {"metric", "label", "value" (None under the minimum sample), "n", "interval" ([lo, hi] or None),
     "unit", "enough"}

Intervals: Wilson 95% for proportions (shown in percent); DOMAIN's NPS interval
(half-width 196·√((p + d − (p − d)²) / n) points, clipped to −100..100) for NPS and happiness; none
for means and totals (no t-interval: the answers are on short ordinal scales and bucketed).

Lost time in money (the `cost` metrics) prices a minutes metric at each organisation's own hourly
cost (accounts.Organisation.hourly_cost, else the provider default SERVICELOOP_HOURLY_COST), so it is
computed from a group's tally split by hourly cost (`Priced`, made by experience/lost_time.py), not from one
tally; the arithmetic is Decimal, rounded to cents once at the end, and only the figure's value is a
float. Its unit is the currency code (SERVICELOOP_CURRENCY).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings

from serviceloop.accounts.models import currency
from serviceloop.experience.tally import Tally
from serviceloop.feedback.models import LOST_TIME_MINUTES, Driver, SentimentLabel

Z = 1.96  # 95%

HIGHER = "higher_is_better"
LOWER = "lower_is_better"
NEUTRAL = "neutral"  # a count shown for context (suppressed invitations, paused time)

WILSON = "wilson"
NPS_INTERVAL = "nps"
NO_INTERVAL = "none"

# The unit of a money metric: shown as the project's currency code (SERVICELOOP_CURRENCY, e.g. "EUR").
CURRENCY = "currency"
CENT = Decimal("0.01")
# A group's tally split by hourly cost: (cost of an hour, the tally of the organisations at that cost).
Priced = Sequence[tuple[Decimal, Tally]]


def min_sample() -> int:
    """Below this many valid answers a figure says "not enough data" (SERVICELOOP_MIN_SAMPLE)."""
    return int(settings.SERVICELOOP_MIN_SAMPLE)


@dataclass(frozen=True)
class Metric:
    """One metric. `kind` says how it reads a tally: share, nps, mean, total, count; cost (a `total`
    metric `base` priced per hour), cost_mean (the same per answer); or desk."""

    name: str
    label: str
    formula: str
    unit: str  # "%", "points", "minutes", "1–5", "count"
    direction: str
    interval: str
    kind: str
    measure: str = ""
    values: tuple[str, ...] = ()  # share: the values that count as a success; nps: promoters
    detractors: tuple[str, ...] = ()
    weights: tuple[tuple[str, float], ...] = ()  # mean/total: value → number
    denominator: str = ""  # n from another measure ("responses") or one of its values ("invitation:sent")
    decimals: int = 1
    gated: bool = True  # False: a count, shown whatever its n
    base: str = ""  # cost, cost_mean: the minutes metric priced

    @property
    def from_desk(self) -> bool:
        return self.kind == "desk"

    @property
    def priced(self) -> bool:
        """Computed from a tally split by hourly cost (`Priced`), not from one tally."""
        return self.kind in ("cost", "cost_mean")

    @property
    def shown_unit(self) -> str:
        return currency() if self.unit == CURRENCY else self.unit

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "formula": self.formula,
            "unit": self.shown_unit,
            "direction": self.direction,
            "interval": self.interval,
            "min_sample": min_sample() if self.gated else 0,
        }


@dataclass(frozen=True)
class Figure:
    metric: str
    label: str
    value: float | None
    n: int
    interval: tuple[float, float] | None
    unit: str
    enough: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "label": self.label,
            "value": self.value,
            "n": self.n,
            "interval": list(self.interval) if self.interval is not None else None,
            "unit": self.unit,
            "enough": self.enough,
        }


def wilson(successes: int, n: int, z: float = Z) -> tuple[float, float]:
    """Wilson score interval of a proportion (0..1)."""
    if n <= 0:
        raise ValueError("a Wilson interval needs n > 0")
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def nps_interval(promoters: int, detractors: int, n: int) -> tuple[float, float]:
    """DOMAIN §2: score ± 196·√((p + d − (p − d)²)/n) points, clipped to −100..100."""
    p, d = promoters / n, detractors / n
    score = 100 * (p - d)
    half = 196 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n)
    return max(-100.0, score - half), min(100.0, score + half)


def _round(value: float, decimals: int) -> float:
    return round(value + 0.0, decimals)  # + 0.0: never a "-0.0"


def make_figure(metric: Metric, *, n: int, value: float | None, interval: tuple[float, float] | None = None) -> Figure:
    """The figure of a metric from its n and raw value, hiding both under the minimum sample."""
    enough = not metric.gated or (n > 0 and n >= min_sample())
    if not enough or value is None:
        return Figure(metric.name, metric.label, None, n, None, metric.shown_unit, False)
    shown = None if interval is None else (_round(interval[0], metric.decimals), _round(interval[1], metric.decimals))
    return Figure(metric.name, metric.label, _round(value, metric.decimals), n, shown, metric.shown_unit, True)


def share_figure(metric: Metric, successes: int, n: int) -> Figure:
    """A proportion in percent with its Wilson interval."""
    if n <= 0:
        return make_figure(metric, n=0, value=None)
    lo, hi = wilson(successes, n)
    return make_figure(metric, n=n, value=100 * successes / n, interval=(100 * lo, 100 * hi))


def mean_figure(metric: Metric, total: float, n: int) -> Figure:
    return make_figure(metric, n=n, value=total / n if n else None)


def figure(metric: Metric | str, tally: Tally, priced: Priced | None = None) -> Figure:
    """The figure of a tally metric from a tally (of one group); a money metric needs `priced`,
    the same group's tally split by hourly cost."""
    if isinstance(metric, str):
        metric = METRICS[metric]
    if metric.from_desk:
        raise ValueError(f"{metric.name} is a desk metric: it is computed from tickets, not from a tally")
    if metric.priced:
        if priced is None:
            raise ValueError(f"{metric.name} is lost time in money: it needs the tally split by hourly cost")
        amount, n = money(metric, priced)
        return make_figure(metric, n=n, value=float(amount))
    counts = tally.of(metric.measure)
    n = _denominator(metric, tally)
    if metric.kind == "share":
        return share_figure(metric, sum(counts.get(value, 0) for value in metric.values), n)
    if metric.kind == "nps":
        if n <= 0:
            return make_figure(metric, n=0, value=None)
        promoters = sum(counts.get(value, 0) for value in metric.values)
        detractors = sum(counts.get(value, 0) for value in metric.detractors)
        score = 100 * (promoters - detractors) / n
        return make_figure(metric, n=n, value=score, interval=nps_interval(promoters, detractors, n))
    if metric.kind in ("mean", "total"):
        total, n = weighted(metric, tally)
        return (
            mean_figure(metric, float(total), n)
            if metric.kind == "mean"
            else make_figure(metric, n=n, value=float(total))
        )
    if metric.kind == "count":
        return make_figure(metric, n=n, value=float(n))
    raise ValueError(f"unknown metric kind {metric.kind}")  # pragma: no cover


def weighted(metric: Metric, tally: Tally) -> tuple[Decimal, int]:
    """The sum of a mean/total metric's weights over its answers, and n: the answers with a weighted value
    (e.g. lost minutes and the answers with a bucket; for one driver, only the answers naming it)."""
    weights = dict(metric.weights)
    counts = tally.of(metric.measure)
    total = sum(
        (Decimal(str(weights[value])) * count for value, count in counts.items() if value in weights), Decimal(0)
    )
    return total, sum(count for value, count in counts.items() if value in weights)


def money(metric: Metric | str, priced: Priced) -> tuple[Decimal, int]:
    """A money metric's amount (to the cent) and n: its minutes metric priced at each part's hourly cost."""
    if isinstance(metric, str):
        metric = METRICS[metric]
    base = METRICS[metric.base]
    amount, n = Decimal(0), 0
    for hourly_cost, tally in priced:
        minutes, count = weighted(base, tally)
        amount += minutes * hourly_cost / 60
        n += count
    if metric.kind == "cost_mean":
        amount = amount / n if n else Decimal(0)
    return amount.quantize(CENT, rounding=ROUND_HALF_UP), n


def measures_of(names: Iterable[str]) -> set[str]:
    """The tally measures the metrics `names` read (their own and their denominator's): a read of the
    rollups need not sum the others."""
    needed: set[str] = set()
    for name in names:
        metric = METRICS[name]
        if metric.measure:
            needed.add(metric.measure)
        if metric.denominator:
            needed.add(metric.denominator.partition(":")[0])
    return needed


def _denominator(metric: Metric, tally: Tally) -> int:
    """n: the measure's total, another measure's total, or one value of a measure ("invitation:sent")."""
    measure, _, value = (metric.denominator or metric.measure).partition(":")
    return tally.of(measure).get(value, 0) if value else tally.total(measure)


def _scores(low: int, high: int) -> tuple[str, ...]:
    return tuple(str(score) for score in range(low, high + 1))


def _numbers(low: int, high: int) -> tuple[tuple[str, float], ...]:
    return tuple((str(score), float(score)) for score in range(low, high + 1))


_LOST = tuple((str(code), float(minutes)) for code, minutes in LOST_TIME_MINUTES.items())
_BUCKETS = "none 0, <30 min 15, 30–60 min 45, 1–2 h 90, 2–4 h 180, 4–8 h 360, more than a day 600"

_TALLY_METRICS = [
    Metric(
        "csat",
        "CSAT (% satisfied, 4–5 of 5)",
        "answers 4 or 5 / satisfaction answers (1–5) × 100",
        "%",
        HIGHER,
        WILSON,
        "share",
        "csat",
        values=("4", "5"),
    ),
    Metric(
        "avg_satisfaction",
        "Average satisfaction (1–5)",
        "mean of the satisfaction answers (1–5)",
        "1–5",
        HIGHER,
        NO_INTERVAL,
        "mean",
        "csat",
        weights=_numbers(1, 5),
        decimals=2,
    ),
    Metric(
        "nps",
        "NPS",
        "% promoters (9–10) − % detractors (0–6) of the recommend answers (0–10)",
        "points",
        HIGHER,
        NPS_INTERVAL,
        "nps",
        "nps",
        values=("9", "10"),
        detractors=_scores(0, 6),
    ),
    Metric(
        "happiness",
        "Happiness",
        "% answering 9–10 − % answering 0–6 of the happiness answers (0–10)",
        "points",
        HIGHER,
        NPS_INTERVAL,
        "nps",
        "happiness",
        values=("9", "10"),
        detractors=_scores(0, 6),
    ),
    Metric(
        "ces",
        "Ease (CES, % agree: 5–7 of 7)",
        "answers 5, 6 or 7 / ease answers (1–7) × 100",
        "%",
        HIGHER,
        WILSON,
        "share",
        "ces",
        values=("5", "6", "7"),
    ),
    Metric(
        "lost_time_mean",
        "Lost time per answer",
        f"mean of the lost-time bucket midpoints ({_BUCKETS} minutes)",
        "minutes",
        LOWER,
        NO_INTERVAL,
        "mean",
        "lost_time",
        weights=_LOST,
    ),
    Metric(
        "lost_time_total",
        "Lost time in total",
        f"sum of the lost-time bucket midpoints ({_BUCKETS} minutes)",
        "minutes",
        LOWER,
        NO_INTERVAL,
        "total",
        "lost_time",
        weights=_LOST,
        decimals=0,
    ),
    Metric(
        "lost_cost_mean",
        "Lost time in money per answer",
        "mean over the lost-time answers of the bucket midpoint (hours) × the hourly cost of the answer's organisation",
        CURRENCY,
        LOWER,
        NO_INTERVAL,
        "cost_mean",
        "lost_time",
        base="lost_time_total",
        decimals=2,
    ),
    Metric(
        "lost_cost_total",
        "Lost time in money",
        "sum over the lost-time answers of the bucket midpoint (hours) × the hourly cost of the answer's organisation "
        "(its own, else the provider default)",
        CURRENCY,
        LOWER,
        NO_INTERVAL,
        "cost",
        "lost_time",
        base="lost_time_total",
        decimals=2,
    ),
    Metric(
        "response_rate",
        "Response rate",
        "answered invitations / sent invitations × 100 (suppressed apart)",
        "%",
        HIGHER,
        WILSON,
        "share",
        "invitation",
        values=("answered",),
        denominator="invitation:sent",
    ),
    Metric(
        "suppressed",
        "Invitations not sent (suppressed)",
        "count of suppressed invitations (any reason)",
        "count",
        NEUTRAL,
        NO_INTERVAL,
        "count",
        "suppressed",
        decimals=0,
        gated=False,
    ),
]
_TALLY_METRICS += [
    Metric(
        f"sentiment_{label}",
        f"{label.capitalize()} comments",
        f"responses labelled {label} / labelled responses × 100",
        "%",
        LOWER if label == SentimentLabel.NEGATIVE else HIGHER if label == SentimentLabel.POSITIVE else NEUTRAL,
        WILSON,
        "share",
        "sentiment",
        values=(str(label),),
    )
    for label in SentimentLabel.values
]
_TALLY_METRICS += [
    Metric(
        f"driver_{code}",
        f"Driver named: {label}",
        f"responses naming {label.lower()} / responses × 100",
        "%",
        NEUTRAL,
        WILSON,
        "share",
        "driver",
        values=(str(code),),
        denominator="responses",
    )
    for code, label in Driver.choices
]

_TALLY_METRICS += [
    Metric(
        f"social_{label}",
        f"{label.capitalize()} social posts",
        f"posts matched to the service labelled {label} / labelled posts matched to it × 100",
        "%",
        HIGHER if label == SentimentLabel.POSITIVE else LOWER,
        WILSON,
        "share",
        "post_sentiment",
        values=(str(label),),
    )
    for label in (SentimentLabel.POSITIVE, SentimentLabel.NEGATIVE)
]
# Lost time per driver: each answer with a bucket counts its whole lost time for every driver it names.
_TALLY_METRICS += [
    Metric(
        f"lost_time_driver_{code}",
        f"Lost time, driver named: {label}",
        f"sum of the lost-time bucket midpoints of the answers naming {label.lower()}",
        "minutes",
        LOWER,
        NO_INTERVAL,
        "total",
        "driver_lost",
        weights=tuple((f"{code}:{bucket}", float(minutes)) for bucket, minutes in LOST_TIME_MINUTES.items()),
        decimals=0,
    )
    for code, label in Driver.choices
]
_TALLY_METRICS += [
    Metric(
        f"lost_cost_driver_{code}",
        f"Lost time in money, driver named: {label}",
        f"sum over the lost-time answers naming {label.lower()} of the bucket midpoint (hours) × the hourly cost "
        "of the answer's organisation",
        CURRENCY,
        LOWER,
        NO_INTERVAL,
        "cost",
        "driver_lost",
        base=f"lost_time_driver_{code}",
        decimals=2,
    )
    for code, label in Driver.choices
]

_DESK_METRICS = [
    Metric(
        "fcr",
        "First-contact resolution",
        "resolved at the first interaction, never reopened, no new ticket from the requester on the service "
        "within 7 days / resolved tickets × 100",
        "%",
        HIGHER,
        WILSON,
        "desk",
    ),
    Metric(
        "mtta_mean",
        "Time to first response (mean)",
        "mean of first response − opened, business minutes",
        "minutes",
        LOWER,
        NO_INTERVAL,
        "desk",
        decimals=0,
    ),
    Metric(
        "mtta_median",
        "Time to first response (median)",
        "median of first response − opened, business minutes",
        "minutes",
        LOWER,
        NO_INTERVAL,
        "desk",
        decimals=0,
    ),
    Metric(
        "mttr_mean",
        "Time to resolve (mean)",
        "mean of resolved − opened, business minutes",
        "minutes",
        LOWER,
        NO_INTERVAL,
        "desk",
        decimals=0,
    ),
    Metric(
        "mttr_median",
        "Time to resolve (median)",
        "median of resolved − opened, business minutes",
        "minutes",
        LOWER,
        NO_INTERVAL,
        "desk",
        decimals=0,
    ),
    Metric(
        "sla_first_response",
        "SLA met: first response",
        "resolved tickets whose first response came by its due time / resolved tickets with a target × 100",
        "%",
        HIGHER,
        WILSON,
        "desk",
    ),
    Metric(
        "sla_resolution",
        "SLA met: resolution",
        "resolved tickets resolved by their due time / resolved tickets with a target × 100",
        "%",
        HIGHER,
        WILSON,
        "desk",
    ),
    Metric(
        "sla_paused",
        "Paused time (excluded from the SLA)",
        "sum of the business minutes the clocks stood still (waiting on the customer, or resolved before a reopen), tickets with a target",
        "minutes",
        NEUTRAL,
        NO_INTERVAL,
        "desk",
        decimals=0,
        gated=False,
    ),
    Metric(
        "reopen_rate",
        "Reopened",
        "resolved tickets reopened at least once / resolved tickets × 100",
        "%",
        LOWER,
        WILSON,
        "desk",
    ),
    Metric(
        "reassignment_mean",
        "Reassignments per ticket",
        "mean reassignments (after the first assignment) of resolved tickets",
        "count",
        LOWER,
        NO_INTERVAL,
        "desk",
        decimals=2,
    ),
]

METRICS: dict[str, Metric] = {metric.name: metric for metric in _TALLY_METRICS + _DESK_METRICS}
# Computed from one tally; from a tally split by hourly cost (lost time in money); from tickets.
TALLY_METRICS = tuple(metric.name for metric in _TALLY_METRICS if not metric.priced)
COST_METRICS = tuple(metric.name for metric in _TALLY_METRICS if metric.priced)
DESK_METRICS = tuple(metric.name for metric in _DESK_METRICS)
# The measures the money metrics read: what a query split by organisation needs to fetch.
COST_MEASURES = tuple(sorted({METRICS[name].measure for name in COST_METRICS}))


def figures(names: Iterable[str], tally: Tally, priced: Priced | None = None) -> list[Figure]:
    """The figures of tally (and, given `priced`, money) metrics for one group, in the order asked."""
    return [figure(METRICS[name], tally, priced) for name in names]

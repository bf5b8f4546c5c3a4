"""Drop detection: each live service's primary metrics, recent window against its own baseline, FDR-controlled.

One run (`drops_detect`, hourly from the worker):

1. Two calls of `api.compute` grouped by service: the recent window (the last
   `SERVICELOOP_ALERT_RECENT_DAYS` days, today included) and the baseline (the
   `SERVICELOOP_ALERT_BASELINE_DAYS` days before it), for every live service and every metric of
   `SERVICELOOP_ALERT_METRICS`.
2. A one-sided test of a drop wherever both windows have at least the minimum sample
   (`SERVICELOOP_MIN_SAMPLE`: a figure under it has no value): a two-proportion z-test for
   proportions, the score difference with DOMAIN §2's variance for NPS-style scores (stats.py).
3. Benjamini–Hochberg across every test of the run at `SERVICELOOP_ALERT_FDR`: each discovery raises
   (or keeps) the alert `drop:<service public id>:<metric>`.
4. Hysteresis: an open drop alert recovers only when its test of this run finds its one-sided
   p-value above `SERVICELOOP_ALERT_RECOVER_P` (0.2): between discovery and that, it stays open. A
   test that cannot be run (too few answers, the service not live) changes nothing.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from serviceloop.catalogue.models import Service
from serviceloop.core import clock
from serviceloop.experience.alerts import alert_raise, alert_recover
from serviceloop.experience.api import compute
from serviceloop.experience.metrics import HIGHER, LOWER, METRICS, NPS_INTERVAL, WILSON, Figure, Metric
from serviceloop.experience.models import Alert
from serviceloop.experience.recount import day_of
from serviceloop.experience.stats import benjamini_hochberg, nps_difference_z, p_drop, two_proportion_z
from serviceloop.experience.tally import Scope

logger = logging.getLogger(__name__)

TWO_PROPORTIONS = "two-proportion z-test"
SCORE_DIFFERENCE = "difference of NPS-style scores (DOMAIN §2 variance)"


@dataclass(frozen=True)
class Windows:
    recent_from: date
    recent_to: date
    baseline_from: date
    baseline_to: date

    @classmethod
    def ending(cls, today: date) -> Windows:
        recent_days = int(settings.SERVICELOOP_ALERT_RECENT_DAYS)
        baseline_days = int(settings.SERVICELOOP_ALERT_BASELINE_DAYS)
        if recent_days < 1 or baseline_days < 1:
            raise ImproperlyConfigured("SERVICELOOP_ALERT_RECENT_DAYS and _BASELINE_DAYS must be at least 1.")
        recent_from = today - timedelta(days=recent_days - 1)
        baseline_to = recent_from - timedelta(days=1)
        return cls(recent_from, today, baseline_to - timedelta(days=baseline_days - 1), baseline_to)


@dataclass(frozen=True)
class DropTest:
    """One service × metric tested in a run: z and p of a drop; q after Benjamini–Hochberg."""

    service: Service
    metric: Metric
    recent: Figure
    baseline: Figure
    z: float
    p: float
    q: float = 1.0

    @property
    def cause(self) -> str:
        return drop_cause(self.service, self.metric.name)


@dataclass(frozen=True)
class DetectionResult:
    tested: int
    discoveries: int
    raised: int
    recovered: int
    kept_open: int


def drop_cause(service: Service, metric: str) -> str:
    return f"drop:{service.public_id}:{metric}"


# Metrics whose recent days are not settled yet: tested against a baseline they would drift by themselves.
IMMATURE = {
    "response_rate": "invitations sent in the last days have had no time to be answered",
    "reopen_rate": "tickets resolved in the last days have had no time to be reopened",
}


def alert_metrics() -> list[Metric]:
    """The metrics tested (SERVICELOOP_ALERT_METRICS): proportions and NPS-style scores with a direction."""
    chosen = []
    for name in settings.SERVICELOOP_ALERT_METRICS:
        metric = METRICS.get(name)
        if metric is None or metric.interval not in (WILSON, NPS_INTERVAL) or metric.direction not in (HIGHER, LOWER):
            raise ImproperlyConfigured(
                f"SERVICELOOP_ALERT_METRICS: {name!r} is not a proportion or NPS-style metric with a direction "
                "(e.g. happiness, nps, csat, ces, fcr)."
            )
        if name in IMMATURE:
            raise ImproperlyConfigured(
                f"SERVICELOOP_ALERT_METRICS: {name!r} is not settled in a recent window ({IMMATURE[name]}), "
                "so a week against its baseline would read as a change that is not there."
            )
        chosen.append(metric)
    return chosen


def _half_width(figure: Figure) -> float:
    """The NPS interval's half-width in points; a side clipped at ±100 is read from the other side."""
    if figure.interval is None or figure.value is None:
        raise ValueError(f"{figure.metric}: a figure without a value has no interval to read")
    low, high = figure.interval
    if low > -100 and high < 100:
        return (high - low) / 2
    if low > -100:
        return figure.value - low
    if high < 100:
        return high - figure.value
    # Both clipped: no better bound than the widest, variance 1 per answer: 196·√(1 / n) points.
    return 196.0 / math.sqrt(figure.n)


def score_variance(figure: Figure) -> float:
    """The per-answer variance p + d − (p − d)² of an NPS-style figure, from its own interval.

    The interval is score ± 196·√(variance / n) points (DOMAIN §2), so the test uses exactly the
    spread the pages show (up to the interval's rounding to a tenth of a point).
    """
    return float(figure.n * (_half_width(figure) / 196.0) ** 2)


def drop_statistic(metric: Metric, baseline: Figure, recent: Figure) -> tuple[float, float]:
    """(z, one-sided p) of a drop from `baseline` to `recent`; both figures have enough answers."""
    if baseline.value is None or recent.value is None:
        raise ValueError(f"{metric.name}: a drop is tested only between figures with enough answers")
    sign = 1.0 if metric.direction == HIGHER else -1.0
    if metric.interval == NPS_INTERVAL:
        z = nps_difference_z(
            sign * baseline.value / 100,
            score_variance(baseline),
            baseline.n,
            sign * recent.value / 100,
            score_variance(recent),
            recent.n,
        )
    else:
        # Worse = lower for "higher is better": test the share of the bad side for "lower is better".
        base, now = baseline.value / 100, recent.value / 100
        if sign < 0:
            base, now = 1 - base, 1 - now
        z = two_proportion_z(base, baseline.n, now, recent.n)
    return z, p_drop(z)


def drop_tests(today: date) -> tuple[Windows, list[DropTest]]:
    """Every service × metric that can be tested today, with z, p and the Benjamini–Hochberg q."""
    windows = Windows.ending(today)
    metrics = alert_metrics()
    services = {service.public_id: service for service in Service.objects.filter(lifecycle=Service.Lifecycle.LIVE)}
    if not services or not metrics:
        return windows, []
    ids = tuple(service.pk for service in services.values())
    names = [metric.name for metric in metrics]
    recent = compute(Scope(service_ids=ids, since=windows.recent_from, until=windows.recent_to), ["service"], names)
    baseline = compute(
        Scope(service_ids=ids, since=windows.baseline_from, until=windows.baseline_to), ["service"], names
    )
    base_by_service = {key["service"]: figures for key, figures in baseline}
    tests: list[DropTest] = []
    for key, figures in recent:
        service = services.get(key["service"] or "")
        base_figures = base_by_service.get(key["service"])
        if service is None or base_figures is None:
            continue
        for metric, now, base in zip(metrics, figures, base_figures, strict=True):
            if not (now.enough and base.enough) or now.value is None or base.value is None:
                continue  # the minimum sample gate: no test without enough answers in both windows
            z, p = drop_statistic(metric, base, now)
            tests.append(DropTest(service, metric, now, base, z, p))
    adjusted = benjamini_hochberg([test.p for test in tests])
    tests = [
        DropTest(test.service, test.metric, test.recent, test.baseline, test.z, test.p, q)
        for test, q in zip(tests, adjusted, strict=True)
    ]
    tests.sort(key=lambda test: (test.service.name, test.metric.name))
    return windows, tests


def _part(figure: Figure, first: date, last: date) -> dict[str, Any]:
    return {
        "value": figure.value,
        "n": figure.n,
        "interval": list(figure.interval) if figure.interval else None,
        "from": first.isoformat(),
        "to": last.isoformat(),
    }


def figures_of(test: DropTest, windows: Windows, tested: int) -> dict[str, Any]:
    """What an alert records: both windows' figures, the test, z, p, q and the run's settings."""
    return {
        "metric": test.metric.name,
        "label": test.metric.label,
        "unit": test.metric.unit,
        "direction": test.metric.direction,
        "recent": _part(test.recent, windows.recent_from, windows.recent_to),
        "baseline": _part(test.baseline, windows.baseline_from, windows.baseline_to),
        "test": SCORE_DIFFERENCE if test.metric.interval == NPS_INTERVAL else TWO_PROPORTIONS,
        "z": _rounded(test.z, 3),
        "p_value": _rounded(test.p, 6),
        "q_value": _rounded(test.q, 6),
        "fdr": float(settings.SERVICELOOP_ALERT_FDR),
        "recover_p": float(settings.SERVICELOOP_ALERT_RECOVER_P),
        "tests_in_run": tested,
    }


def _rounded(value: float, digits: int) -> float | str:
    # JSON has no infinity: a certain difference (no spread in either window) is written as text.
    return round(value, digits) if abs(value) != float("inf") else ("inf" if value > 0 else "-inf")


def _title(test: DropTest) -> str:
    unit = "" if test.metric.unit == "%" else " "
    worse = "fell" if test.metric.direction == HIGHER else "rose"
    return (
        f"{test.metric.label} {worse} on {test.service.name}: {test.recent.value}{unit}{test.metric.unit} "
        f"in the last {settings.SERVICELOOP_ALERT_RECENT_DAYS} days against "
        f"{test.baseline.value}{unit}{test.metric.unit} before"
    )


def drops_detect(today: date | None = None) -> DetectionResult:
    """One detection run: raise an alert per discovery, recover open drop alerts whose drop is gone."""
    today = today or day_of(clock.now())
    windows, tests = drop_tests(today)
    rate = float(settings.SERVICELOOP_ALERT_FDR)
    recover_above = float(settings.SERVICELOOP_ALERT_RECOVER_P)
    open_causes = set(
        Alert.objects.filter(kind=Alert.Kind.DROP, state=Alert.State.OPEN).values_list("cause", flat=True)
    )
    raised = recovered = kept = found = 0
    for test in tests:
        if test.q <= rate:
            found += 1
            if test.cause in open_causes:
                kept += 1
                continue
            alert_raise(
                service=test.service,
                kind=Alert.Kind.DROP,
                cause=test.cause,
                title=_title(test),
                figures=figures_of(test, windows, len(tests)),
            )
            raised += 1
        elif test.cause in open_causes:
            if test.p > recover_above:
                alert_recover(test.cause, figures=figures_of(test, windows, len(tests)))
                recovered += 1
            else:
                kept += 1  # hysteresis: no longer a discovery, not yet clearly back
    result = DetectionResult(len(tests), found, raised, recovered, kept)
    logger.info("drop detection %s: %s", today, result)
    return result

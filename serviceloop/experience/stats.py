"""Significance tests for drops against a baseline: pure functions, no Django (docs/experience.md, "Alerts").

Every z here is oriented so that a *drop* (the recent window worse than the baseline) is positive,
and `p_drop(z)` is its one-sided p-value. Scores are shares (0..1 for a proportion, −1..1 for an
NPS-style score), not percent or points.

- Two proportions (CSAT, CES, FCR …): the pooled two-proportion z-test,
  z = (p_base − p_recent) / √(p̂(1 − p̂)(1/n_base + 1/n_recent)), p̂ the pooled share.
- NPS-style scores (happiness, NPS): the difference of two scores over the standard error of
  DOMAIN §2, whose per-answer variance is p + d − (p − d)² (p, d the promoter and detractor shares):
  z = (s_base − s_recent) / √(v_base/n_base + v_recent/n_recent).
- Benjamini–Hochberg: adjusted q-values; a test is a discovery when its q ≤ the false-discovery rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

SQRT2 = math.sqrt(2.0)


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z: the upper tail, via erfc (accurate far into the tail)."""
    return 0.5 * math.erfc(z / SQRT2)


def normal_cdf(z: float) -> float:
    """P(Z ≤ z) for a standard normal Z."""
    return 0.5 * math.erfc(-z / SQRT2)


def p_drop(z: float) -> float:
    """The one-sided p-value of a drop whose statistic is z (large z: strong evidence of a drop)."""
    return normal_sf(z)


def _ratio(difference: float, se: float) -> float:
    if se > 0:
        return difference / se
    # No spread in either window (every answer the same): any difference is certain, none is nothing.
    return math.copysign(math.inf, difference) if difference else 0.0


def nps_variance(promoters: float, detractors: float) -> float:
    """DOMAIN §2's per-answer variance of an NPS-style score from the promoter and detractor shares."""
    return max(promoters + detractors - (promoters - detractors) ** 2, 0.0)


def nps_difference_z(
    base_score: float, base_variance: float, base_n: int, recent_score: float, recent_variance: float, recent_n: int
) -> float:
    """z of a drop of an NPS-style score (scores as shares, −1..1; variances per answer)."""
    if base_n <= 0 or recent_n <= 0:
        raise ValueError("a score difference needs answers in both windows")
    se = math.sqrt(base_variance / base_n + recent_variance / recent_n)
    return _ratio(base_score - recent_score, se)


def two_proportion_z(base_share: float, base_n: int, recent_share: float, recent_n: int) -> float:
    """z of a drop of a proportion (shares 0..1), pooled two-proportion z-test."""
    if base_n <= 0 or recent_n <= 0:
        raise ValueError("a two-proportion test needs answers in both windows")
    pooled = (base_share * base_n + recent_share * recent_n) / (base_n + recent_n)
    se = math.sqrt(max(pooled * (1 - pooled), 0.0) * (1 / base_n + 1 / recent_n))
    return _ratio(base_share - recent_share, se)


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg adjusted q-values, in the order given.

    With the p-values sorted ascending p(1) ≤ … ≤ p(m), q(i) = min over j ≥ i of p(j)·m/j, capped at 1;
    rejecting every test with q ≤ α is the step-up procedure at false-discovery rate α.
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda index: p_values[index])
    adjusted = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        index = order[rank - 1]
        running = min(running, p_values[index] * m / rank)
        adjusted[index] = min(running, 1.0)
    return adjusted


def discoveries(p_values: Sequence[float], rate: float) -> list[bool]:
    """Which tests Benjamini–Hochberg rejects at false-discovery rate `rate`, in the order given."""
    return [q <= rate for q in benjamini_hochberg(p_values)]

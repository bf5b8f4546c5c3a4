"""Is a change real? Tests of one score against another, and the false-discovery rate across many.

Pure functions (no database, no Django), so the portfolio, the alerts and the reports share them:

- `nps_difference_z`: two NPS-style scores (NPS, happiness: % promoters − % detractors). Their
  difference over √(var₁ + var₂), each variance DOMAIN §2's (p + d − (p − d)²)/n of the proportion
  difference p − d (the variance behind the NPS interval's 196·√(…/n) half-width).
- `two_proportion_z`: two proportions (CSAT, CES, response rate, any share): the pooled
  two-proportion z-test, (p₁ − p₂) / √(p̂(1 − p̂)(1/n₁ + 1/n₂)) with p̂ = (x₁ + x₂)/(n₁ + n₂).
- `p_two_sided(z)`: the two-sided p-value of a standard normal z.
- `benjamini_hochberg(p_values, q)`: which of many tests to call significant so that the expected
  share of false discoveries among them is at most q (Benjamini & Hochberg 1995).

z is positive when the first score is the higher: call with (this period, previous period), and a fall
gives a negative z.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def nps_variance(promoters: float, detractors: float, n: float) -> float:
    """DOMAIN §2: the variance of p − d (proportions, not points), (p + d − (p − d)²)/n."""
    if n <= 0:
        raise ValueError("an NPS variance needs n > 0")
    p, d = promoters / n, detractors / n
    if p < 0 or d < 0 or p + d > 1 + 1e-9:
        raise ValueError("promoters and detractors must be counts between 0 and n together")
    return max(p + d - (p - d) ** 2, 0.0) / n


def nps_difference_z(
    promoters1: float, detractors1: float, n1: float, promoters2: float, detractors2: float, n2: float
) -> float | None:
    """z of score₁ − score₂ for two NPS-style scores from their promoter and detractor counts.

    None when both variances are 0 (e.g. every answer a promoter in both periods): no spread, no test.
    """
    variance = nps_variance(promoters1, detractors1, n1) + nps_variance(promoters2, detractors2, n2)
    if variance <= 0:
        return None
    difference = (promoters1 - detractors1) / n1 - (promoters2 - detractors2) / n2
    return difference / math.sqrt(variance)


def two_proportion_z(successes1: float, n1: float, successes2: float, n2: float) -> float | None:
    """Pooled two-proportion z of p₁ − p₂; None when the pooled proportion is 0 or 1 (no spread)."""
    if n1 <= 0 or n2 <= 0:
        raise ValueError("a two-proportion test needs n > 0 in both groups")
    if not (0 <= successes1 <= n1 and 0 <= successes2 <= n2):
        raise ValueError("successes must lie between 0 and n")
    pooled = (successes1 + successes2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return None
    return (successes1 / n1 - successes2 / n2) / math.sqrt(variance)


def p_two_sided(z: float) -> float:
    """P(|Z| ≥ |z|) for a standard normal Z."""
    return math.erfc(abs(z) / math.sqrt(2))


def benjamini_hochberg(p_values: Sequence[float], q: float = 0.05) -> list[bool]:
    """Benjamini–Hochberg step-up: which hypotheses to reject, in the order given.

    Sort the m p-values; find the largest rank k with p₍ₖ₎ ≤ k·q/m; reject the k smallest (ties at the
    threshold all rejected). Controls the false-discovery rate at q for independent or positively
    dependent tests.
    """
    if not 0 < q < 1:
        raise ValueError("q must lie between 0 and 1")
    m = len(p_values)
    order = sorted(range(m), key=lambda index: p_values[index])
    cutoff = -1.0
    for rank, index in enumerate(order, start=1):
        if p_values[index] <= rank * q / m:
            cutoff = p_values[index]
    return [p <= cutoff for p in p_values]

"""The significance tests against hand-computed values (no database)."""

from __future__ import annotations

import math

import pytest

from serviceloop.experience.significance import (
    benjamini_hochberg,
    nps_difference_z,
    nps_variance,
    p_two_sided,
    two_proportion_z,
)


def test_two_proportion_z_of_45_of_100_against_30_of_100() -> None:
    # pooled p̂ = 75/200 = 0.375; se = √(0.375 · 0.625 · (1/100 + 1/100)) = √0.0046875 = 0.0684653
    # z = (0.45 − 0.30) / 0.0684653 = 2.19089
    z = two_proportion_z(45, 100, 30, 100)
    assert z == pytest.approx(2.19089, abs=1e-5)
    assert two_proportion_z(30, 100, 45, 100) == pytest.approx(-2.19089, abs=1e-5)
    assert p_two_sided(2.19089) == pytest.approx(0.02846, abs=1e-5)


def test_two_proportion_z_with_unequal_groups_and_without_spread() -> None:
    # 12/40 against 30/60: p̂ = 42/100 = 0.42; se = √(0.42 · 0.58 · (1/40 + 1/60)) = √0.01015 = 0.100747
    # z = (0.3 − 0.5) / 0.100747 = −1.98517
    assert two_proportion_z(12, 40, 30, 60) == pytest.approx(-1.98517, abs=1e-5)
    assert two_proportion_z(40, 40, 60, 60) is None  # everyone satisfied in both: no spread, no test
    with pytest.raises(ValueError):
        two_proportion_z(5, 0, 1, 10)
    with pytest.raises(ValueError):
        two_proportion_z(11, 10, 1, 10)


def test_nps_variance_and_difference_z() -> None:
    # 50 promoters, 20 detractors of 100: p + d − (p − d)² = 0.7 − 0.09 = 0.61 → 0.0061
    assert nps_variance(50, 20, 100) == pytest.approx(0.0061)
    # 30 promoters, 30 detractors of 100: 0.6 − 0 = 0.6 → 0.006
    assert nps_variance(30, 30, 100) == pytest.approx(0.006)
    # score +30 against 0: z = 0.30 / √(0.0061 + 0.006) = 0.30 / 0.11 = 2.72727
    assert nps_difference_z(50, 20, 100, 30, 30, 100) == pytest.approx(2.72727, abs=1e-5)
    assert nps_difference_z(30, 30, 100, 50, 20, 100) == pytest.approx(-2.72727, abs=1e-5)
    # The same variance gives DOMAIN's interval: 196 · √0.0061 = 15.3 points around +30.
    assert 196 * math.sqrt(nps_variance(50, 20, 100)) == pytest.approx(15.308, abs=1e-3)
    assert nps_difference_z(10, 0, 10, 20, 0, 20) is None  # all promoters in both: no spread
    with pytest.raises(ValueError):
        nps_variance(8, 5, 10)  # 13 of 10


def test_p_two_sided_at_the_usual_quantiles() -> None:
    assert p_two_sided(1.959964) == pytest.approx(0.05, abs=1e-6)
    assert p_two_sided(-2.575829) == pytest.approx(0.01, abs=1e-6)
    assert p_two_sided(0) == 1.0


@pytest.mark.parametrize(
    ("p_values", "q", "rejected"),
    [
        # sorted: 0.005 ≤ 0.01, 0.01 ≤ 0.02, 0.03 ≤ 0.03, 0.04 ≤ 0.04, 0.20 > 0.05: the first four.
        ([0.01, 0.04, 0.03, 0.005, 0.20], 0.05, [True, True, True, True, False]),
        # 0.001 ≤ 0.01; 0.03 > 0.02, 0.04 > 0.03, 0.045 > 0.04, 0.2 > 0.05: only 0.001.
        ([0.04, 0.001, 0.03, 0.2, 0.045], 0.05, [False, True, False, False, False]),
        # step-up: 0.02 > 0.05/3 = 0.0167 alone, but 0.024 ≤ 2·0.05/3 = 0.0333 rejects both.
        ([0.02, 0.024, 0.9], 0.05, [True, True, False]),
        ([0.3, 0.5], 0.05, [False, False]),
        ([], 0.05, []),
    ],
)
def test_benjamini_hochberg_on_known_lists(p_values: list[float], q: float, rejected: list[bool]) -> None:
    assert benjamini_hochberg(p_values, q) == rejected


def test_benjamini_hochberg_refuses_a_nonsense_rate() -> None:
    with pytest.raises(ValueError):
        benjamini_hochberg([0.01], 0)

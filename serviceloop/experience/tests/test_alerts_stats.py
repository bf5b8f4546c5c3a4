"""The statistics behind drop alerts, against values computed by hand."""

from __future__ import annotations

import math

import pytest

from serviceloop.experience.metrics import METRICS, Figure
from serviceloop.experience.stats import (
    benjamini_hochberg,
    discoveries,
    normal_cdf,
    normal_sf,
    nps_difference_z,
    nps_variance,
    p_drop,
    two_proportion_z,
)


def test_the_normal_tails_match_the_tables() -> None:
    assert normal_cdf(0) == pytest.approx(0.5)
    assert normal_sf(1.959964) == pytest.approx(0.025, abs=1e-6)
    assert normal_sf(1.644854) == pytest.approx(0.05, abs=1e-6)
    assert normal_cdf(-1.0) == pytest.approx(0.158655, abs=1e-6)
    # erfc keeps the far tail (1 − cdf would round to 0 there).
    assert normal_sf(10) == pytest.approx(7.6199e-24, rel=1e-3)
    assert normal_sf(math.inf) == 0.0 and normal_sf(-math.inf) == 1.0


def test_two_proportions_45_of_100_against_30_of_100() -> None:
    # Pooled share 0.375; se = √(0.375 · 0.625 · (1/100 + 1/100)) = 0.068465; z = 0.15 / 0.068465.
    z = two_proportion_z(0.45, 100, 0.30, 100)
    assert z == pytest.approx(2.1909, abs=1e-4)
    assert p_drop(z) == pytest.approx(0.01423, abs=1e-5)
    # The other way round is a rise: the same z with the sign turned, no evidence of a drop.
    assert two_proportion_z(0.30, 100, 0.45, 100) == pytest.approx(-2.1909, abs=1e-4)
    assert p_drop(-z) == pytest.approx(0.98577, abs=1e-5)


def test_unequal_windows_two_proportions() -> None:
    # Baseline 240 of 300 (80%), recent 35 of 60 (58.3%): pooled 275/360 = 0.76389;
    # se = √(0.76389 · 0.23611 · (1/300 + 1/60)) = √0.0036073 = 0.060060; z = 0.21667 / 0.060060 = 3.6075.
    assert two_proportion_z(0.8, 300, 35 / 60, 60) == pytest.approx(3.6075, abs=1e-4)


def test_nps_difference_with_the_domain_variance() -> None:
    # Baseline 50 promoters, 20 detractors of 100: score 0.30, variance 0.5 + 0.2 − 0.3² = 0.61.
    # Recent 30 promoters, 40 detractors of 100: score −0.10, variance 0.7 − 0.01 = 0.69.
    # z = 0.40 / √(0.61/100 + 0.69/100) = 0.40 / 0.114018 = 3.508.
    assert nps_variance(0.5, 0.2) == pytest.approx(0.61)
    assert nps_variance(0.3, 0.4) == pytest.approx(0.69)
    z = nps_difference_z(0.30, 0.61, 100, -0.10, 0.69, 100)
    assert z == pytest.approx(3.5082, abs=1e-4)
    assert p_drop(z) == pytest.approx(2.256e-4, rel=1e-3)
    # All neutral (7–8): variance 0.
    assert nps_variance(0.0, 0.0) == 0.0


def test_no_spread_in_either_window_is_certain_or_nothing() -> None:
    assert nps_difference_z(1.0, 0.0, 40, 1.0, 0.0, 40) == 0.0
    assert nps_difference_z(1.0, 0.0, 40, -1.0, 0.0, 40) == math.inf
    assert two_proportion_z(1.0, 40, 1.0, 40) == 0.0
    with pytest.raises(ValueError):
        two_proportion_z(0.5, 0, 0.5, 10)


def test_benjamini_hochberg_by_hand_in_the_order_given() -> None:
    # Sorted: 0.005 (rank 1), 0.01 (2), 0.03 (3), 0.04 (4); p·m/rank = 0.02, 0.02, 0.04, 0.04.
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.02, 0.04, 0.04, 0.02])


def test_benjamini_hochberg_steps_up_and_stays_monotone() -> None:
    # p·m/rank = 0.08, 0.05, 0.04, 0.035: the largest p that passes (rank 4) carries every smaller
    # one, so all four are discoveries although the smallest alone (0.02 · 4 = 0.08) would not be.
    p_values = [0.03, 0.02, 0.035, 0.025]
    q = benjamini_hochberg(p_values)
    assert q == pytest.approx([0.035, 0.035, 0.035, 0.035])
    assert discoveries(p_values, 0.05) == [True, True, True, True]
    # One large p-value more: m = 5, p·m/rank = 0.1, 0.0625, 0.05, 0.04375, 1.0 → q = 0.04375 for the first four.
    assert discoveries([*p_values, 0.9], 0.05) == [True, True, True, True, False]
    # A q-value never falls below that of a smaller p-value.
    many = [0.001, 0.2, 0.04, 0.011, 0.6, 0.012, 0.03]
    ranked = sorted(zip(many, benjamini_hochberg(many), strict=True))
    assert [q for _p, q in ranked] == sorted(q for _p, q in ranked)
    assert all(q >= p for p, q in ranked)
    assert benjamini_hochberg([]) == []


def test_the_variance_is_read_back_from_the_figure_interval() -> None:
    from serviceloop.experience.drops import score_variance
    from serviceloop.experience.metrics import nps_interval

    # 50 promoters, 20 detractors of 100: variance 0.61; the figure's interval is 30 ± 15.3 points.
    low, high = nps_interval(50, 20, 100)
    figure = Figure("happiness", METRICS["happiness"].label, 30.0, 100, (round(low, 1), round(high, 1)), "points", True)
    assert score_variance(figure) == pytest.approx(0.61, rel=0.01)
    # Clipped at +100 on one side: the other side still says the half-width.
    low, high = nps_interval(38, 0, 40)
    clipped = Figure("happiness", "Happiness", 95.0, 40, (round(low, 1), 100.0), "points", True)
    assert score_variance(clipped) == pytest.approx(0.95 - 0.95**2, rel=0.02)
    # Clipped on both sides (one promoter, one detractor of 2: 0 ± 196 points): the widest, 1 per answer.
    both = Figure("happiness", "Happiness", 0.0, 2, (-100.0, 100.0), "points", True)
    assert score_variance(both) == pytest.approx(1.0)

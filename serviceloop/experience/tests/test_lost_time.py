"""Lost time in money, lost time per driver and social post sentiment against hand-computed fixtures."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from serviceloop.experience.lost_time import driver_lost_cost, driver_lost_time, priced
from serviceloop.experience.metrics import COST_METRICS, METRICS, figure, figures, money
from serviceloop.experience.tally import Tally


@pytest.fixture(autouse=True)
def small_sample(settings: Any) -> None:
    settings.SERVICELOOP_MIN_SAMPLE = 3
    settings.SERVICELOOP_HOURLY_COST = Decimal("60")
    settings.SERVICELOOP_CURRENCY = "EUR"


def lost(*buckets: tuple[str, int], drivers: tuple[str, ...] = ()) -> Tally:
    """A tally of lost-time answers (bucket, how many), each naming `drivers`."""
    tally = Tally()
    for bucket, n in buckets:
        tally.add("responses", "", n)
        tally.add("lost_time", bucket, n)
        for driver in drivers:
            tally.add("driver", driver, n)
            tally.add("driver_lost", f"{driver}:{bucket}", n)
    return tally


def test_three_answers_from_two_organisations_at_their_own_rates_cost_exactly() -> None:
    # Acme at 80 an hour: two answers "less than 30 minutes" (15 min each) → 2 × 15/60 × 80 = 40.00.
    # Borealis at 50: one answer "1–2 hours" (90 min) → 90/60 × 50 = 75.00. Total 115.00; per answer 38.33.
    parts = [(Decimal("80"), lost(("lt30", 2))), (Decimal("50"), lost(("1to2h", 1)))]
    total = figure("lost_cost_total", Tally(), parts)
    assert total.as_dict() == {
        "metric": "lost_cost_total",
        "label": "Lost time in money",
        "value": 115.0,
        "n": 3,
        "interval": None,
        "unit": "EUR",
        "enough": True,
    }
    mean = figure("lost_cost_mean", Tally(), parts)
    assert (mean.value, mean.n, mean.unit) == (38.33, 3, "EUR")  # 115 / 3 = 38.333…
    assert money("lost_cost_total", parts) == (Decimal("115.00"), 3)
    # Priced at one rate instead, the same answers would cost 120 minutes × 60/60 = 120.00: the rate matters.
    assert money("lost_cost_total", [(Decimal("60"), lost(("lt30", 2), ("1to2h", 1)))]) == (Decimal("120.00"), 3)


def test_money_is_decimal_and_rounded_to_the_cent_once_at_the_end() -> None:
    # Three answers of 15 minutes at 0.10 an hour: 3 × 0.025 = 0.075 → 0.08 (half up). In floats
    # round(0.075, 2) is 0.07 (0.075 is 0.07499… in binary), and cents per answer would give 3 × 0.03 = 0.09.
    parts = [(Decimal("0.10"), lost(("lt30", 3)))]
    assert money("lost_cost_total", parts) == (Decimal("0.08"), 3)
    # 33.33 an hour for 45 minutes = 24.9975 → 25.00; a third of it per answer 8.3325 → 8.33.
    parts = [(Decimal("33.33"), lost(("30to60", 1))), (Decimal("33.33"), lost(("none", 2)))]
    assert money("lost_cost_total", parts) == (Decimal("25.00"), 3)
    assert money("lost_cost_mean", parts) == (Decimal("8.33"), 3)


def test_the_unit_is_the_configured_currency(settings: Any) -> None:
    settings.SERVICELOOP_CURRENCY = "GBP"
    shown = figure("lost_cost_total", Tally(), [(Decimal("60"), lost(("lt30", 3)))])
    assert (shown.value, shown.unit) == (45.0, "GBP")
    assert METRICS["lost_cost_total"].describe()["unit"] == "GBP"


def test_money_below_the_minimum_sample_or_without_answers_is_not_enough_data() -> None:
    two = figure("lost_cost_total", Tally(), [(Decimal("60"), lost(("gt1day", 2)))])
    assert (two.value, two.n, two.enough) == (None, 2, False)
    none = figure("lost_cost_mean", Tally(), [])
    assert (none.value, none.n, none.enough) == (None, 0, False)


def test_a_money_metric_needs_the_tally_split_by_hourly_cost() -> None:
    with pytest.raises(ValueError, match="split by hourly cost"):
        figure("lost_cost_total", lost(("lt30", 3)))
    assert "lost_cost_total" in COST_METRICS and all(METRICS[name].priced for name in COST_METRICS)


def test_priced_merges_organisations_of_one_rate_and_costs_the_rest_at_the_default(settings: Any) -> None:
    settings.SERVICELOOP_HOURLY_COST = Decimal("50")
    by_organisation = {
        1: lost(("lt30", 1)),  # its own 80
        2: lost(("1to2h", 1)),  # no own rate: the default 50
        None: lost(("30to60", 1)),  # no organisation (a public widget): the default 50
        3: lost(("lt30", 2)),  # its own 80, like organisation 1
    }
    parts = priced(by_organisation, {1: Decimal("80"), 3: Decimal("80")})
    assert parts == [(Decimal("50"), lost(("1to2h", 1), ("30to60", 1))), (Decimal("80"), lost(("lt30", 3)))]
    # 135 min × 50/60 = 112.50; 45 min × 80/60 = 60.00 → 172.50
    assert money("lost_cost_total", parts) == (Decimal("172.50"), 5)


def test_lost_time_per_driver_counts_each_answer_for_every_driver_it_names() -> None:
    tally = lost(("lt30", 2), drivers=("speed",)).merged(lost(("1to2h", 1), drivers=("speed", "quality")))
    tally = tally.merged(lost(("2to4h", 5)))  # no driver named: in no driver's figure
    assert driver_lost_time(tally) == {
        "communication": (0, 0),
        "speed": (2 * 15 + 90, 3),
        "quality": (90, 1),
        "cost": (0, 0),
        "attitude": (0, 0),
        "knowledge": (0, 0),
    }
    speed = figure("lost_time_driver_speed", tally)
    assert (speed.value, speed.n, speed.unit) == (120.0, 3, "minutes")
    quality = figure("lost_time_driver_quality", tally)
    assert (quality.value, quality.n) == (None, 1)  # one answer, under the minimum sample of 3
    # The total counts the 1–2 h answer once: 30 + 90 + 900 = 1020, while the drivers add up to 210 of it twice over.
    assert figure("lost_time_total", tally).value == 1020.0


def test_lost_time_in_money_per_driver_uses_each_organisations_rate() -> None:
    acme = lost(("lt30", 2), drivers=("speed",))  # at 80: 40.00
    borealis = lost(("1to2h", 1), drivers=("speed", "quality"))  # at 50: 75.00, for speed and for quality
    parts = [(Decimal("50"), borealis), (Decimal("80"), acme)]
    costs = driver_lost_cost(parts)
    assert costs["speed"] == (Decimal("115.00"), 3)
    assert costs["quality"] == (Decimal("75.00"), 1)
    assert costs["cost"] == (Decimal("0.00"), 0)
    shown = figures(["lost_cost_driver_speed", "lost_cost_driver_quality"], acme.merged(borealis), parts)
    assert [(f.value, f.n) for f in shown] == [(115.0, 3), (None, 1)]


def test_social_shares_are_of_the_labelled_posts_matched_to_the_service() -> None:
    tally = Tally.of_pairs(
        [("post_sentiment", "positive", 3), ("post_sentiment", "neutral", 1), ("post_sentiment", "negative", 1)]
    )
    tally.add("sentiment", "negative", 40)  # comments on responses are another metric
    positive = figure("social_positive", tally)
    # 3 of 5 = 60%; Wilson: centre (0.6 + 3.8416/10)/(1 + 3.8416/5) = 0.98416/1.76832 = 0.55655,
    # half 1.96/1.76832 × √(0.048 + 0.038416) = 1.10840 × 0.29397 = 0.32584 → [23.1, 88.2].
    assert positive.as_dict() == {
        "metric": "social_positive",
        "label": "Positive social posts",
        "value": 60.0,
        "n": 5,
        "interval": [23.1, 88.2],
        "unit": "%",
        "enough": True,
    }
    negative = figure("social_negative", tally)
    assert (negative.value, negative.n) == (20.0, 5)
    assert METRICS["social_positive"].direction == "higher_is_better"
    assert METRICS["social_negative"].direction == "lower_is_better"
    empty = figure("social_negative", Tally.of_pairs([("sentiment", "negative", 9)]))
    assert (empty.value, empty.n) == (None, 0)

"""Every tally metric against hand-computed fixtures: exact values, intervals, no answers, all neutral, small n."""

from __future__ import annotations

import math
from typing import Any

import pytest

from serviceloop.experience.metrics import (
    COST_METRICS,
    DESK_METRICS,
    METRICS,
    TALLY_METRICS,
    figure,
    nps_interval,
    wilson,
)
from serviceloop.experience.tally import Tally

Z2 = 1.96**2


@pytest.fixture
def small_sample(settings: Any) -> None:
    settings.SERVICELOOP_MIN_SAMPLE = 5


def tally(measure: str, counts: dict[str, int], **others: dict[str, int]) -> Tally:
    result = Tally.of_pairs((measure, value, n) for value, n in counts.items())
    for name, more in others.items():
        for value, n in more.items():
            result.add(name, value, n)
    return result


def test_wilson_matches_the_textbook_value_for_8_of_10() -> None:
    # p = 0.8, z² = 3.8416; centre = (0.8 + 3.8416/20) / (1 + 0.38416) = 0.99208 / 1.38416 = 0.71674;
    # half = 1.96 / 1.38416 × √(0.8·0.2/10 + 3.8416/400) = 1.41602 × √0.025604 = 0.22658.
    lo, hi = wilson(8, 10)
    assert (round(lo, 3), round(hi, 3)) == (0.490, 0.943)


def test_wilson_stays_inside_zero_and_one() -> None:
    assert wilson(0, 10)[0] == 0.0
    assert wilson(10, 10)[1] == 1.0
    assert wilson(0, 10)[1] == pytest.approx(Z2 / (10 + Z2))  # 3.8416 / 13.8416 = 0.2775


def test_every_metric_has_its_description() -> None:
    assert set(METRICS) == set(TALLY_METRICS) | set(COST_METRICS) | set(DESK_METRICS)
    for metric in METRICS.values():
        assert metric.label and metric.formula
        assert metric.unit in {"%", "points", "minutes", "1–5", "count", "currency"}
        assert metric.direction in {"higher_is_better", "lower_is_better", "neutral"}
        assert metric.interval in {"wilson", "nps", "none"}
    assert "% agree" in METRICS["ces"].label
    assert METRICS["happiness"].interval == "nps" and METRICS["csat"].interval == "wilson"


@pytest.mark.usefixtures("small_sample")
def test_csat_is_the_top_two_box_share_with_its_wilson_interval() -> None:
    shown = figure("csat", tally("csat", {"1": 1, "2": 1, "3": 2, "4": 3, "5": 3}))
    # 4s and 5s: 6 of 10 → 60%. Wilson: centre = (0.6 + 0.19208)/1.38416 = 0.57228,
    # half = 1.41602 × √(0.024 + 0.009604) = 0.25958 → [31.3, 83.2].
    centre = (0.6 + Z2 / 20) / (1 + Z2 / 10)
    half = 1.96 / (1 + Z2 / 10) * math.sqrt(0.6 * 0.4 / 10 + Z2 / 400)
    assert shown.as_dict() == {
        "metric": "csat",
        "label": METRICS["csat"].label,
        "value": 60.0,
        "n": 10,
        "interval": [round(100 * (centre - half), 1), round(100 * (centre + half), 1)],
        "unit": "%",
        "enough": True,
    }
    assert shown.interval == (31.3, 83.2)


@pytest.mark.usefixtures("small_sample")
def test_average_satisfaction_is_the_mean_of_one_to_five() -> None:
    shown = figure("avg_satisfaction", tally("csat", {"1": 1, "2": 1, "3": 2, "4": 3, "5": 3}))
    # (1 + 2 + 2·3 + 3·4 + 3·5) / 10 = 36 / 10
    assert (shown.value, shown.n, shown.interval, shown.unit) == (3.6, 10, None, "1–5")


@pytest.mark.usefixtures("small_sample")
@pytest.mark.parametrize("name", ["nps", "happiness"])
def test_nps_and_happiness_subtract_detractors_from_promoters(name: str) -> None:
    counts = {"0": 1, "5": 1, "6": 1, "7": 2, "8": 1, "9": 2, "10": 2}
    shown = figure(name, tally(name, counts))
    # promoters 4/10, detractors 3/10 → 40 − 30 = 10 points;
    # half-width = 196 × √((0.4 + 0.3 − 0.1²)/10) = 196 × √0.069 = 51.485 → [−41.5, 61.5]
    half = 196 * math.sqrt((0.4 + 0.3 - 0.01) / 10)
    assert shown.value == 10.0 and shown.n == 10 and shown.unit == "points"
    assert shown.interval == (round(10 - half, 1), round(10 + half, 1)) == (-41.5, 61.5)


def test_all_neutral_is_an_nps_of_zero(settings: Any) -> None:
    settings.SERVICELOOP_MIN_SAMPLE = 30
    shown = figure("happiness", tally("happiness", {"7": 20, "8": 10}))
    assert (shown.value, shown.n, shown.interval, shown.enough) == (0.0, 30, (0.0, 0.0), True)


def test_the_nps_interval_is_clipped_to_the_scale() -> None:
    # All promoters: score 100, p + d − (p − d)² = 1 − 1 = 0 → [100, 100]; 1 of 1 detractor → [−100, −100].
    assert nps_interval(5, 0, 5) == (100.0, 100.0)
    assert nps_interval(1, 1, 3)[0] >= -100.0  # p = d = 1/3: half = 196 × √(2/9) = 92.4 around 0
    assert nps_interval(1, 1, 3) == pytest.approx((-196 * math.sqrt(2 / 9), 196 * math.sqrt(2 / 9)))


@pytest.mark.usefixtures("small_sample")
def test_ces_counts_agree_as_five_to_seven() -> None:
    shown = figure("ces", tally("ces", {"1": 1, "4": 1, "5": 2, "6": 3, "7": 1}))
    # 5, 6, 7: 6 of 8 = 75%
    lo, hi = wilson(6, 8)
    assert (shown.value, shown.n, shown.interval) == (75.0, 8, (round(100 * lo, 1), round(100 * hi, 1)))


@pytest.mark.usefixtures("small_sample")
def test_lost_time_uses_the_bucket_midpoints() -> None:
    counts = {"none": 2, "lt30": 2, "1to2h": 1, "gt1day": 1}
    # 2·0 + 2·15 + 1·90 + 1·600 = 720 minutes over 6 answers = 120 per answer
    assert figure("lost_time_total", tally("lost_time", counts)).value == 720
    mean = figure("lost_time_mean", tally("lost_time", counts))
    assert (mean.value, mean.n, mean.unit, mean.interval) == (120.0, 6, "minutes", None)


@pytest.mark.usefixtures("small_sample")
def test_response_rate_is_answered_over_sent_and_suppressed_is_its_own_count() -> None:
    counts = tally("invitation", {"sent": 10, "answered": 8}, suppressed={"throttled": 3, "opted_out": 1})
    rate = figure("response_rate", counts)
    assert (rate.value, rate.n, rate.interval) == (80.0, 10, (49.0, 94.3))  # 8 of 10, the textbook Wilson
    suppressed = figure("suppressed", counts)
    assert (suppressed.value, suppressed.n, suppressed.enough, suppressed.unit) == (4.0, 4, True, "count")


@pytest.mark.usefixtures("small_sample")
def test_sentiment_shares_are_of_labelled_responses_and_drivers_of_all_responses() -> None:
    counts = tally("sentiment", {"positive": 3, "neutral": 1, "negative": 1}, responses={"": 10}, driver={"speed": 4})
    assert [figure(f"sentiment_{label}", counts).value for label in ("positive", "neutral", "negative")] == [
        60.0,  # 3 / 5
        20.0,
        20.0,
    ]
    speed = figure("driver_speed", counts)
    assert (speed.value, speed.n) == (40.0, 10)  # 4 of 10 responses name speed
    assert figure("driver_cost", counts).value == 0.0


@pytest.mark.parametrize("name", TALLY_METRICS)
def test_no_answers_is_no_value_with_n_zero(name: str) -> None:
    shown = figure(name, Tally())
    if name == "suppressed":
        assert (shown.value, shown.n, shown.enough) == (0.0, 0, True)  # a count: zero is a figure
    else:
        assert (shown.value, shown.n, shown.interval, shown.enough) == (None, 0, None, False)


def test_below_the_minimum_sample_there_is_not_enough_data(settings: Any) -> None:
    settings.SERVICELOOP_MIN_SAMPLE = 30
    shown = figure("happiness", tally("happiness", {"10": 29}))
    assert (shown.value, shown.n, shown.interval, shown.enough) == (None, 29, None, False)
    shown = figure("happiness", tally("happiness", {"10": 30}))
    assert (shown.value, shown.n, shown.enough) == (100.0, 30, True)


def test_a_desk_metric_is_not_read_from_a_tally() -> None:
    with pytest.raises(ValueError, match="desk metric"):
        figure("fcr", Tally())


def test_every_metric_is_documented() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "docs" / "experience.md").read_text()
    missing = [name for name, metric in METRICS.items() if f"| `{name}` | {metric.label} |" not in text]
    assert not missing, f"docs/experience.md has no row for {missing}"

"""Properties of the trust engine over generated evidence logs (hypothesis).

- recovery credit never lifts trust above where it would stand without the incident;
- trust stays strictly between 0 and 100, confidence in [0, 1);
- adding good evidence never lowers trust (a week met: never at all; a positive answer: at most
  the few hundredths of a point that the weekly cap can shift, see below);
- the order of the input list does not matter.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from serviceloop.experience.trust_engine import (
    BAD_KINDS,
    DEFAULT_PARAMETERS,
    Evidence,
    Parameters,
    Replay,
    confidence_of,
    replay,
    trust_of,
)

D0 = date(2024, 1, 1)
SPAN = 1000  # days
PLAIN_KINDS = ("week_met", "positive_answer", *(k for k in BAD_KINDS if k != "major_incident"))
unit = st.floats(min_value=0, max_value=1, allow_nan=False)


@st.composite
def plain(draw: Any) -> Evidence:
    kind = draw(st.sampled_from(PLAIN_KINDS))
    share = draw(unit) if kind == "week_met" and draw(st.booleans()) else None
    return Evidence(at=D0 + timedelta(days=draw(st.integers(0, SPAN))), kind=kind, share=share)


@st.composite
def incident(draw: Any, key: str) -> list[Evidence]:
    """A major incident and, perhaps, its resolution and one or two closings of its review's actions."""
    start = D0 + timedelta(days=draw(st.integers(0, SPAN)))
    rows = [Evidence(at=start, kind="major_incident", incident=key, severity=draw(st.floats(0.5, 2)))]
    if draw(st.booleans()):
        fixed = start + timedelta(days=draw(st.integers(0, 60)))
        rows.append(Evidence(at=fixed, kind="major_resolved", incident=key, communication=draw(unit), plan=draw(unit)))
        for _ in range(draw(st.integers(0, 2))):
            closing = fixed + timedelta(days=draw(st.integers(0, 200)))
            rows.append(Evidence(at=closing, kind="review_actions_closed", incident=key, share=draw(unit)))
    return rows


@st.composite
def logs(draw: Any) -> list[Evidence]:
    rows = draw(st.lists(plain(), max_size=40))
    for number in range(draw(st.integers(0, 3))):
        rows += draw(incident(str(number)))
    return rows


days = st.lists(st.integers(0, SPAN + 400).map(lambda n: D0 + timedelta(days=n)), min_size=1, max_size=8)
# Generous parameters too: ρ up to 1 and full weights, where the credit cap is what holds trust down.
parameters = st.sampled_from(
    [
        DEFAULT_PARAMETERS,
        Parameters(recovery_first=1.0, recovery_halving=1.0, recovery_communication=1.0),
        Parameters(half_life_good_days=30, half_life_bad_days=2000, negativity=10),
    ]
)


def exact(result: Replay) -> list[float]:
    return [trust_of(p.r, p.s, DEFAULT_PARAMETERS) for p in result.points]


@settings(max_examples=150, deadline=None)
@given(logs(), days, parameters)
def test_credit_never_lifts_trust_above_the_no_incident_counterfactual(
    rows: list[Evidence], asked: list[date], p: Any
) -> None:
    with_all = replay(rows, asked, p)
    for key in {e.incident for e in rows if e.incident}:
        without = replay([e for e in rows if e.incident != key], asked, p)
        for got, counterfactual in zip(with_all.points, without.points, strict=True):
            assert trust_of(got.r, got.s, p) <= trust_of(counterfactual.r, counterfactual.s, p) + 1e-9


@settings(max_examples=150, deadline=None)
@given(logs(), days, parameters)
def test_trust_stays_strictly_between_0_and_100(rows: list[Evidence], asked: list[date], p: Any) -> None:
    for found in replay(rows, asked, p).points:
        assert found.r >= 0 and found.s >= 0
        assert 0 < trust_of(found.r, found.s, p) < 100
        assert 0 <= confidence_of(found.r, found.s, p) < 1
        assert 0 <= found.trust <= 100 and 0 <= found.confidence <= 1


@settings(max_examples=150, deadline=None)
@given(logs(), days, st.integers(0, SPAN), unit)
def test_a_week_met_never_lowers_trust(rows: list[Evidence], asked: list[date], offset: int, share: float) -> None:
    good = Evidence(at=D0 + timedelta(days=offset), kind="week_met", share=share)
    for before, after in zip(exact(replay(rows, asked)), exact(replay([*rows, good], asked)), strict=True):
        assert after >= before - 1e-9


@settings(max_examples=150, deadline=None)
@given(logs(), days, st.integers(0, SPAN))
def test_a_positive_answer_never_lowers_trust_beyond_the_weekly_caps_shift(
    rows: list[Evidence], asked: list[date], offset: int
) -> None:
    # The cap of 1.0 a week is taken by the answers in the order of their days: an answer early in
    # a full week takes the place of a later one, so the week's 1.0 is up to six days older and
    # has decayed by up to 1 − 2^(-6/365) (0.011 of r): a few hundredths of a point at most.
    good = Evidence(at=D0 + timedelta(days=offset), kind="positive_answer")
    for before, after in zip(exact(replay(rows, asked)), exact(replay([*rows, good], asked)), strict=True):
        assert after >= before - 0.02


@settings(max_examples=100, deadline=None)
@given(logs(), days, st.randoms(use_true_random=False))
def test_the_order_of_the_input_list_does_not_matter(rows: list[Evidence], asked: list[date], shuffler: Any) -> None:
    shuffled = list(rows)
    shuffler.shuffle(shuffled)
    first, second = replay(rows, asked), replay(shuffled, asked)
    for a, b in zip(first.points, second.points, strict=True):
        assert abs(a.r - b.r) < 1e-9 and abs(a.s - b.s) < 1e-9
    assert {k: m.rho for k, m in first.majors.items()} == {k: m.rho for k, m in second.majors.items()}

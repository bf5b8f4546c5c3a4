"""The trust engine's arithmetic, rule by rule (DOMAIN §5; docs/trust.md "The model")."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta

import pytest

from serviceloop.experience.trust_engine import (
    DEFAULT_PARAMETERS,
    Evidence,
    Parameters,
    TrustInputError,
    confidence_of,
    contributions,
    parameters_from,
    replay,
    trust_of,
)
from serviceloop.experience.trust_simulate import simulate_input

D0 = date(2026, 1, 5)  # a Monday


def at(days: int) -> date:
    return D0 + timedelta(days=days)


def ev(days: int, kind: str, **fields: object) -> Evidence:
    return Evidence(at=at(days), kind=kind, **fields)  # type: ignore[arg-type]


def point(evidence: list[Evidence], days: int, parameters: Parameters = DEFAULT_PARAMETERS) -> tuple[float, float]:
    """(r, s) at day `days`."""
    found = replay(evidence, [at(days)], parameters).points[0]
    return found.r, found.s


def exact_trust(evidence: list[Evidence], days: int, parameters: Parameters = DEFAULT_PARAMETERS) -> float:
    r, s = point(evidence, days, parameters)
    return trust_of(r, s, parameters)


def mature(weeks: int = 104) -> list[Evidence]:
    return [ev(-7 * i - 1, "week_met") for i in range(weeks)]


# -- decay, weights, prior, confidence ----------------------------------------------------------------


def test_good_evidence_halves_in_365_days_and_bad_in_540() -> None:
    assert point([ev(0, "week_met")], 365) == (pytest.approx(0.5, rel=1e-12), 0.0)
    assert point([ev(0, "week_met")], 730)[0] == pytest.approx(0.25, rel=1e-12)
    r, s = point([ev(0, "small_failure")], 540)
    assert (r, s) == (0.0, pytest.approx(1.5 / 2, rel=1e-12))


def test_bad_evidence_weighs_three_times_its_weight() -> None:
    weights = {"negative_answer": 0.3, "negative_post": 0.3, "small_failure": 0.5, "availability_missed": 2.0}
    for kind, weight in weights.items():
        assert point([ev(0, kind)], 0) == (0.0, pytest.approx(3 * weight)), kind
    assert point([ev(0, "major_incident", incident="1", severity=1.5)], 0)[1] == pytest.approx(3 * 8 * 1.5)
    assert point([ev(0, "week_met", share=0.75)], 0)[0] == pytest.approx(0.75)
    assert point([ev(0, "week_met")], 0)[0] == 1.0  # no share: every target met


def test_the_weak_prior_starts_trust_at_50_with_no_confidence() -> None:
    start = replay([], [D0]).points[0]
    assert (start.trust, start.confidence) == (50.0, 0.0)
    assert trust_of(0, 0, DEFAULT_PARAMETERS) == 50.0
    # 100·(r + 15)/(r + s + 30) and (r + s)/(r + s + 30)
    assert trust_of(10, 5, DEFAULT_PARAMETERS) == pytest.approx(100 * 25 / 45)
    assert confidence_of(10, 5, DEFAULT_PARAMETERS) == pytest.approx(15 / 45)
    stronger = parameters_from({"prior": 30})
    assert trust_of(10, 5, stronger) == pytest.approx(100 * 40 / 75)


def test_points_are_rounded_to_a_tenth_and_confidence_to_a_hundredth() -> None:
    found = replay([ev(0, "week_met"), ev(0, "small_failure")], [D0]).points[0]
    assert found.trust == round(100 * 16 / 32.5, 1)
    assert found.confidence == round(2.5 / 32.5, 2)


def test_severity_is_clamped_to_half_and_two() -> None:
    assert point([ev(0, "major_incident", incident="1", severity=9)], 0)[1] == pytest.approx(3 * 8 * 2)
    assert point([ev(0, "major_incident", incident="1", severity=0.1)], 0)[1] == pytest.approx(3 * 8 * 0.5)
    assert point([ev(0, "major_incident", incident="1")], 0)[1] == pytest.approx(24)  # default 1


# -- positive answers: capped per ISO week -------------------------------------------------------------


# The cap alone, without the volume rule (which weighs each answer of a week with more than four less).
NO_VOLUME = parameters_from({"answers_per_week": 1000, "tickets_per_week": 1000})


def test_positive_answers_count_at_most_one_a_calendar_week() -> None:
    five_in_a_day = [ev(0, "positive_answer") for _ in range(5)]
    assert point(five_in_a_day, 0, NO_VOLUME)[0] == pytest.approx(1.0)
    # Monday to Sunday is one ISO week; the next Monday starts another.
    week = [ev(day, "positive_answer") for day in range(7)]
    r, _ = point([*week, ev(7, "positive_answer")], 7, NO_VOLUME)
    weekly = sum(gain * 2 ** (-(7 - day) / 365) for day, gain in enumerate([0.3, 0.3, 0.3, 0.1, 0, 0, 0]))
    assert r == pytest.approx(weekly + 0.3)


def test_the_positive_cap_follows_the_iso_week_across_new_year() -> None:
    # 2026-12-28 (Monday) to 2027-01-03 (Sunday) is ISO week 53 of 2026: one cap.
    answers = [Evidence(at=date(2026, 12, 31), kind="positive_answer") for _ in range(3)]
    answers += [Evidence(at=date(2027, 1, 3), kind="positive_answer") for _ in range(3)]
    r = replay(answers, [date(2027, 1, 3)], NO_VOLUME).points[0].r
    assert r == pytest.approx(0.9 * 2 ** (-3 / 365) + 0.1)


# -- the volume rule: a week weighs the same whatever the size of the customer ----------------------------


def test_up_to_four_answers_a_week_weigh_as_domain_says() -> None:
    four = [ev(0, "negative_answer"), ev(1, "negative_answer"), ev(2, "neutral_answer"), ev(2, "neutral_answer")]
    assert point(four, 2)[1] == pytest.approx(3 * 0.3 * (2 ** (-2 / 540) + 2 ** (-1 / 540)))


def test_a_week_of_many_answers_weighs_as_four_in_proportion() -> None:
    # 40 answers in one day, 10 of them negative: each weighs 4/40, so the week's bad evidence is that
    # of one negative answer (a quarter of four), and its positives those of three (capped at 1.0).
    day = [ev(0, "negative_answer") for _ in range(10)] + [ev(0, "positive_answer") for _ in range(30)]
    r, s = point(day, 0)
    assert s == pytest.approx(3 * 0.3 * 10 * 4 / 40)
    assert r == pytest.approx(min(1.0, 0.3 * 30 * 4 / 40))
    # Neutral answers count in the week's number: they make each other answer weigh less.
    r2, s2 = point([*day, *[ev(0, "neutral_answer") for _ in range(40)]], 0)
    assert s2 == pytest.approx(s / 2) and r2 == pytest.approx(r / 2)


def test_ticket_failures_weigh_by_the_week_s_tickets_and_other_small_failures_do_not() -> None:
    tickets = [ev(0, "ticket_opened") for _ in range(10)]
    breaches = [ev(1, "small_failure", per_ticket=True) for _ in range(4)]
    assert point([*tickets, *breaches], 1)[1] == pytest.approx(3 * 0.5 * 4 / 10)
    # A small failure that is no ticket's (a minor incident) weighs in full, whatever the tickets.
    assert point([*tickets, ev(1, "small_failure")], 1)[1] == pytest.approx(3 * 0.5)
    # Without any ticket opened that week (simulate's plain input), DOMAIN's weight.
    assert point(breaches, 1)[1] == pytest.approx(4 * 3 * 0.5)
    # The next week is counted on its own.
    assert point([*tickets, ev(7, "small_failure", per_ticket=True)], 7)[1] == pytest.approx(3 * 0.5)


def test_a_ticket_failure_is_weighed_by_the_week_its_ticket_was_opened() -> None:
    # Ten tickets opened on a Friday, five breached the next Monday (a week with no ticket opened):
    # the breaches are weighed by the ten tickets of their tickets' week, as if breached the same week.
    tickets = [ev(4, "ticket_opened") for _ in range(10)]
    later = [ev(7, "small_failure", per_ticket=True, opened=at(4)) for _ in range(5)]
    same_week = [ev(4, "small_failure", per_ticket=True) for _ in range(5)]
    assert point([*tickets, *later], 7)[1] == pytest.approx(point([*tickets, *same_week], 4)[1])
    assert point([*tickets, *later], 7)[1] == pytest.approx(3 * 0.5 * 5 / 10)
    # Without its opening day it would be weighed by its own week, which opened no ticket: in full.
    unweighed = [ev(7, "small_failure", per_ticket=True) for _ in range(5)]
    assert point([*tickets, *unweighed], 7)[1] == pytest.approx(5 * 3 * 0.5)


def test_simulate_takes_a_ticket_failure_s_opening_day() -> None:
    document = {
        "events": [
            *[{"at": "2026-01-09", "kind": "ticket_opened"} for _ in range(10)],
            *[{"at": "2026-01-12", "kind": "small_failure", "ticket": True, "opened": "2026-01-09"} for _ in range(5)],
        ],
        "at": ["2026-01-12"],
    }
    _, evidence, _ = simulate_input(document)
    assert evidence[-1].opened == date(2026, 1, 9) and evidence[-1].per_ticket
    with pytest.raises(TrustInputError, match=r"events\[0\] \(small_failure\)\.opened: only a ticket's failure"):
        simulate_input(
            {"events": [{"at": "2026-01-12", "kind": "small_failure", "opened": "2026-01-09"}], "at": ["2026-01-12"]}
        )
    with pytest.raises(TrustInputError, match=r"opened: the ticket cannot be opened after its failure"):
        simulate_input(
            {
                "events": [{"at": "2026-01-12", "kind": "small_failure", "ticket": True, "opened": "2026-01-13"}],
                "at": ["2026-01-12"],
            }
        )


def test_weightless_kinds_move_nothing_on_their_own() -> None:
    r, s = point([ev(0, "neutral_answer"), ev(0, "ticket_opened")], 0)
    assert (r, s) == (0.0, 0.0)


# -- major incidents: ρ, credit, its cap, double deviation ------------------------------------------------


def majors(evidence: list[Evidence], parameters: Parameters = DEFAULT_PARAMETERS) -> dict[str, float]:
    return {key: m.rho for key, m in replay(evidence, [], parameters).majors.items()}


def test_rho_halves_for_each_further_major_within_365_days_and_not_beyond() -> None:
    within = [ev(0, "major_incident", incident="a"), ev(100, "major_incident", incident="b")]
    within.append(ev(364, "major_incident", incident="c"))
    assert majors(within) == {"a": 0.5, "b": 0.25, "c": 0.125}
    beyond = [ev(0, "major_incident", incident="a"), ev(366, "major_incident", incident="b")]
    assert majors(beyond) == {"a": 0.5, "b": 0.5}
    # Only the majors inside the window count: "a" is 400 days before "c", "b" 100.
    sliding = [ev(0, "major_incident", incident="a"), ev(300, "major_incident", incident="b")]
    sliding.append(ev(400, "major_incident", incident="c"))
    assert majors(sliding) == {"a": 0.5, "b": 0.25, "c": 0.25}
    assert majors(within, parameters_from({"recovery_window_days": 50})) == {"a": 0.5, "b": 0.5, "c": 0.5}


def test_credit_comes_in_two_parts_each_on_its_own_date() -> None:
    incident = ev(0, "major_incident", incident="1")
    fixed = ev(2, "major_resolved", incident="1", communication=1.0, plan=0.5)
    actions = ev(30, "review_actions_closed", incident="1", share=0.5)
    bad = 24.0
    decay = 2 ** (-1 / 540)
    s_at_2 = point([incident, fixed, actions], 2)[1]
    assert s_at_2 == pytest.approx(bad * decay**2 - 0.5 * (0.4 * 1 + 0.3 * 0.5) * bad)
    s_at_29 = point([incident, fixed, actions], 29)[1]
    assert s_at_29 == pytest.approx(s_at_2 * decay**27)
    s_at_30 = point([incident, fixed, actions], 30)[1]
    assert s_at_30 == pytest.approx(s_at_2 * decay**28 - 0.5 * 0.3 * 0.5 * bad)
    outcome = replay([incident, fixed, actions], [at(30)]).majors["1"]
    assert outcome.credit_resolution == pytest.approx(0.5 * 0.55 * bad)
    assert outcome.credit_actions == pytest.approx(0.5 * 0.3 * 0.5 * bad)
    assert outcome.pending == pytest.approx(0.5 * 0.3 * 0.5 * bad)  # the other half of the actions


def test_review_actions_closed_tops_the_credit_up_and_never_adds_twice() -> None:
    rows = [ev(0, "major_incident", incident="1"), ev(1, "major_resolved", incident="1", communication=1, plan=1)]
    half, full = (
        ev(10, "review_actions_closed", incident="1", share=0.5),
        ev(20, "review_actions_closed", incident="1", share=1.0),
    )
    again = ev(25, "review_actions_closed", incident="1", share=0.5)
    outcome = replay([*rows, half, full, again], []).majors["1"]
    assert outcome.credit_actions == pytest.approx(0.5 * 0.3 * 1.0 * 24)
    assert outcome.share_closed == 1.0 and outcome.actions_at == at(20)
    assert outcome.pending == 0.0
    assert point([*rows, half, full, again], 30) == point([*rows, half, full], 30)
    # Closing everything at once gives the same credit as closing it in two steps.
    direct = replay([*rows, ev(20, "review_actions_closed", incident="1", share=1.0)], []).majors["1"]
    assert direct.credit_actions == pytest.approx(outcome.credit_actions)


def test_credit_never_lifts_trust_above_where_it_would_stand_without_the_incident() -> None:
    # ρ = 1 and full scores want the incident's whole 3·w back at resolution, 200 days late: only
    # what is left of it after decay is taken away, so trust equals the no-incident trust exactly.
    generous = parameters_from({"recovery_first": 1, "recovery_communication": 0.7, "recovery_plan": 0.3})
    history = mature()
    incident = ev(0, "major_incident", incident="1", severity=2)
    rows = [incident, ev(200, "major_resolved", incident="1", communication=1, plan=1)]
    rows.append(ev(230, "review_actions_closed", incident="1", share=1))
    for days in (200, 230, 400):
        with_credit = exact_trust([*history, *rows], days, generous)
        assert with_credit == pytest.approx(exact_trust(history, days, generous), abs=1e-9)
        assert with_credit <= exact_trust(history, days, generous) + 1e-9
    outcome = replay([*history, *rows], [at(400)], generous).majors["1"]
    assert outcome.credit_resolution == pytest.approx(48 * 2 ** (-200 / 540))
    assert outcome.credit_actions == 0.0
    assert outcome.remaining == pytest.approx(0.0, abs=1e-9)


def test_poor_communication_earns_no_credit_and_adds_a_quarter_of_the_weight() -> None:
    rows = [ev(0, "major_incident", incident="1"), ev(0, "major_resolved", incident="1", communication=0.29, plan=1)]
    rows.append(ev(5, "review_actions_closed", incident="1", share=1))
    s = point(rows, 5)[1]
    assert s == pytest.approx((24 + 3 * 0.25 * 8) * 2 ** (-5 / 540))
    outcome = replay(rows, []).majors["1"]
    assert outcome.poor and outcome.credit == 0.0 and outcome.pending == 0.0
    assert outcome.double_deviation == pytest.approx(6.0)
    # At the threshold it is not poor.
    fair = [rows[0], ev(0, "major_resolved", incident="1", communication=0.3, plan=0)]
    fair_outcome = replay(fair, []).majors["1"]
    assert not fair_outcome.poor and fair_outcome.credit == pytest.approx(0.5 * 0.4 * 0.3 * 24)


def test_credit_for_an_undeclared_or_unresolved_incident_is_skipped() -> None:
    orphan = [ev(0, "major_resolved", incident="x", communication=1, plan=1)]
    assert replay(orphan, [D0]).applied == 0
    early = [ev(0, "major_incident", incident="1"), ev(1, "review_actions_closed", incident="1", share=1)]
    assert point(early, 1)[1] == pytest.approx(24 * 2 ** (-1 / 540))
    twice = [ev(0, "major_incident", incident="1"), ev(1, "major_incident", incident="1")]
    assert point(twice, 1)[1] == pytest.approx(24 * 2 ** (-1 / 540))


# -- days and order ---------------------------------------------------------------------------------------


def test_evidence_of_a_day_counts_before_that_days_point() -> None:
    rows = [ev(0, "week_met"), ev(3, "small_failure")]
    before, on, after = replay(rows, [at(2), at(3), at(4)]).points
    assert before.s == 0.0 and on.s == pytest.approx(1.5)
    assert after.s == pytest.approx(1.5 * 2 ** (-1 / 540))


def test_points_come_back_in_day_order_for_every_day_asked_and_final_is_the_last_day() -> None:
    result = replay([ev(5, "week_met")], [at(9), at(0), at(9)], until=at(20))
    assert [p.at for p in result.points] == [at(0), at(9)]
    assert result.points[0].r == 0.0
    assert result.final is not None and result.final.at == at(20)
    assert result.final.r == pytest.approx(2 ** (-15 / 365))


def test_the_order_of_the_input_does_not_matter_even_within_a_day() -> None:
    # A short incident: declared, resolved and its actions closed on one day, listed in any order.
    rows = [*mature(20), ev(0, "small_failure"), ev(0, "positive_answer"), ev(0, "positive_answer")]
    rows += [ev(0, "major_incident", incident="1", severity=1.5), ev(0, "major_incident", incident="2")]
    rows += [ev(0, "major_resolved", incident="1", communication=0.9, plan=1)]
    rows += [
        ev(0, "review_actions_closed", incident="1", share=0.5),
        ev(0, "review_actions_closed", incident="1", share=1),
    ]
    rows += [ev(1, "major_resolved", incident="2", communication=0.2, plan=0), ev(3, "negative_post")]
    expected = replay(rows, [at(0), at(2), at(10)])
    assert expected.majors["1"].credit_resolution > 0 and expected.majors["1"].share_closed == 1
    shuffler = random.Random(14)
    for _ in range(30):
        shuffled = list(rows)
        shuffler.shuffle(shuffled)
        result = replay(shuffled, [at(10), at(2), at(0)])
        assert [(p.at, p.trust, p.confidence) for p in result.points] == [
            (p.at, p.trust, p.confidence) for p in expected.points
        ]
        assert [p.s for p in result.points] == pytest.approx([p.s for p in expected.points])
        assert {k: (m.rho, round(m.credit, 9)) for k, m in result.majors.items()} == {
            k: (m.rho, round(m.credit, 9)) for k, m in expected.majors.items()
        }


# -- contributions -----------------------------------------------------------------------------------------


def test_contributions_name_the_incident_its_credit_earned_and_pending_and_each_kind() -> None:
    rows = [*mature(), *(ev(-3 * i, "small_failure") for i in range(4))]
    rows += [ev(0, "major_incident", incident="12", label="major incident MI-12")]
    rows += [ev(2, "major_resolved", incident="12", communication=1, plan=1)]
    found = {c.group: c for c in contributions(rows, at(10), kind_labels={"small_failure": "small failures"})}
    total = exact_trust(rows, 10)
    without_major = exact_trust([e for e in rows if e.incident != "12"], 10)
    without_credit = exact_trust([e for e in rows if e.kind != "major_resolved"], 10)
    assert found["major:12"].label == "major incident MI-12"
    assert found["major:12"].effect == round(without_credit - without_major, 1) < -10
    credit = found["credit:12"]
    assert credit.label == "recovery credit for major incident MI-12"
    assert credit.effect == round(total - without_credit, 1) > 3
    assert credit.pending > 1  # the review's actions (0.3 of q) are still to close
    closed = [*rows, ev(10, "review_actions_closed", incident="12", share=1)]
    assert credit.pending == round(exact_trust(closed, 10) - total, 1)
    assert found["kind:small_failure"].label == "small failures" and found["kind:small_failure"].count == 4
    assert found["kind:week_met"].count == 104 and found["kind:week_met"].effect > 20
    effects = [abs(c.effect) for c in found.values()]
    assert effects == sorted(effects, reverse=True)
    after = {c.group: c for c in contributions(closed, at(10))}
    assert after["credit:12"].pending == 0.0 and after["credit:12"].count == 2


def test_a_poorly_communicated_incident_has_no_credit_and_its_drop_includes_the_double_deviation() -> None:
    rows = [*mature(), ev(0, "major_incident", incident="1"), ev(1, "major_resolved", incident="1", communication=0)]
    found = {c.group: c for c in contributions(rows, at(5))}
    assert "credit:1" not in found
    plain = {c.group: c for c in contributions(rows[:-1], at(5))}
    assert found["major:1"].effect < plain["major:1"].effect - 2
    assert found["major:1"].effect == round(exact_trust(rows, 5) - exact_trust(mature(), 5), 1)


def test_contributions_ignore_evidence_after_the_day() -> None:
    rows = [*mature(10), ev(5, "small_failure")]
    assert {c.group for c in contributions(rows, at(0))} == {"kind:week_met"}


# -- parameters --------------------------------------------------------------------------------------------


def test_parameters_override_the_defaults_and_refuse_nonsense_by_name() -> None:
    assert parameters_from(None) is DEFAULT_PARAMETERS
    assert parameters_from({}) == DEFAULT_PARAMETERS
    changed = parameters_from({"negativity": 2, "recovery_window_days": 180.0})
    assert changed == replace(DEFAULT_PARAMETERS, negativity=2.0, recovery_window_days=180)
    assert isinstance(changed.recovery_window_days, int)
    refusals = {
        "nope": ("parameters: unknown parameter 'nope' (known: half_life_good_days, ", {"nope": 1}),
        "string": ("parameters.prior: must be a number, not '15'", {"prior": "15"}),
        "bool": ("parameters.prior: must be a number, not True", {"prior": True}),
        "huge": ("parameters.prior: must be a number, not 1000", {"prior": 10**400}),
        "nan": ("parameters.prior: must be a number, not nan", {"prior": float("nan")}),
        "low": ("parameters.half_life_bad_days: must be at least 1, not 0", {"half_life_bad_days": 0}),
        "high": ("parameters.recovery_first: must be between 0 and 1, not 1.5", {"recovery_first": 1.5}),
        "negative": ("parameters.small_failure: must be at least 0, not -1", {"small_failure": -1}),
        "order": ("parameters.severity_min: must not be above severity_max", {"severity_min": 3}),
    }
    for name, (message, overrides) in refusals.items():
        with pytest.raises(TrustInputError) as error:
            parameters_from(overrides)
        assert error.value.message.startswith(message), name
    with pytest.raises(TrustInputError, match="must be an object"):
        parameters_from([1])  # type: ignore[arg-type]


def test_a_changed_parameter_changes_the_replay_as_it_says() -> None:
    rows = [ev(0, "small_failure")]
    assert point(rows, 0, parameters_from({"negativity": 2}))[1] == pytest.approx(1.0)
    assert point(rows, 100, parameters_from({"half_life_bad_days": 100}))[1] == pytest.approx(0.75)
    assert point(rows, 0, parameters_from({"small_failure": 1}))[1] == pytest.approx(3.0)

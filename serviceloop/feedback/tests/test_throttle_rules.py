"""Every DOMAIN §3 fatigue rule, as the pure throttle decides it (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from serviceloop.feedback.throttle import RELATIONSHIP, TRANSACTIONAL, PastInvitation, Policy, decide, lookback_days

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def ago(days: float = 0, hours: float = 0) -> datetime:
    return NOW - timedelta(days=days, hours=hours)


def tx(days: float = 0, hours: float = 0) -> PastInvitation:
    return PastInvitation(TRANSACTIONAL, ago(days, hours))


def rel(days: float = 0, hours: float = 0) -> PastInvitation:
    return PastInvitation(RELATIONSHIP, ago(days, hours))


def test_a_person_never_invited_is_invited() -> None:
    assert decide(kind=TRANSACTIONAL, now=NOW, recent=[]).allowed


def test_second_transactional_invitation_within_7_days_is_throttled() -> None:
    decision = decide(kind=TRANSACTIONAL, now=NOW, recent=[tx(days=6)])
    assert (decision.allowed, decision.reason) == (False, "throttled")
    assert "7 days" in decision.detail


def test_transactional_invitation_after_7_days_is_allowed() -> None:
    assert decide(kind=TRANSACTIONAL, now=NOW, recent=[tx(days=7, hours=1)]).allowed


def test_fourth_transactional_invitation_within_30_days_is_throttled() -> None:
    decision = decide(kind=TRANSACTIONAL, now=NOW, recent=[tx(days=8), tx(days=16), tx(days=24)])
    assert (decision.allowed, decision.reason) == (False, "throttled")
    assert "30 days" in decision.detail


def test_third_transactional_invitation_within_30_days_is_allowed() -> None:
    assert decide(kind=TRANSACTIONAL, now=NOW, recent=[tx(days=8), tx(days=16)]).allowed


def test_invitations_older_than_30_days_do_not_count() -> None:
    assert decide(kind=TRANSACTIONAL, now=NOW, recent=[tx(days=8), tx(days=16), tx(days=31)]).allowed


def test_second_relationship_invitation_within_90_days_is_throttled() -> None:
    decision = decide(kind=RELATIONSHIP, now=NOW, recent=[rel(days=89)])
    assert (decision.allowed, decision.reason) == (False, "throttled")
    assert "90 days" in decision.detail


def test_relationship_invitation_after_90_days_is_allowed() -> None:
    assert decide(kind=RELATIONSHIP, now=NOW, recent=[rel(days=91)]).allowed


def test_never_two_invitations_within_24_hours_whatever_their_kind() -> None:
    after_relationship = decide(kind=TRANSACTIONAL, now=NOW, recent=[rel(hours=23)])
    after_transactional = decide(kind=RELATIONSHIP, now=NOW, recent=[tx(hours=23)])
    assert (after_relationship.reason, after_transactional.reason) == ("throttled", "throttled")
    assert "24 hours" in after_relationship.detail


def test_kinds_count_apart_once_24_hours_have_passed() -> None:
    assert decide(kind=RELATIONSHIP, now=NOW, recent=[tx(days=2)]).allowed
    assert decide(kind=TRANSACTIONAL, now=NOW, recent=[rel(days=2)]).allowed


def test_opted_out_person_is_never_invited() -> None:
    decision = decide(kind=TRANSACTIONAL, now=NOW, recent=[], opted_out=True)
    assert (decision.allowed, decision.reason) == (False, "opted_out")


def test_sample_rate_zero_samples_everyone_out() -> None:
    decision = decide(kind=TRANSACTIONAL, now=NOW, recent=[], policy=Policy(sample_rate=0), sample_key="t1")
    assert (decision.allowed, decision.reason) == (False, "sampled_out")


def test_sampling_is_deterministic_and_close_to_its_rate() -> None:
    policy = Policy(sample_rate=30)
    first = [
        decide(kind=TRANSACTIONAL, now=NOW, recent=[], policy=policy, sample_key=f"k{i}").allowed for i in range(1000)
    ]
    again = [
        decide(kind=TRANSACTIONAL, now=NOW, recent=[], policy=policy, sample_key=f"k{i}").allowed for i in range(1000)
    ]
    assert first == again
    assert 250 < sum(first) < 350


def test_a_service_may_allow_more_invitations() -> None:
    policy = Policy(transactional_short_limit=2, min_gap_hours=0)
    assert decide(kind=TRANSACTIONAL, now=NOW, recent=[tx(hours=2)], policy=policy).allowed


def test_lookback_covers_the_longest_window() -> None:
    assert lookback_days(Policy()) == 90
    assert lookback_days(Policy(relationship_days=10, min_gap_hours=24 * 40)) == 40

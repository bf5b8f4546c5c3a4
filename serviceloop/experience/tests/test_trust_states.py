"""Trust states: the stored state of a pair is trust_engine.replay of its log, to the point; weekly
points, the trend, the explanation, parameter versions, the refresh paths, a constant query count."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.testing import make_organisation
from serviceloop.catalogue.models import Service
from serviceloop.core.errors import InvalidInput, NotAllowed
from serviceloop.core.models import Event
from serviceloop.experience import trust_states
from serviceloop.experience.tasks import trust_refresh
from serviceloop.experience.tests.trust_rows import (
    MATURE,
    SCENARIOS,
    START,
    major,
    met_weeks,
    scenario_mature_major,
    scenario_mature_recovered,
    store,
)
from serviceloop.experience.trust_engine import Evidence, parameters_from, replay
from serviceloop.experience.trust_models import TrustEvidence, TrustParameterSet, TrustPoint, TrustState
from serviceloop.experience.trust_states import (
    band_of,
    evidence_of_pair,
    parameters_adopt,
    parameters_current,
    point_days,
    state_refresh,
    states_recompute_all,
    states_refresh,
    states_refresh_stale,
)
from serviceloop.feedback.tests.factories_channels import make_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def payroll(sam: User) -> Service:
    return make_service("Payroll", manager=sam)


@pytest.fixture
def dunmore() -> Organisation:
    return make_organisation("Dunmore Council")


def at_noon(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=UTC)


# ------------------------------------------------------------------ the scenarios, stored and replayed


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_stored_state_is_the_engines_replay_to_the_point(name: str, dunmore: Organisation, payroll: Service) -> None:
    evidence, today = SCENARIOS[name]()
    store(dunmore, payroll, evidence)
    state = state_refresh(dunmore.pk, payroll.pk, today=today)
    assert state is not None
    points = list(TrustPoint.objects.filter(organisation=dunmore, service=payroll).order_by("day"))
    expected = replay(evidence, [p.day for p in points])
    assert [(p.day, p.trust, p.confidence) for p in points] == [(e.at, e.trust, e.confidence) for e in expected.points]
    final = replay(evidence, [today]).points[0]
    assert (state.trust, state.confidence, state.as_of) == (final.trust, final.confidence, today)
    assert state.r == pytest.approx(final.r) and state.s == pytest.approx(final.s)
    assert state.evidence_count == len(evidence) and state.first_day == min(e.at for e in evidence)
    assert state.parameters_version == 1 and {p.parameters_version for p in points} == {1}


def trust_on(organisation: Organisation, service: Service, day: date) -> float:
    state = state_refresh(organisation.pk, service.pk, today=day)
    assert state is not None
    return state.trust


def test_the_domain_figures_through_stored_states(dunmore: Organisation, payroll: Service) -> None:
    """DOMAIN §5 within ±3 points, read from stored states (the engine's own tests do the same on lists)."""
    evidence, day = scenario_mature_major()
    store(dunmore, payroll, evidence)
    assert trust_on(dunmore, payroll, MATURE) == pytest.approx(83, abs=3)
    after = trust_on(dunmore, payroll, day)
    assert after == pytest.approx(65, abs=3)

    recovered = make_organisation("Recovered Ltd")
    evidence, closed = scenario_mature_recovered()
    store(recovered, payroll, evidence)
    back = trust_on(recovered, payroll, closed)
    undisturbed = replay(met_weeks(START, 104), [closed]).points[0].trust
    assert (back - after) == pytest.approx((undisturbed - after) / 2, abs=3)

    steady = make_organisation("Steady plc")
    store(steady, payroll, SCENARIOS["small_failures"]()[0])
    assert trust_on(steady, payroll, SCENARIOS["small_failures"]()[1]) == pytest.approx(71, abs=3)


def test_two_majors_a_month_apart_the_second_earns_half(dunmore: Organisation, payroll: Service) -> None:
    evidence, today = SCENARIOS["two_majors"]()
    store(dunmore, payroll, evidence)
    state = state_refresh(dunmore.pk, payroll.pk, today=today)
    assert state is not None
    newest, oldest = state.majors
    assert (newest["incident_key"], oldest["incident_key"]) == ("21", "20")  # newest first
    assert (oldest["rho"], newest["rho"]) == (0.5, 0.25)
    assert newest["credit_earned"] > 0 and newest["credit_pending"] == 0.0
    assert newest["credit_earned"] / newest["effect"] == pytest.approx(
        oldest["credit_earned"] / oldest["effect"] / 2, abs=0.05
    )


# ------------------------------------------------------------------------ points and the trend


def test_points_are_each_sunday_from_the_first_evidence_and_today() -> None:
    assert point_days(date(2026, 11, 4), date(2026, 11, 25)) == [
        date(2026, 11, 8),
        date(2026, 11, 15),
        date(2026, 11, 22),
        date(2026, 11, 25),
    ]
    # Today a Sunday: one point for it; the first evidence on a Sunday: that Sunday's point.
    assert point_days(date(2026, 11, 8), date(2026, 11, 22)) == [
        date(2026, 11, 8),
        date(2026, 11, 15),
        date(2026, 11, 22),
    ]
    assert point_days(date(2026, 11, 25), date(2026, 11, 25)) == [date(2026, 11, 25)]


def test_points_keep_the_last_point_weeks(dunmore: Organisation, payroll: Service, settings: Any) -> None:
    settings.SERVICELOOP_TRUST_POINT_WEEKS = 10
    evidence, today = scenario_mature_major()  # a Monday, after 104 Sundays of evidence
    store(dunmore, payroll, evidence)
    state_refresh(dunmore.pk, payroll.pk, today=today)
    days = list(TrustPoint.objects.filter(organisation=dunmore, service=payroll).values_list("day", flat=True))
    assert len(days) == 11 and days[-1] == today and days[-2] == MATURE
    assert all(d.weekday() == 6 for d in days[:-1]) and days[0] == MATURE - timedelta(weeks=9)
    # A second refresh replaces them (no duplicates, no leftovers).
    state_refresh(dunmore.pk, payroll.pk, today=today + timedelta(days=1))
    assert TrustPoint.objects.filter(organisation=dunmore, service=payroll).count() == 11
    assert not TrustPoint.objects.filter(organisation=dunmore, service=payroll, day=today).exists()


def test_change_is_against_fall_days_before(dunmore: Organisation, payroll: Service, settings: Any) -> None:
    settings.SERVICELOOP_TRUST_FALL_DAYS = 30
    evidence, day = scenario_mature_major()
    store(dunmore, payroll, evidence)
    state = state_refresh(dunmore.pk, payroll.pk, today=day)
    assert state is not None
    before = replay(evidence, [day - timedelta(days=30)]).points[0].trust
    assert state.trust_before == before and state.change == round(state.trust - before, 1)
    assert state.change is not None and state.change < -15
    # Within FALL_DAYS of the first evidence: no trend yet.
    fresh = make_organisation("Fresh Ltd")
    store(fresh, payroll, met_weeks(date(2026, 11, 2), 2))
    young = state_refresh(fresh.pk, payroll.pk, today=date(2026, 11, 20))
    assert young is not None and young.trust_before is None and young.change is None


def test_decay_to_today_without_new_evidence(dunmore: Organisation, payroll: Service) -> None:
    store(dunmore, payroll, met_weeks(START, 104))
    later = MATURE + timedelta(days=200)
    state = state_refresh(dunmore.pk, payroll.pk, today=later)
    assert state is not None and state.as_of == later
    assert state.trust == replay(met_weeks(START, 104), [later]).points[0].trust < 82


def test_evidence_after_today_does_not_count_yet(dunmore: Organisation, payroll: Service) -> None:
    store(dunmore, payroll, met_weeks(START, 10))
    state = state_refresh(dunmore.pk, payroll.pk, today=START + timedelta(days=30))
    assert state is not None and state.evidence_count == 4


def test_no_evidence_no_state(dunmore: Organisation, payroll: Service) -> None:
    assert state_refresh(dunmore.pk, payroll.pk, today=START) is None
    assert not TrustState.objects.exists()
    store(dunmore, payroll, met_weeks(START, 3))
    assert state_refresh(dunmore.pk, payroll.pk, today=START + timedelta(days=30)) is not None
    TrustEvidence.objects.all().delete()
    assert state_refresh(dunmore.pk, payroll.pk, today=START + timedelta(days=30)) is None
    assert not TrustState.objects.exists() and not TrustPoint.objects.exists()


def test_one_state_per_pair(dunmore: Organisation, payroll: Service) -> None:
    store(dunmore, payroll, met_weeks(START, 3))
    first = state_refresh(dunmore.pk, payroll.pk, today=START + timedelta(days=30))
    second = state_refresh(dunmore.pk, payroll.pk, today=START + timedelta(days=31))
    assert first is not None and second is not None and first.pk == second.pk
    assert TrustState.objects.count() == 1


# ---------------------------------------------------------------------- the explanation


def test_contributions_json(dunmore: Organisation, payroll: Service) -> None:
    day = MATURE + timedelta(days=1)
    extra = [
        Evidence(at=day - timedelta(days=3), kind="positive_answer"),
        Evidence(at=day - timedelta(days=2), kind="negative_answer"),
        Evidence(at=day - timedelta(days=2), kind="negative_post"),
        Evidence(at=day - timedelta(days=9), kind="small_failure"),
        Evidence(at=day - timedelta(days=40), kind="availability_missed"),
    ]
    evidence = [*met_weeks(START, 104), *extra, *major("12", day, resolved=day + timedelta(days=1))]
    store(dunmore, payroll, evidence)
    state = state_refresh(dunmore.pk, payroll.pk, today=day + timedelta(days=2))
    assert state is not None
    assert all(set(c) == {"group", "label", "effect", "count", "pending"} for c in state.contributions)
    by_group = {c["group"]: c for c in state.contributions}
    assert {by_group[f"kind:{kind}"]["label"] for kind in trust_states.KIND_LABELS} == {
        "weeks with targets met",
        "positive answers",
        "negative answers",
        "negative posts",
        "small failures",
        "missed availability months",
    }
    assert by_group["kind:week_met"]["count"] == 104 and by_group["kind:week_met"]["effect"] > 0
    assert by_group["major:12"]["label"] == "major incident MI-12" and by_group["major:12"]["effect"] < -10
    credit = by_group["credit:12"]
    assert credit["label"] == "recovery credit for major incident MI-12" and credit["effect"] > 0
    assert credit["pending"] > 0  # the review's actions have not closed
    effects = [abs(c["effect"]) for c in state.contributions]
    assert effects == sorted(effects, reverse=True)


def test_contributions_keep_the_top_twelve(dunmore: Organisation, payroll: Service) -> None:
    day = MATURE + timedelta(days=1)
    majors = [e for i in range(14) for e in major(str(100 + i), day - timedelta(days=20 * i))]
    store(dunmore, payroll, [*met_weeks(START, 104), *majors])
    state = state_refresh(dunmore.pk, payroll.pk, today=day)
    assert state is not None and len(state.contributions) == 12 and len(state.majors) == 14


def test_majors_json(dunmore: Organisation, payroll: Service, sam: User) -> None:
    from serviceloop.incidents.tests.factories_review import make_incident

    incident = make_incident(declared_at=at_noon(MATURE + timedelta(days=1)), owner=sam)
    day = MATURE + timedelta(days=1)
    evidence = [
        *met_weeks(START, 104),
        *major(str(incident.pk), day, severity=1.5, resolved=day + timedelta(days=1), communication=0.8, plan=1.0),
        *major("old", START + timedelta(days=200), resolved=START + timedelta(days=200), communication=0.1),
    ]
    store(dunmore, payroll, evidence)
    TrustEvidence.objects.filter(incident_key=str(incident.pk)).update(incident=incident)
    TrustEvidence.objects.filter(incident_key=str(incident.pk), kind="review_actions_closed").delete()
    state = state_refresh(dunmore.pk, payroll.pk, today=day + timedelta(days=3))
    assert state is not None
    newest, old = state.majors
    assert set(newest) == {
        "incident_id",
        "incident_key",
        "label",
        "at",
        "severity",
        "rho",
        "poor_communication",
        "resolved_at",
        "communication",
        "plan",
        "share_closed",
        "effect",
        "credit_earned",
        "credit_pending",
    }
    assert newest["incident_id"] == incident.pk and newest["incident_key"] == str(incident.pk)
    assert (newest["at"], newest["resolved_at"]) == (day.isoformat(), (day + timedelta(days=1)).isoformat())
    assert (newest["severity"], newest["rho"], newest["communication"], newest["plan"]) == (1.5, 0.5, 0.8, 1.0)
    assert newest["poor_communication"] is False and newest["share_closed"] == 0.0
    by_group = {c["group"]: c for c in state.contributions}
    assert newest["effect"] == by_group[f"major:{incident.pk}"]["effect"] < 0
    assert newest["credit_earned"] == by_group[f"credit:{incident.pk}"]["effect"] > 0
    assert newest["credit_pending"] == by_group[f"credit:{incident.pk}"]["pending"] > 0
    # Poor communication: no credit, and the double deviation is part of its own drop.
    assert old["incident_id"] is None and old["poor_communication"] is True
    assert old["credit_earned"] == 0.0 and old["credit_pending"] == 0.0 and old["effect"] < 0


def test_evidence_of_pair(dunmore: Organisation, payroll: Service) -> None:
    store(dunmore, payroll, major("7", START, resolved=START + timedelta(days=1), communication=0.5, plan=0.25))
    rows = list(TrustEvidence.objects.order_by("day", "pk"))
    found = evidence_of_pair(dunmore.pk, payroll.pk)
    assert [(e.at, e.kind, e.incident, e.key, e.label) for e in found] == [
        (r.day, r.kind, "7", str(r.pk), r.label) for r in rows
    ]
    assert (found[0].severity, found[1].communication, found[1].plan) == (1.0, 0.5, 0.25)
    assert evidence_of_pair(dunmore.pk, payroll.pk + 1) == []


# ------------------------------------------------------------------------------------ bands


@pytest.mark.parametrize(
    ("trust", "confidence", "band"),
    [
        (90.0, 0.1999, "unknown"),
        (20.0, 0.1, "unknown"),
        (20.0, 0.2, "red"),
        (49.99, 0.5, "red"),
        (50.0, 0.5, "watch"),
        (69.99, 0.5, "watch"),
        (70.0, 0.5, "good"),
    ],
)
def test_bands(trust: float, confidence: float, band: str) -> None:
    assert band_of(trust, confidence) == band


def test_bands_follow_the_settings(settings: Any) -> None:
    settings.SERVICELOOP_TRUST_RED, settings.SERVICELOOP_TRUST_WATCH = 40, 60
    settings.SERVICELOOP_TRUST_MIN_CONFIDENCE = 0.5
    assert [band_of(t, 0.6) for t in (39, 40, 59, 60)] == ["red", "watch", "watch", "good"]
    assert band_of(90, 0.49) == "unknown"


def test_a_state_records_its_band(dunmore: Organisation, payroll: Service) -> None:
    evidence, day = scenario_mature_major()
    store(dunmore, payroll, evidence)
    assert state_refresh(dunmore.pk, payroll.pk, today=MATURE).band == "good"
    assert state_refresh(dunmore.pk, payroll.pk, today=day).band == "watch"


# ------------------------------------------------------------------------- parameter versions


def test_version_one_is_the_defaults_created_once() -> None:
    assert not TrustParameterSet.objects.exists()
    version, parameters = parameters_current()
    assert version == 1 and parameters == parameters_from({})
    assert parameters_current()[0] == 1 and TrustParameterSet.objects.count() == 1


def test_adopting_parameters_recomputes_every_state_with_version_two(
    dunmore: Organisation, payroll: Service, ada: User, travel: Any
) -> None:
    evidence, day = scenario_mature_major()
    travel.to(at_noon(day))
    other = make_organisation("Borealis")
    store(dunmore, payroll, evidence)
    store(other, payroll, met_weeks(START, 30))
    assert states_refresh([(dunmore.pk, payroll.pk), (other.pk, payroll.pk)]) == 2
    before = TrustState.objects.get(organisation=dunmore).trust

    adopted = parameters_adopt(values={"major_incident": 12}, note="majors weigh more", by=ada)
    assert (adopted.version, adopted.values, adopted.note, adopted.adopted_by) == (
        2,
        {"major_incident": 12.0},
        "majors weigh more",
        ada,
    )
    assert parameters_current() == (2, parameters_from({"major_incident": 12}))
    assert set(TrustState.objects.values_list("parameters_version", flat=True)) == {2}
    assert set(TrustPoint.objects.values_list("parameters_version", flat=True)) == {2}
    after = TrustState.objects.get(organisation=dunmore).trust
    assert after == replay(evidence, [day], parameters_from({"major_incident": 12})).points[0].trust
    assert after < before - 5  # the major weighs half as much again
    event = Event.objects.get(name="trust.parameters_adopted")
    assert event.data["version"] == 2 and event.actor_id == ada.pk


def test_a_new_version_overrides_the_defaults_not_the_version_before(ada: User) -> None:
    parameters_adopt(values={"negativity": 4}, note="", by=ada)
    third = parameters_adopt(values={"prior": 10}, note="", by=None)
    assert third.version == 3 and third.adopted_by is None
    assert parameters_current()[1] == parameters_from({"prior": 10})


def test_bad_parameters_are_refused_with_the_engines_message(ada: User) -> None:
    with pytest.raises(InvalidInput) as error:
        parameters_adopt(values={"negativity": -1}, note="", by=ada)
    assert "negativity" in error.value.message and error.value.field == "values"
    with pytest.raises(InvalidInput) as error:
        parameters_adopt(values={"kindness": 1}, note="", by=ada)
    assert "unknown parameter 'kindness'" in error.value.message
    with pytest.raises(InvalidInput):
        parameters_adopt(values={"prior": 10}, note="x" * 501, by=ada)
    assert TrustParameterSet.objects.filter(version__gt=1).count() == 0


def test_only_administrators_adopt(sam: User) -> None:
    with pytest.raises(NotAllowed):
        parameters_adopt(values={}, note="", by=sam)
    assert not TrustParameterSet.objects.filter(version__gt=1).exists()


# ------------------------------------------------------------------------------ refresh paths


def test_refresh_stale_takes_old_states_and_pairs_without_one(
    dunmore: Organisation, payroll: Service, travel: Any
) -> None:
    today = START + timedelta(days=60)
    travel.to(at_noon(today))
    fresh, old, new = (make_organisation(n) for n in ("Fresh", "Old", "New"))
    for org in (fresh, old, new):
        store(org, payroll, met_weeks(START, 8))
    state_refresh(fresh.pk, payroll.pk)
    state_refresh(old.pk, payroll.pk, today=today - timedelta(days=1))
    assert states_refresh_stale() == 2
    assert dict(TrustState.objects.values_list("organisation_id", "as_of")) == {
        fresh.pk: today,
        old.pk: today,
        new.pk: today,
    }
    assert states_refresh_stale() == 0
    # The beat task is the same call; the next day everything is stale again (trust decays).
    travel.to(at_noon(today + timedelta(days=1)))
    assert trust_refresh() == 3


def test_refresh_stale_takes_states_of_an_older_version(dunmore: Organisation, payroll: Service) -> None:
    store(dunmore, payroll, met_weeks(START, 8))
    today = START + timedelta(days=60)
    state_refresh(dunmore.pk, payroll.pk, today=today)
    TrustParameterSet.objects.create(version=2, values={"prior": 10})  # adopted by hand, no recompute
    assert states_refresh_stale(today=today) == 1
    assert TrustState.objects.get().parameters_version == 2


def test_states_refresh_counts_distinct_pairs(dunmore: Organisation, payroll: Service) -> None:
    store(dunmore, payroll, met_weeks(START, 8))
    empty = make_organisation("Empty")
    pairs = [(dunmore.pk, payroll.pk), (dunmore.pk, payroll.pk), (empty.pk, payroll.pk)]
    assert states_refresh(pairs, today=START + timedelta(days=60)) == 1
    assert states_refresh([]) == 0


def test_recompute_all_with_progress(dunmore: Organisation, payroll: Service, sam: User) -> None:
    other_service = make_service("Email", manager=sam)
    store(dunmore, payroll, met_weeks(START, 8))
    store(dunmore, other_service, met_weeks(START, 4))
    orphan = make_organisation("Orphan")
    store(orphan, payroll, met_weeks(START, 2))
    state_refresh(orphan.pk, payroll.pk, today=START + timedelta(days=60))
    TrustEvidence.objects.filter(organisation=orphan).delete()
    seen: list[int] = []

    def wrap(pairs: Any, total: int) -> Any:
        seen.append(total)
        return pairs

    assert states_recompute_all(today=START + timedelta(days=60), wrap=wrap) == 2
    assert seen == [2]
    assert set(TrustState.objects.values_list("organisation_id", "service_id")) == {
        (dunmore.pk, payroll.pk),
        (dunmore.pk, other_service.pk),
    }


def test_today_is_the_local_date_of_the_clock(
    dunmore: Organisation, payroll: Service, travel: Any, settings: Any
) -> None:
    settings.TIME_ZONE = "Pacific/Auckland"
    store(dunmore, payroll, met_weeks(START, 8))
    travel.to(datetime(2024, 3, 1, 13, 0, tzinfo=UTC))  # already 2 March in Auckland
    state = state_refresh(dunmore.pk, payroll.pk)
    assert state is not None and state.as_of == date(2024, 3, 2)


# --------------------------------------------------------------------------------- query count


def queries_of(call: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)


def test_the_query_count_of_a_refresh_does_not_grow_with_the_rows(
    dunmore: Organisation, payroll: Service, sam: User
) -> None:
    today = MATURE + timedelta(days=1)
    small, large = make_organisation("Small"), make_organisation("Large")
    store(small, payroll, [*met_weeks(MATURE - timedelta(days=6), 1), *major("1", today)])
    many = [
        Evidence(
            at=START + timedelta(days=i % 720), kind=("positive_answer", "negative_answer", "small_failure")[i % 3]
        )
        for i in range(600)
    ]
    store(large, payroll, [*met_weeks(START, 104), *many, *major("2", today)])
    parameters_current()
    for org in (small, large):
        state_refresh(org.pk, payroll.pk, today=today)  # the states exist: each refresh below updates
    counts = [queries_of(lambda org=org: state_refresh(org.pk, payroll.pk, today=today)) for org in (small, large)]
    assert counts[0] == counts[1], counts
    assert counts[0] <= 12


def test_the_pairs_are_read_one_row_per_pair(dunmore: Organisation, payroll: Service) -> None:
    """DISTINCT over the pair only: the model's ordering (day, id) would make it return every row."""
    store(dunmore, payroll, met_weeks(START, 30))
    today = START + timedelta(days=300)
    with CaptureQueriesContext(connection) as captured:
        states_refresh_stale(today=today)
        states_recompute_all(today=today)
    distinct = [q["sql"] for q in captured.captured_queries if "DISTINCT" in q["sql"]]
    assert len(distinct) == 2 and not [sql for sql in distinct if "ORDER BY" in sql], distinct

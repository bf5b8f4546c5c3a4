"""The incident measures against a hand-computed incident (docs/incident-reviews.md shows the sums)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from serviceloop.accounts.models import User
from serviceloop.desk.models import BusinessCalendar
from serviceloop.incidents.measures import (
    actions_closed_share,
    communication_score,
    incident_measures,
    measures_over_time,
    plan_score,
)
from serviceloop.incidents.models import Incident, RecoveryStep, Review, ReviewAction
from serviceloop.incidents.tests.factories_review import (
    make_action,
    make_incident,
    make_plan,
    make_review,
    post_update,
    set_eta,
)

pytestmark = pytest.mark.django_db

C, P, I = "customers", "public", "internal"  # noqa: E741


def at(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


def _worked_incident(owner: User) -> Incident:
    """Declared 10:00, resolved 11:50 (impact 09:45–11:40); customers every 30 min, public every 60."""
    incident = make_incident(declared_at=at(10), owner=owner, impact_started_at=at(9, 45), impact_ended_at=at(11, 40))
    make_plan(incident, C, 30)
    make_plan(incident, P, 60)
    make_plan(incident, I, 30)
    post_update(incident, at(10, 10), C, P, I)
    post_update(incident, at(10, 40), C, I)
    post_update(incident, at(11, 25), C)
    post_update(incident, at(11, 30), P)
    post_update(incident, at(11, 50), C, P, kind="resolution", status="resolved")
    set_eta(incident, at(11), at(10, 30))
    set_eta(incident, at(11, 45), at(11, 5))
    done = RecoveryStep.objects.create(
        incident=incident, title="Fail over", status=RecoveryStep.Status.DONE, done_at=at(11, 20), customer_facing=True
    )
    late = RecoveryStep.objects.create(incident=incident, title="Drain queue", status=RecoveryStep.Status.IN_PROGRESS)
    dropped = RecoveryStep.objects.create(incident=incident, title="Rebuild", status=RecoveryStep.Status.DROPPED)
    set_eta(incident, at(11, 10), at(10, 45), step=done)
    set_eta(incident, at(11, 20), at(10, 45), step=late)
    set_eta(incident, at(11, 0), at(10, 45), step=dropped)
    incident.status = Incident.Status.RESOLVED
    incident.resolved_at = at(11, 50)
    incident.plan_published_at = at(10, 50)
    incident.save()
    return incident


def test_the_worked_incident_measures_as_computed_by_hand(sam: User) -> None:
    incident = _worked_incident(sam)
    m = incident_measures(incident, now=at(12, 0, day=3))

    assert m.time_to_first_update_minutes == 10
    customers, public, internal = m.cadence[C], m.cadence[P], m.cadence[I]
    # 10:00→10:10→10:40→11:25→11:50 (the resolution notice at 11:50 ends it: no zero interval).
    assert customers.intervals == [10, 30, 45, 25]
    assert (customers.updates, customers.on_time, customers.compliance) == (4, 3, 0.75)
    assert customers.longest_silence_minutes == 45
    assert public.intervals == [10, 80, 20]
    assert (public.on_time, public.compliance, public.longest_silence_minutes) == (2, 0.6667, 80)
    # Internal: 10:00→10:10→10:40, then nothing until 11:50 (70 min): counted, but not in the score.
    assert internal.intervals == [10, 30, 70] and not internal.counted
    assert m.longest_silence_minutes == 80
    assert communication_score(m) == pytest.approx((0.75 + 0.6667) / 2, abs=1e-4)

    # Incident ETAs: 11:00 missed by 50 min, 11:45 met (5 min late, within 15).
    assert (m.eta_accuracy.etas, m.eta_accuracy.met, m.eta_accuracy.share_met) == (2, 1, 0.5)
    assert m.eta_accuracy.mean_abs_error_minutes == 27.5
    # Steps: "Fail over" done 11:20 for 11:10 (met, 10 min), "Drain queue" not done by 11:35 (missed),
    # the dropped step's ETA is left out.
    assert (m.step_eta_accuracy.etas, m.step_eta_accuracy.met) == (2, 1)
    assert m.step_eta_accuracy.mean_abs_error_minutes == 10
    assert m.duration_minutes == 115
    assert m.time_to_review_hours is None
    assert plan_score(incident) == 1.0


def test_action_closure_and_time_to_review(sam: User) -> None:
    incident = _worked_incident(sam)
    review = make_review(
        incident, due_at=at(11, 50, day=4), status=Review.Status.COMPLETED, completed_at=at(17, 50, day=2)
    )
    make_action(review, due_on=date(2026, 12, 10), status=ReviewAction.Status.DONE, closed_at=at(18, day=10))
    make_action(review, due_on=date(2026, 12, 10), status=ReviewAction.Status.DONE, closed_at=at(9, day=11))
    make_action(review, due_on=date(2026, 12, 20))
    make_action(review, due_on=date(2026, 12, 20), status=ReviewAction.Status.DROPPED, closed_at=at(9, day=11))

    m = incident_measures(incident, now=at(12, day=12))
    closure = m.action_closure
    assert (closure.actions, closure.done, closure.dropped, closure.open) == (3, 2, 1, 1)
    assert (closure.share_closed, closure.on_time, closure.on_time_share) == (0.6667, 1, 0.5)
    assert actions_closed_share(review) == 0.6667
    assert m.time_to_review_hours == 30


def test_a_completed_review_without_actions_counts_as_closed_a_draft_as_not(sam: User) -> None:
    incident = _worked_incident(sam)
    review = make_review(incident, due_at=at(10, day=4))
    assert actions_closed_share(review) == 0.0
    review.status = Review.Status.COMPLETED
    assert actions_closed_share(review) == 1.0


def test_plan_score_after_resolution_or_without_customer_facing_step(sam: User) -> None:
    incident = _worked_incident(sam)
    incident.plan_published_at = at(12)
    assert plan_score(incident) == 0.5
    incident.recovery_steps.update(customer_facing=False)
    assert plan_score(incident) == 0.0
    incident.plan_published_at = None
    assert plan_score(incident) == 0.0


def test_no_external_update_scores_zero_and_an_open_incident_runs_to_now(sam: User) -> None:
    incident = make_incident(declared_at=at(10), owner=sam)
    make_plan(incident, C, 30)
    post_update(incident, at(10, 5), I)
    m = incident_measures(incident, now=at(11))
    assert m.time_to_first_update_minutes is None
    assert m.cadence[C].intervals == [60] and m.cadence[C].compliance == 0
    assert communication_score(m) == 0
    assert m.is_open and m.duration_minutes == 60


def test_cadence_counts_business_time_on_the_plans_calendar(sam: User) -> None:
    calendar = BusinessCalendar.objects.create(
        name="Office", time_zone="UTC", working_hours={str(d): [["09:00", "17:00"]] for d in range(5)}
    )
    friday = datetime(2026, 12, 4, 16, 50, tzinfo=UTC)
    incident = make_incident(declared_at=friday, owner=sam)
    make_plan(incident, C, 30, calendar=calendar)
    make_plan(incident, P, 30)
    monday = friday + timedelta(days=2, hours=16, minutes=30)  # Monday 09:20
    post_update(incident, monday, C, P)
    m = incident_measures(incident, now=monday)
    assert m.cadence[C].intervals == [30] and m.cadence[C].compliance == 1  # 10 min Friday + 20 Monday
    assert m.cadence[C].longest_silence_minutes == 3870  # what the customers lived, wall-clock
    assert m.cadence[P].compliance == 0


def test_the_grace_and_tolerance_settings_apply(sam: User, settings) -> None:  # type: ignore[no-untyped-def]
    incident = _worked_incident(sam)
    settings.SERVICELOOP_INCIDENT_CADENCE_GRACE_MINUTES = 15
    settings.SERVICELOOP_ETA_TOLERANCE_MINUTES = 0
    m = incident_measures(incident)
    assert m.cadence[C].compliance == 1.0  # 45 ≤ 30 + 15
    assert m.eta_accuracy.met == 0  # 11:50 is after 11:45


def test_measures_over_time_per_month_of_resolution(sam: User) -> None:
    december = _worked_incident(sam)
    make_review(december, due_at=at(11, 50, day=4), status=Review.Status.COMPLETED, completed_at=at(9, day=3))
    november = make_incident(declared_at=datetime(2026, 11, 10, 8, tzinfo=UTC), owner=sam)
    make_plan(november, C, 30)
    post_update(november, datetime(2026, 11, 10, 8, 20, tzinfo=UTC), C)
    november.status, november.resolved_at = Incident.Status.RESOLVED, datetime(2026, 11, 10, 8, 40, tzinfo=UTC)
    november.save()
    late = make_review(november, due_at=datetime(2026, 11, 13, 8, 40, tzinfo=UTC))
    make_action(late, due_on=date(2026, 11, 30))
    minor = make_incident(declared_at=at(8), severity="sev3", status="resolved", resolved_at=at(9))
    assert minor.pk

    months = measures_over_time(date(2026, 10, 1), date(2026, 12, 31), now=at(12, day=5))
    assert [m.month for m in months] == [date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)]
    october, nov, dec = months
    assert october.incidents == 0 and october.mean_compliance is None
    assert (nov.incidents, nov.median_time_to_first_update_minutes, nov.mean_compliance) == (1, 20, 1.0)
    assert (nov.reviews, nov.reviews_on_time, nov.share_reviews_on_time) == (1, 0, 0.0)
    assert (nov.actions, nov.actions_done, nov.action_closure) == (1, 0, 0.0)
    assert (dec.incidents, dec.median_time_to_first_update_minutes) == (1, 10)
    assert (dec.reviews_on_time, dec.share_reviews_on_time) == (1, 1.0)


def test_a_plan_never_updated_until_a_backdated_resolution_still_counts_in_the_score(
    alex: User, travel: object
) -> None:
    # Comms closes every plan at resolution (is_active false) and addresses the resolution notice to
    # them; resolved_at may be earlier than the notice. The customers, never told a thing for
    # 100 minutes, count in the score (0) rather than vanish from it.
    from serviceloop.incidents.services_updates import incident_resolve

    travel.to(at(12))  # type: ignore[attr-defined]
    incident = make_incident(declared_at=at(10), owner=alex)
    make_plan(incident, C, 30)
    make_plan(incident, P, 60)
    post_update(incident, at(10, 10), P)
    post_update(incident, at(11, 0), P)
    incident_resolve(incident=incident, by=alex, body="Fixed.", resolved_at=at(11, 40))
    m = incident_measures(Incident.objects.get(pk=incident.pk), now=at(12))
    assert m.cadence[C].counted and m.cadence[C].compliance == 0.0
    assert communication_score(m) < 1.0

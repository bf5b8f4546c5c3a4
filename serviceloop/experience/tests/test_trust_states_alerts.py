"""Trust alerts: a relationship crossing into the red band or falling fast alerts the service
manager once (mailed), repeated refreshes change nothing, and a moved clock recovers it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.testing import make_organisation
from serviceloop.catalogue.models import Service
from serviceloop.core.models import Event, OutgoingMail
from serviceloop.experience import alerts
from serviceloop.experience.models import Alert
from serviceloop.experience.tests.trust_rows import MATURE, START, major, met_weeks, scenario_mature_major, store
from serviceloop.experience.trust_engine import Evidence
from serviceloop.experience.trust_models import TrustEvidence
from serviceloop.experience.trust_states import (
    fall_cause,
    red_cause,
    state_refresh,
    states_refresh_stale,
    trust_figure_lines,
)
from serviceloop.feedback.tests.factories_channels import make_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def payroll(sam: User) -> Service:
    return make_service("Payroll", manager=sam)


@pytest.fixture
def dunmore() -> Organisation:
    return make_organisation("Dunmore Council")


def to_day(travel: Any, day: date) -> None:
    travel.to(datetime.combine(day, time(9, 0), tzinfo=UTC))


def open_causes() -> set[str]:
    return set(Alert.objects.filter(state=Alert.State.OPEN).values_list("cause", flat=True))


NEW_MAJOR = START + timedelta(days=7 * 8)  # a major incident in the second month of the relationship


def new_relationship_hit(organisation: Organisation, service: Service) -> None:
    store(organisation, service, [*met_weeks(START, 8), *major("3", NEW_MAJOR)])


def test_red_band_alerts_once_and_recovers_on_a_moved_clock(
    dunmore: Organisation, payroll: Service, sam: User, travel: Any
) -> None:
    new_relationship_hit(dunmore, payroll)
    to_day(travel, NEW_MAJOR)
    state = state_refresh(dunmore.pk, payroll.pk)
    assert state is not None and state.band == "red"
    red = Alert.objects.get(cause=red_cause(dunmore.pk, payroll.pk))
    assert (red.kind, red.state, red.service, red.addressed_to) == ("trust", "open", payroll, sam)
    assert red.title == f"The trust of Dunmore Council in Payroll is in the red band: {state.trust} of 100"
    assert red.figures["trust"] == state.trust and red.figures["band"] == "red"
    assert red.figures["confidence"] == state.confidence and red.figures["change"] == state.change
    assert [c["label"] for c in red.figures["contributions"]] == [c["label"] for c in state.contributions[:3]]
    mails = OutgoingMail.objects.count()

    # No storm: refreshed again and again (the receivers, the hourly beat), nothing new.
    for _ in range(5):
        travel.by(hours=1)
        state_refresh(dunmore.pk, payroll.pk)
        states_refresh_stale()
    assert Alert.objects.filter(kind="trust").count() == 2  # red and fall (60 → 37 is a fall too)
    assert OutgoingMail.objects.count() == mails == 2
    assert Event.objects.filter(name="alert.raised").count() == 2

    # Months of met weeks later, back above RED + 2: recovered (and the fall long over).
    weeks = met_weeks(NEW_MAJOR + timedelta(days=1), 52)
    store(dunmore, payroll, weeks, prefix="later")
    day = NEW_MAJOR
    while True:
        day += timedelta(days=7)
        to_day(travel, day)
        state = state_refresh(dunmore.pk, payroll.pk)
        assert state is not None
        if red.cause not in open_causes():
            break
        assert day < NEW_MAJOR + timedelta(days=365), "never recovered"
    red.refresh_from_db()
    assert (
        state.trust >= django_settings.SERVICELOOP_TRUST_RED + 2
        and red.state == "recovered"
        and red.recovered_at == travel.now()
    )
    assert red.recovery_figures["trust"] == state.trust
    assert not open_causes()


def test_red_hysteresis_stays_open_until_two_points_above(
    dunmore: Organisation, payroll: Service, travel: Any, settings: Any
) -> None:
    new_relationship_hit(dunmore, payroll)
    to_day(travel, NEW_MAJOR)
    state = state_refresh(dunmore.pk, payroll.pk)
    assert state is not None
    cause = red_cause(dunmore.pk, payroll.pk)
    settings.SERVICELOOP_TRUST_RED = state.trust - 1.5  # watch now, but not RED + 2 yet
    again = state_refresh(dunmore.pk, payroll.pk)
    assert again is not None and again.band == "watch" and cause in open_causes()
    settings.SERVICELOOP_TRUST_RED = state.trust - 2
    state_refresh(dunmore.pk, payroll.pk)
    assert cause not in open_causes()
    # Re-armed: red again is a new alert and a new mail.
    settings.SERVICELOOP_TRUST_RED = 55
    state_refresh(dunmore.pk, payroll.pk)
    assert Alert.objects.filter(cause=cause).count() == 2 and cause in open_causes()


def test_no_red_alert_while_the_band_is_unknown(dunmore: Organisation, payroll: Service, travel: Any) -> None:
    store(dunmore, payroll, [Evidence(at=START, kind="negative_answer"), Evidence(at=START, kind="small_failure")])
    to_day(travel, START)
    state = state_refresh(dunmore.pk, payroll.pk)
    assert state is not None and state.trust < 55 and state.band == "unknown"
    assert not Alert.objects.exists()


def test_a_fast_fall_alerts_and_recovers_with_hysteresis(
    dunmore: Organisation, payroll: Service, travel: Any, settings: Any
) -> None:
    evidence, day = scenario_mature_major()
    store(dunmore, payroll, evidence)
    to_day(travel, MATURE)
    assert state_refresh(dunmore.pk, payroll.pk) is not None and not Alert.objects.exists()
    to_day(travel, day)
    state = state_refresh(dunmore.pk, payroll.pk)
    assert state is not None and state.band == "watch" and state.change is not None and state.change <= -10
    cause = fall_cause(dunmore.pk, payroll.pk)
    assert open_causes() == {cause}
    fall = Alert.objects.get(cause=cause)
    assert fall.title == (
        f"The trust of Dunmore Council in Payroll fell {-state.change:.1f} points in 30 days: "
        f"{state.trust_before} to {state.trust}"
    )
    # Hysteresis: a fall no longer past FALL_POINTS but not back within half of it stays open.
    settings.SERVICELOOP_TRUST_FALL_POINTS = -state.change * 1.5
    state_refresh(dunmore.pk, payroll.pk)
    assert open_causes() == {cause}
    settings.SERVICELOOP_TRUST_FALL_POINTS = 10
    state_refresh(dunmore.pk, payroll.pk)
    assert Alert.objects.filter(cause=cause).count() == 1

    # The clock moves on: 30 days later the change is measured from after the drop, and it recovers.
    store(dunmore, payroll, met_weeks(day, 6), prefix="later")
    to_day(travel, day + timedelta(days=31))
    later = state_refresh(dunmore.pk, payroll.pk)
    assert later is not None and later.change is not None and later.change > -5
    fall.refresh_from_db()
    assert fall.state == "recovered" and not open_causes()
    assert Alert.objects.filter(kind="trust").count() == 1


def test_evidence_gone_recovers_the_alerts(dunmore: Organisation, payroll: Service, travel: Any) -> None:
    new_relationship_hit(dunmore, payroll)
    to_day(travel, NEW_MAJOR)
    state_refresh(dunmore.pk, payroll.pk)
    assert len(open_causes()) == 2
    TrustEvidence.objects.all().delete()
    assert state_refresh(dunmore.pk, payroll.pk) is None
    assert not open_causes()


def test_each_pair_has_its_own_causes(dunmore: Organisation, payroll: Service, travel: Any, sam: User) -> None:
    email = make_service("Email", manager=sam)
    for service in (payroll, email):
        new_relationship_hit(dunmore, service)
    to_day(travel, NEW_MAJOR)
    state_refresh(dunmore.pk, payroll.pk)
    state_refresh(dunmore.pk, email.pk)
    assert open_causes() == {
        red_cause(dunmore.pk, payroll.pk),
        fall_cause(dunmore.pk, payroll.pk),
        red_cause(dunmore.pk, email.pk),
        fall_cause(dunmore.pk, email.pk),
    }
    assert set(Alert.objects.values_list("service__name", flat=True)) == {"Payroll", "Email"}


# ------------------------------------------------------------------------------------- the mail


FIGURES = {
    "kind": "trust",
    "organisation": "Dunmore Council",
    "service": "Payroll",
    "as_of": "2024-02-26",
    "trust": 36.6,
    "confidence": 0.52,
    "band": "red",
    "trust_before": 60.1,
    "change": -23.5,
    "fall_days": 30,
    "red_below": 55.0,
    "fall_points": 10.0,
    "contributions": [
        {"label": "major incident MI-3", "effect": -28.4, "pending": 0.0},
        {"label": "recovery credit for major incident MI-3", "effect": 6.0, "pending": 3.1},
        {"label": "weeks with targets met", "effect": 4.9, "pending": 0.0},
    ],
    "parameters_version": 2,
}


def test_figure_lines() -> None:
    assert trust_figure_lines(FIGURES) == [
        "Trust: 36.6 of 100 on 2024-02-26 (band: Red; confidence 0.52)",
        "Change over 30 days: −23.5 points (from 60.1)",
        "major incident MI-3: −28.4 points",
        "recovery credit for major incident MI-3: +6.0 points, pending +3.1 until the review's actions close",
        "weeks with targets met: +4.9 points",
        "Model parameters: version 2",
    ]
    assert trust_figure_lines({**FIGURES, "change": None})[1] == "major incident MI-3: −28.4 points"
    assert trust_figure_lines({"z": 1}) == []


ALERTS_SHOW_TRUST = bool(alerts.figure_lines(FIGURES))


@pytest.mark.xfail(
    not ALERTS_SHOW_TRUST,
    reason="experience/alerts.py figure_lines does not call trust_figure_lines yet (the diff in the report)",
    strict=True,
)
def test_the_mail_reads_well(dunmore: Organisation, payroll: Service, travel: Any, settings: Any) -> None:
    new_relationship_hit(dunmore, payroll)
    to_day(travel, NEW_MAJOR)
    state = state_refresh(dunmore.pk, payroll.pk)
    assert state is not None
    red = Alert.objects.get(cause=red_cause(dunmore.pk, payroll.pk))
    (mail,) = [m for m in OutgoingMail.objects.all() if m.headers.get("X-Serviceloop-Alert") == red.public_id]
    assert mail.to == [payroll.service_manager.email]
    assert mail.subject == f"[serviceloop] Alert: {red.title}"
    assert f"{red.title}.\n" in mail.text
    assert f"Trust: {state.trust} of 100 on {NEW_MAJOR} (band: Red; confidence {state.confidence})" in mail.text
    assert f"Change over 30 days: −{-state.change:.1f} points (from {state.trust_before})" in mail.text
    assert "major incident MI-3: −" in mail.text
    assert f"{settings.SITE_URL}{reverse('experience:alert_detail', args=[red.public_id])}" in mail.text

"""Drop detection: a service's recent week against its own 90-day baseline, FDR-controlled, without storms."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from serviceloop.accounts.models import User
from serviceloop.catalogue.models import Service
from serviceloop.core.models import OutgoingMail
from serviceloop.experience import drops
from serviceloop.experience.drops import drop_statistic, drop_tests, drops_detect
from serviceloop.experience.metrics import METRICS, Figure
from serviceloop.experience.models import Alert
from serviceloop.experience.rollups import rollups_rebuild
from serviceloop.experience.tasks import detect_drops
from serviceloop.feedback.models import Response
from serviceloop.feedback.tests.factories_channels import make_service

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 30)
RECENT = (TODAY - timedelta(days=6), TODAY)
BASELINE = (TODAY - timedelta(days=96), TODAY - timedelta(days=7))


@pytest.fixture(autouse=True)
def _today(travel: Any) -> None:
    travel.to(datetime.combine(TODAY, time(15, 0), tzinfo=UTC))


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Any:
    return lambda: django_capture_on_commit_callbacks(execute=True)


def scores(promoters: int, passives: int, detractors: int) -> list[int]:
    """Happiness answers: promoters 9–10, passives 7–8, detractors 0–6, interleaved."""
    values = [10 if i % 2 else 9 for i in range(promoters)]
    values += [8 if i % 2 else 7 for i in range(passives)]
    values += [i % 7 for i in range(detractors)]
    random.Random(len(values)).shuffle(values)  # nosec B311  # test data, not security
    return values


def answers(service: Service, window: tuple[date, date], values: Sequence[int], field: str = "happiness") -> None:
    """Answers spread over the days of the window (noon UTC), written set-wise."""
    first, last = window
    days = (last - first).days + 1
    rows = [
        Response(
            service=service,
            responded_at=datetime.combine(first + timedelta(days=i % days), time(12, 0), tzinfo=UTC),
            **{field: value},
        )
        for i, value in enumerate(values)
    ]
    Response.objects.bulk_create(rows)


def refresh() -> None:
    # The rows were written behind the services' backs: bring the rollups up to date as an operator would.
    rollups_rebuild()


def replace_recent(service: Service, values: Sequence[int]) -> None:
    Response.objects.filter(service=service, responded_at__date__gte=RECENT[0]).delete()
    answers(service, RECENT, values)
    refresh()


@pytest.fixture
def payroll(sam: User) -> Service:
    service = make_service("Payroll", manager=sam)
    answers(service, BASELINE, scores(100, 60, 40))  # happiness +30 of 200
    return service


def test_a_drop_alerts_once_and_mails_once_however_often_detection_runs(
    payroll: Service, sam: User, smtp_server: Any, commit: Any
) -> None:
    answers(payroll, RECENT, scores(15, 15, 30))  # happiness −25 of 60
    refresh()
    results = []
    for _run in range(3):
        with commit():
            results.append(drops_detect(TODAY))
    assert [(r.tested, r.discoveries, r.raised) for r in results] == [(1, 1, 1), (1, 1, 0), (1, 1, 0)]
    [alert] = Alert.objects.all()
    assert alert.state == Alert.State.OPEN and alert.kind == Alert.Kind.DROP
    assert alert.cause == f"drop:{payroll.public_id}:happiness"
    assert alert.addressed_to == sam
    assert alert.title == "Happiness fell on Payroll: -25.0 points in the last 7 days against 30.0 points before"
    figures = alert.figures
    assert figures["recent"] == {
        "value": -25.0,
        "n": 60,
        "interval": figures["recent"]["interval"],
        "from": "2026-11-24",
        "to": "2026-11-30",
    }
    assert figures["baseline"]["value"] == 30.0 and figures["baseline"]["n"] == 200
    assert figures["baseline"]["from"] == "2026-08-26" and figures["baseline"]["to"] == "2026-11-23"
    # By hand: baseline p .5, d .2 (variance .61); recent p .25, d .5 (variance .75 − .0625 = .6875);
    # z = .55 / √(.61/200 + .6875/60) = .55 / .12041 = 4.568.
    assert figures["z"] == pytest.approx(4.568, abs=0.01)
    assert figures["p_value"] < 1e-5 and figures["q_value"] == figures["p_value"]  # one test: q = p
    assert figures["fdr"] == 0.05 and figures["tests_in_run"] == 1
    # One mail, through the outbox to the real SMTP server, to the service manager.
    [mail] = smtp_server.wait_for(1)
    assert OutgoingMail.objects.count() == 1 and len(smtp_server.messages) == 1
    assert mail["To"] == sam.email
    assert mail["Subject"] == f"[serviceloop] Alert: {alert.title}"
    text = mail.get_body(("plain",)).get_content()
    assert "Recent: -25.0 points [" in text and "(n = 60, 2026-11-24 to 2026-11-30)" in text
    assert f"http://testserver/experience/alerts/{alert.public_id}/" in text


def test_under_the_minimum_sample_nothing_is_tested(payroll: Service, settings: Any) -> None:
    answers(payroll, RECENT, [0] * 29)  # every one a detractor, but 29 < 30
    refresh()
    assert drops_detect(TODAY).tested == 0
    assert not Alert.objects.exists()
    answers(payroll, RECENT, [0])  # the 30th
    refresh()
    assert drops_detect(TODAY).raised == 1
    # The gate is the baseline's too: with a minimum above the baseline's 200 answers, no test.
    Alert.objects.all().delete()
    settings.SERVICELOOP_MIN_SAMPLE = 201
    assert drops_detect(TODAY).tested == 0


def test_hysteresis_then_recovery_then_the_cause_is_re_armed(payroll: Service, smtp_server: Any, commit: Any) -> None:
    answers(payroll, RECENT, scores(15, 15, 30))
    refresh()
    with commit():
        drops_detect(TODAY)
    [first] = Alert.objects.all()

    # Partly back: +15 of 60 (p .45, d .3). z = .15 / √(.61/200 + .7275/60) = 1.2176, p = 0.112:
    # no longer a discovery, not yet above 0.2 — the alert stays open, nothing new is raised.
    replace_recent(payroll, scores(27, 15, 18))
    [test] = drop_tests(TODAY)[1]
    assert test.p == pytest.approx(0.112, abs=0.002)
    with commit():
        result = drops_detect(TODAY)
    assert (result.raised, result.recovered, result.kept_open) == (0, 0, 1)
    first.refresh_from_db()
    assert first.state == Alert.State.OPEN

    # Back at the baseline (+30): p = 0.5 > 0.2, recovered with the figures it recovered on.
    replace_recent(payroll, scores(30, 18, 12))
    with commit():
        assert drops_detect(TODAY).recovered == 1
    first.refresh_from_db()
    assert first.state == Alert.State.RECOVERED and first.recovered_at is not None
    assert first.recovery_figures["recent"]["value"] == 30.0 and first.recovery_figures["p_value"] > 0.2
    assert drops_detect(TODAY).recovered == 0  # nothing open: nothing to recover again

    # It drops again: a new alert for the same cause, and a second mail.
    replace_recent(payroll, scores(10, 20, 30))
    with commit():
        assert drops_detect(TODAY).raised == 1
    second = Alert.objects.get(state=Alert.State.OPEN)
    assert second.pk != first.pk and second.cause == first.cause
    assert len(smtp_server.wait_for(2)) == 2 and OutgoingMail.objects.count() == 2


def test_fdr_across_services_alerts_the_real_drop_and_none_of_the_noise(
    sam: User, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SERVICELOOP_ALERT_METRICS = ["happiness", "csat"]
    rng = random.Random(20261201)  # nosec B311  # test data, not security
    happiness = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    weights = [2, 1, 1, 1, 2, 2, 4, 8, 12, 14, 13]  # one fixed distribution for every window
    services = [make_service(f"Noise {i:02}", manager=sam) for i in range(20)]
    real = make_service("Real drop", manager=sam)
    for service in [*services, real]:
        answers(service, BASELINE, rng.choices(happiness, weights, k=160))
        answers(service, BASELINE, rng.choices([1, 2, 3, 4, 5], [1, 1, 2, 5, 6], k=160), field="csat")
    for service in services:
        answers(service, RECENT, rng.choices(happiness, weights, k=40))
        answers(service, RECENT, rng.choices([1, 2, 3, 4, 5], [1, 1, 2, 5, 6], k=40), field="csat")
    # The real drop: its happiness recent week has far more detractors.
    answers(real, RECENT, rng.choices(happiness, [8, 4, 4, 4, 6, 6, 4, 4, 4, 3, 3], k=40))
    answers(real, RECENT, rng.choices([1, 2, 3, 4, 5], [1, 1, 2, 5, 6], k=40), field="csat")
    refresh()

    calls = []
    original = drops.compute
    monkeypatch.setattr(drops, "compute", lambda *args: calls.append(args) or original(*args))
    _windows, tests = drop_tests(TODAY)
    assert len(calls) == 2, "one compute() for the recent window and one for the baseline, not one per service"
    assert len(tests) == 42
    noise = [test for test in tests if test.service != real]
    # Without the correction some noise would alert (p < 0.05 by chance); after it none does.
    assert any(test.p < 0.05 for test in noise)
    assert all(test.q > 0.05 for test in noise)

    result = drops_detect(TODAY)
    assert (result.tested, result.discoveries, result.raised) == (42, 1, 1)
    [alert] = Alert.objects.all()
    assert alert.service == real and alert.cause.endswith(":happiness")
    assert alert.figures["tests_in_run"] == 42 and alert.figures["q_value"] <= 0.05


def test_a_lower_is_better_proportion_drops_when_it_rises() -> None:
    reopen = METRICS["reopen_rate"]
    base = Figure("reopen_rate", reopen.label, 10.0, 200, (6.5, 15.0), "%", True)
    worse = Figure("reopen_rate", reopen.label, 25.0, 60, (15.8, 37.1), "%", True)
    z, p = drop_statistic(reopen, base, worse)
    # Not-reopened shares 0.90 of 200 and 0.75 of 60: pooled 0.86538; z = 0.15 / √(.86538 · .13462 · (1/200 + 1/60)).
    assert z == pytest.approx(0.15 / (0.86538 * 0.13462 * (1 / 200 + 1 / 60)) ** 0.5, abs=1e-3)
    assert p < 0.01
    assert drop_statistic(reopen, worse, base)[1] > 0.99


def test_a_metric_that_cannot_be_tested_is_refused_with_its_name(settings: Any) -> None:
    settings.SERVICELOOP_ALERT_METRICS = ["happiness", "lost_time_mean"]
    with pytest.raises(ImproperlyConfigured, match="lost_time_mean"):
        drops_detect(TODAY)


@pytest.mark.parametrize("name", ["response_rate", "reopen_rate"])
def test_a_metric_not_settled_in_a_recent_week_is_refused(settings: Any, name: str) -> None:
    # Invitations of the last days are not answered yet, tickets not reopened yet: a week against its
    # baseline would always read as a change.
    settings.SERVICELOOP_ALERT_METRICS = ["happiness", name]
    with pytest.raises(ImproperlyConfigured, match=f"{name}.*not settled"):
        drops_detect(TODAY)


def test_retired_services_are_not_tested_and_the_task_reports_the_run(payroll: Service) -> None:
    answers(payroll, RECENT, scores(15, 15, 30))
    refresh()
    Service.objects.filter(pk=payroll.pk).update(lifecycle=Service.Lifecycle.RETIRED)
    assert detect_drops.delay().get() == {"tested": 0, "discoveries": 0, "raised": 0, "recovered": 0, "kept_open": 0}
    Service.objects.filter(pk=payroll.pk).update(lifecycle=Service.Lifecycle.LIVE)
    assert detect_drops.delay().get()["raised"] == 1

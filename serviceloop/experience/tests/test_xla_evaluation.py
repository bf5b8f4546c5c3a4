"""XLA evaluation against hand-computed figures: each state, the windows, the minimum sample, the
baseline, history only on a change of state, the event in the same transaction, the task."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings as django_settings

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core.errors import InvalidInput
from serviceloop.core.events import event_dispatch
from serviceloop.core.models import Event
from serviceloop.core.testing import subscribed
from serviceloop.experience import xla_queries, xlas
from serviceloop.experience.models import Alert, Xla, XlaEvaluation
from serviceloop.experience.tasks import evaluate_xlas
from serviceloop.experience.tests.factories import deliver
from serviceloop.experience.tests.xla_factories import answers, at, make_person, refresh, resolved
from serviceloop.experience.xlas import xla_archive, xla_create, xla_evaluate, xla_update
from serviceloop.relationships.models import Relationship

pytestmark = pytest.mark.django_db

NOON_30_JUNE = at("2026-06-30 12:00")


@pytest.fixture(autouse=True)
def _small_sample(settings: Any) -> None:
    settings.SERVICELOOP_MIN_SAMPLE = 5


@pytest.fixture
def forty(service: Service, travel: Any) -> Service:
    """10 happiness answers on 20 June: 6 promoters, 2 passives, 2 detractors → (6 − 2)/10 = +40.0."""
    travel.to(NOON_30_JUNE)
    answers(service, "2026-06-20 10:00", 10, 10, 9, 9, 9, 10, 7, 8, 0, 6)
    refresh()
    return service


def make(sam: User, service: Service, target: str, comparator: str = "gte", **fields: Any) -> Xla:
    return xla_create(
        by=sam,
        name=f"Happiness {comparator} {target}",
        service=service,
        metric="happiness",
        comparator=comparator,
        target=Decimal(target),
        risk_margin=Decimal("5"),
        **fields,
    )


def test_each_state_from_a_hand_computed_figure(sam: User, forty: Service) -> None:
    states = {
        (comparator, target): make(sam, forty, target, comparator).state
        for comparator, target in [
            ("gte", "35"),  # 40 − 35 = 5, not less than the margin: met
            ("gte", "36"),  # ahead by 4 < 5: at risk
            ("gte", "40"),  # ahead by 0: still met, at risk
            ("gte", "40.1"),  # short by 0.1: breached
            ("lte", "50"),  # 10 under the ceiling: met
            ("lte", "42"),  # 2 under: at risk
            ("lte", "39"),  # over the ceiling: breached
        ]
    }
    assert states == {
        ("gte", "35"): "met",
        ("gte", "36"): "at_risk",
        ("gte", "40"): "at_risk",
        ("gte", "40.1"): "breached",
        ("lte", "50"): "met",
        ("lte", "42"): "at_risk",
        ("lte", "39"): "breached",
    }
    xla = Xla.objects.get(comparator="gte", target=Decimal("35"))
    # p = 0.6, d = 0.2: 40 ± 196·√((0.8 − 0.04·4)/10) = 40 ± 49.6 → [−9.6, 89.6]
    assert (xla.value, xla.n, xla.interval_low, xla.interval_high) == (40.0, 10, -9.6, 89.6)
    assert (xla.window_from, xla.window_to) == (date(2026, 6, 1), date(2026, 6, 30))
    assert xla.evaluated_at == NOON_30_JUNE and xla.state_since == NOON_30_JUNE


def test_under_the_xlas_minimum_sample_there_is_not_enough_data(sam: User, forty: Service) -> None:
    xla = make(sam, forty, "30", min_sample=11)
    assert (xla.state, xla.value, xla.n, xla.interval_low) == ("not_enough_data", None, 10, None)
    answers(forty, "2026-06-29 10:00", 10)  # the 11th answer: 7 promoters, 2 detractors of 11 → 45.5
    refresh()
    evaluated = xla_evaluate(xla, at=NOON_30_JUNE)
    assert (evaluated.state, evaluated.xla.value, evaluated.xla.n) == ("met", 45.5, 11)
    # The XLA's minimum sample can be raised above the project's, never lowered below it (figures say nothing there).
    with pytest.raises(InvalidInput) as refused:
        make(sam, forty, "30", min_sample=4)
    assert refused.value.field == "min_sample" and "from 5" in refused.value.message


def test_a_rolling_week_and_the_calendar_month_see_different_days(sam: User, service: Service, travel: Any) -> None:
    travel.to(NOON_30_JUNE)
    answers(service, "2026-06-02 10:00", 0, 0, 0, 0, 0)  # five detractors early in June
    answers(service, "2026-06-27 10:00", 10, 10, 10, 10, 10)  # five promoters in the last week
    refresh()
    week = make(sam, service, "50", window="rolling_7")
    month = make(sam, service, "50", window="month")
    thirty = make(sam, service, "50", window="rolling_30")
    # 24–30 June: five promoters → +100; 1–30 June: 5 − 5 of 10 → 0.
    assert [(x.state, x.value, x.n, x.window_from) for x in (week, month, thirty)] == [
        ("met", 100.0, 5, date(2026, 6, 24)),
        ("breached", 0.0, 10, date(2026, 6, 1)),
        ("breached", 0.0, 10, date(2026, 6, 1)),
    ]
    # 1 July: the month starts again (nothing yet), the week still holds the promoters, 30 days reach 2 June.
    travel.to(at("2026-07-01 09:00"))
    results = [xla_evaluate(x).xla for x in (week, month, thirty)]
    assert [(x.state, x.value, x.n, x.window_from) for x in results] == [
        ("met", 100.0, 5, date(2026, 6, 25)),
        ("not_enough_data", None, 0, date(2026, 7, 1)),
        ("breached", 0.0, 10, date(2026, 6, 2)),
    ]
    # 3 July: 30 days from 4 June leave the detractors out.
    travel.to(at("2026-07-03 09:00"))
    assert (xla_evaluate(thirty).state, Xla.objects.get(pk=thirty.pk).value) == ("met", 100.0)


def test_the_window_follows_the_project_time_zone(sam: User, service: Service, travel: Any, settings: Any) -> None:
    settings.TIME_ZONE = "Europe/Amsterdam"
    answers(service, "2026-06-30 22:30", 10, 10, 10, 10, 10)  # 1 July 00:30 in Amsterdam
    refresh()
    travel.to(at("2026-07-01 08:00"))
    month = make(sam, service, "50", window="month")
    assert (month.window_from, month.state, month.n) == (date(2026, 7, 1), "met", 5)


def test_history_is_written_only_when_the_state_changes(sam: User, forty: Service, travel: Any) -> None:
    xla = make(sam, forty, "50")  # 40 < 50: breached at creation
    for _ in range(3):
        xla_evaluate(xla, at=NOON_30_JUNE)
    assert list(XlaEvaluation.objects.values_list("previous_state", "state", "value", "n")) == [
        ("", "breached", 40.0, 10)
    ]
    answers(forty, "2026-06-30 09:00", 10, 10, 10, 10, 10)  # 11 promoters, 2 detractors of 15 → 60.0
    refresh()
    travel.to(at("2026-06-30 13:00"))
    changed = xla_evaluate(xla)
    xla_evaluate(xla)
    assert changed.change is not None and (changed.state, changed.xla.value) == ("met", 60.0)
    rows = list(XlaEvaluation.objects.order_by("evaluated_at").values_list("previous_state", "state", "value", "n"))
    assert rows == [("", "breached", 40.0, 10), ("breached", "met", 60.0, 15)]
    # An evaluation older than the stored one changes nothing (a late task).
    assert xla_evaluate(xla, at=NOON_30_JUNE).change is None
    assert Xla.objects.get(pk=xla.pk).evaluated_at == at("2026-06-30 13:00")


def test_a_change_of_state_records_the_event_with_its_figures(sam: User, forty: Service) -> None:
    with subscribed("xla.state_changed") as seen:
        xla = make(sam, forty, "50")
        xla_evaluate(xla, at=NOON_30_JUNE)  # the same state: no second event
        events = list(Event.objects.filter(name="xla.state_changed"))
        for event in events:
            event_dispatch(event_id=event.pk)
    (event,) = events
    change = XlaEvaluation.objects.get()
    assert event.data == {
        "xla_id": xla.pk,
        "from": None,
        "to": "breached",
        "evaluation_id": change.pk,
        "value": 40.0,
        "n": 10,
    }
    assert (event.subject_type, event.subject_id) == ("experience.xla", xla.pk)
    assert [delivered.pk for delivered in seen] == [event.pk]


def test_the_event_and_the_history_row_commit_together_or_not_at_all(
    sam: User, forty: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    xla = make(sam, forty, "30")  # met
    Xla.objects.filter(pk=xla.pk).update(target=Decimal("50"))  # now it would be breached

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the event table is gone")

    monkeypatch.setattr(xlas, "event_record", refuse)
    with pytest.raises(RuntimeError):
        xla_evaluate(Xla.objects.get(pk=xla.pk), at=at("2026-06-30 13:00"))
    stored = Xla.objects.get(pk=xla.pk)
    assert (stored.state, stored.evaluated_at) == ("met", NOON_30_JUNE)
    assert list(XlaEvaluation.objects.values_list("state", flat=True)) == ["met"]


def test_the_baseline_is_the_window_ending_on_the_start_date(sam: User, forty: Service) -> None:
    # Rolling 7 starting 21 June: the 7 days before it, 14–20 June, hold the ten answers (+40).
    week = make(sam, forty, "30", window="rolling_7", start_date=date(2026, 6, 21), baseline_kind="before_start")
    assert (week.baseline, week.baseline_n, week.baseline_from, week.baseline_to) == (
        Decimal("40.00"),
        10,
        date(2026, 6, 14),
        date(2026, 6, 20),
    )
    # A calendar month starting 10 July: the calendar month before, June.
    month = make(sam, forty, "30", window="month", start_date=date(2026, 7, 10), baseline_kind="before_start")
    assert (month.baseline, month.baseline_from, month.baseline_to) == (
        Decimal("40.00"),
        date(2026, 6, 1),
        date(2026, 6, 30),
    )
    # Starting 1 June, the week before holds nothing: the baseline says not enough data, with its n.
    early = make(sam, forty, "30", window="rolling_7", start_date=date(2026, 6, 1), baseline_kind="before_start")
    assert (early.baseline, early.baseline_n) == (None, 0)
    # Taken once: new answers in its window do not move it; changing the window takes it again.
    answers(forty, "2026-06-15 10:00", 0, 0)
    refresh()
    week = xla_update(xla=week, by=sam, name="Renamed", baseline=Decimal("99"))  # a typed value is ignored
    assert week.baseline == Decimal("40.00")
    week = xla_update(xla=week, by=sam, window="rolling_30")  # 22 May – 20 June: 6 − 4 of 12 → +16.7
    assert (week.baseline, week.baseline_n, week.baseline_from) == (Decimal("16.70"), 12, date(2026, 5, 22))
    given = make(sam, forty, "30", baseline_kind="value", baseline=Decimal("12.5"))
    assert (given.baseline, given.baseline_n) == (Decimal("12.50"), None)


def test_the_task_evaluates_every_active_xla(sam: User, forty: Service, travel: Any) -> None:
    active = make(sam, forty, "50")  # breached
    archived = make(sam, forty, "50")
    xla_archive(xla=archived, by=sam)
    answers(forty, "2026-06-30 09:00", 10, 10, 10, 10, 10)  # → +60
    refresh()
    travel.to(at("2026-06-30 12:15"))
    assert evaluate_xlas.name == "serviceloop.experience.tasks.evaluate_xlas"  # the name beat sends
    assert evaluate_xlas.apply().get() == 1
    assert Xla.objects.get(pk=active.pk).state == "met"
    stored = Xla.objects.get(pk=archived.pk)
    assert (stored.state, stored.evaluated_at) == ("breached", NOON_30_JUNE)
    assert evaluate_xlas.apply().get() == 0  # again: nothing changes
    schedule = django_settings.CELERY_BEAT_SCHEDULE["experience-xla-evaluate"]
    assert schedule == {"task": "serviceloop.experience.tasks.evaluate_xlas", "schedule": 900.0}


def test_the_sla_beside_an_xla_and_the_watermelon(
    sam: User,
    service: Service,
    offering: Offering,
    relationship_a: Relationship,
    org_a: Organisation,
    org_b: Organisation,
    travel: Any,
) -> None:
    travel.to(NOON_30_JUNE)
    pat = make_person(org_a, "pat@acme.example")
    kim = make_person(org_b, "kim@borealis.example")
    for day in range(10, 20):
        resolved(service, pat, f"2026-06-{day} 10:00", offering=offering)  # A: ten tickets, every clock met
    for day in range(10, 15):
        resolved(service, kim, f"2026-06-{day} 11:00", met=False)  # B: five missed both clocks
    answers(service, "2026-06-20 10:00", 0, 0, 0, 0, 0, organisation=org_a, offering=offering)  # A unhappy: −100
    refresh()
    acme = xla_create(
        by=sam, name="Acme happiness", relationship=relationship_a, metric="happiness", target=Decimal("0")
    )
    whole = xla_create(by=sam, name="Mail happiness", service=service, metric="happiness", target=Decimal("0"))
    # A's relationship: 10 of 10 met (100% ≥ 95) beside a breached XLA → a watermelon.
    assert (acme.state, acme.sla_first_response, acme.sla_first_response_n, acme.sla_resolution) == (
        "breached",
        100.0,
        10,
        100.0,
    )
    assert xlas.sla_met(acme.sla_first_response, acme.sla_resolution) is True and xlas.is_watermelon(acme)
    # The whole service: 10 of 15 met (66.7%): the SLA is missed too, no watermelon.
    assert (whole.state, whole.sla_first_response, whole.sla_resolution_n) == ("breached", 66.7, 15)
    assert xlas.sla_met(whole.sla_first_response, whole.sla_resolution) is False and not xlas.is_watermelon(whole)
    # The watermelon needs a breached XLA: met beside a green SLA is simply green.
    acme = xla_update(xla=acme, by=sam, target=Decimal("-100"), risk_margin=Decimal("0"))
    assert acme.state == "met" and not xlas.is_watermelon(acme)
    # No SLA figure with enough data: no verdict.
    assert xlas.sla_met(None, None) is None


def test_the_worst_state_of_each_service_for_the_portfolio(sam: User, carol: User, forty: Service) -> None:
    make(sam, forty, "30")  # met
    make(sam, forty, "38")  # at risk
    other = Service.objects.create(name="Payroll", slug="payroll", service_manager=sam)
    make(sam, other, "0")  # nothing on payroll: not enough data
    archived = make(sam, forty, "90")  # breached, but archived: not counted
    xla_archive(xla=archived, by=sam)
    assert xla_queries.worst_states(viewer=sam, service_ids=[forty.pk, other.pk]) == {
        forty.pk: "at_risk",
        other.pk: "not_enough_data",
    }
    assert (
        xla_queries.worst_states(viewer=carol, service_ids=[forty.pk, other.pk]) == {}
    )  # service-wide XLAs: staff only


def test_a_state_change_delivered_raises_and_recovers_the_xlas_alert(sam: User, forty: Service, travel: Any) -> None:
    from serviceloop.experience.models import Alert

    def deliver() -> None:
        for pk in Event.objects.filter(name="xla.state_changed", completed_at__isnull=True).values_list(
            "pk", flat=True
        ):
            event_dispatch(event_id=pk)

    xla = make(sam, forty, "50")  # breached at creation
    deliver()
    alert = Alert.objects.get()
    assert (alert.kind, alert.cause, alert.state) == ("xla", f"xla:{xla.public_id}", "open")
    assert alert.figures["to"] == "breached" and alert.figures["value"] == 40.0
    answers(forty, "2026-06-30 09:00", 10, 10, 10, 10, 10)  # → +60: met
    refresh()
    travel.to(at("2026-06-30 13:00"))
    xla_evaluate(xla)
    deliver()
    alert.refresh_from_db()
    assert alert.state == "recovered" and Alert.objects.count() == 1


# XLA alerts follow the XLA's state now, whatever order its events arrive in; archiving recovers them.


def _open(xla: Xla) -> int:
    return Alert.objects.filter(cause=f"xla:{xla.public_id}", state=Alert.State.OPEN).count()


def test_archiving_a_breached_xla_recovers_its_alert(sam: User, forty: Service) -> None:
    deliver()
    xla = make(sam, forty, "60")  # +40 against 60: breached
    deliver()
    assert xla.state == "breached" and _open(xla) == 1
    xla_archive(xla=xla, by=sam)
    deliver()
    assert _open(xla) == 0  # no evaluation would ever recover it


def test_a_late_breached_event_does_not_alert_on_a_met_xla(sam: User, forty: Service) -> None:
    deliver()
    xla = make(sam, forty, "60")  # breached: event 1
    xla = xla_update(xla=xla, by=sam, target=Decimal("20"))  # met: event 2
    assert xla.state == "met"
    pending = list(
        Event.objects.filter(completed_at__isnull=True, name="xla.state_changed")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    assert len(pending) == 2
    event_dispatch(event_id=pending[1])  # the later change arrives first (the first one's delivery failed)
    event_dispatch(event_id=pending[0])
    assert _open(xla) == 0

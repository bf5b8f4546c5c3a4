"""The desk's metrics from tickets, against hand-computed figures: FCR, MTTA/MTTR in business hours, SLA, reopens."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from serviceloop.accounts.testing import api_client_for, make_organisation
from serviceloop.core.errors import InvalidInput
from serviceloop.desk.models import BusinessCalendar, SlaTarget, Ticket
from serviceloop.experience.desk_metrics import desk_figures
from serviceloop.experience.metrics import DESK_METRICS, wilson
from serviceloop.experience.tally import Scope
from serviceloop.experience.tests.factories import at, make_person, make_service, make_ticket

pytestmark = pytest.mark.django_db
RESOLVED = Ticket.Status.RESOLVED


@pytest.fixture
def desk(settings: Any) -> dict[str, Any]:
    settings.SERVICELOOP_MIN_SAMPLE = 1
    payroll = make_service("Payroll")
    acme = make_organisation("Acme")
    pat, kim = make_person(acme, "pat@acme.example"), make_person(acme, "kim@acme.example")
    lee = make_person(acme, "lee@acme.example")
    calendar = BusinessCalendar.objects.create(name="Office", time_zone="UTC")  # 09–17 Monday to Friday
    target = SlaTarget.objects.create(
        service=payroll, priority="p3", calendar=calendar, first_response_minutes=60, resolution_minutes=480
    )
    # Monday 1 June 2026. T1: answered after 60 business minutes, resolved after 240, both clocks met.
    make_ticket(
        payroll, pat, status=RESOLVED, opened_at=at("2026-06-01 09:00"), first_response_at=at("2026-06-01 10:00"),
        resolved_at=at("2026-06-01 13:00"), first_contact_resolution=True, sla_target=target,
        first_response_due_at=at("2026-06-01 10:30"), resolution_due_at=at("2026-06-01 17:00"),
    )  # fmt: skip
    # T2: opened Monday 16:00, answered Tuesday 09:30 (60 + 30 = 90 business minutes), resolved Tuesday 12:00
    # (60 + 180 = 240), after its resolution due time; 30 minutes waiting on the customer.
    make_ticket(
        payroll, kim, status=Ticket.Status.CLOSED, opened_at=at("2026-06-01 16:00"),
        first_response_at=at("2026-06-02 09:30"), resolved_at=at("2026-06-02 12:00"), first_contact_resolution=True,
        sla_target=target, first_response_due_at=at("2026-06-02 10:00"), resolution_due_at=at("2026-06-02 11:00"),
        resolution_breached=True, paused_seconds=1800,
    )  # fmt: skip
    # Kim comes back about the same service four days later: T2 was not resolved for good.
    make_ticket(payroll, kim, opened_at=at("2026-06-05 09:00"))
    # Pat comes back eight days after T1: outside the 7-day window, T1 stays a first-contact resolution.
    make_ticket(payroll, pat, opened_at=at("2026-06-09 14:00"))
    # T3 (Lee; no SLA target: the default calendar, 09–17 in UTC): answered after 15, resolved after 60,
    # reopened once, reassigned twice.
    make_ticket(
        payroll, lee, status=RESOLVED, type=Ticket.Type.REQUEST, opened_at=at("2026-06-03 09:00"),
        first_response_at=at("2026-06-03 09:15"), resolved_at=at("2026-06-03 10:00"), reopen_count=1,
        first_contact_resolution=False, reassignment_count=2,
    )  # fmt: skip
    return {"payroll": payroll, "acme": acme}


def values(scope: Scope, group_by: list[str] | None = None) -> dict[Any, dict[str, Any]]:
    grouped = desk_figures(scope, group_by or [], DESK_METRICS)
    return {key: {name: (shown.value, shown.n) for name, shown in figures.items()} for key, figures in grouped.items()}


def test_desk_figures_match_the_hand_computed_ones(desk: dict[str, Any]) -> None:
    shown = values(Scope())[()]
    assert shown["fcr"] == (33.3, 3)  # T1 of T1, T2, T3 (T2 had a new contact within 7 days, T3 reopened)
    assert shown["reopen_rate"] == (33.3, 3)  # T3
    assert shown["reassignment_mean"] == (0.67, 3)  # (0 + 0 + 2) / 3
    assert shown["sla_first_response"] == (100.0, 2)  # T1 and T2 answered by their due time
    assert shown["sla_resolution"] == (50.0, 2)  # T2 resolved after its due time
    assert shown["sla_paused"] == (30.0, 2)  # 1800 s of T2
    assert shown["mtta_mean"] == (55.0, 3)  # (60 + 90 + 15) / 3
    assert shown["mtta_median"] == (60.0, 3)
    assert shown["mttr_mean"] == (180.0, 3)  # (240 + 240 + 60) / 3
    assert shown["mttr_median"] == (240.0, 3)


def test_desk_proportions_carry_the_wilson_interval(desk: dict[str, Any]) -> None:
    fcr = desk_figures(Scope(), [], ["fcr"])[()]["fcr"]
    lo, hi = wilson(1, 3)
    assert fcr.interval == (round(100 * lo, 1), round(100 * hi, 1))
    assert fcr.unit == "%"


def test_desk_filters_and_groupings(desk: dict[str, Any]) -> None:
    requests = values(Scope(ticket_types=("request",)))[()]
    assert requests["mttr_mean"] == (60.0, 1) and requests["sla_resolution"] == (None, 0)
    assert values(Scope(since=date(2026, 6, 2), until=date(2026, 6, 2)))[()]["mttr_mean"] == (240.0, 1)  # T2
    by_day = values(Scope(), ["day"])
    assert {key: figures["mttr_mean"] for key, figures in by_day.items()} == {
        (date(2026, 6, 1),): (240.0, 1),
        (date(2026, 6, 2),): (240.0, 1),
        (date(2026, 6, 3),): (60.0, 1),
    }
    other = make_organisation("Borealis")
    assert values(Scope(organisation_ids=(other.pk,))) == {}


def test_under_the_minimum_sample_the_desk_says_not_enough_data(desk: dict[str, Any], settings: Any) -> None:
    settings.SERVICELOOP_MIN_SAMPLE = 30
    fcr = desk_figures(Scope(), [], ["fcr", "sla_paused"])[()]
    assert (fcr["fcr"].value, fcr["fcr"].n, fcr["fcr"].interval) == (None, 3, None)
    assert fcr["sla_paused"].value == 30.0  # a total shown for context, whatever its n


# ---------------------------------------------------------------- groups counted before computing


def test_too_many_groups_are_refused_before_any_figure_is_computed(
    desk: dict[str, Any], monkeypatch: pytest.MonkeyPatch, django_assert_max_num_queries: Any
) -> None:
    monkeypatch.setattr("serviceloop.experience.tally.MAX_GROUPS", 2)
    # Resolved on three days (T1, T2, T3): the first population's keys are already too many.
    with django_assert_max_num_queries(1), pytest.raises(InvalidInput) as refused:
        desk_figures(Scope(), ["day"], DESK_METRICS)
    assert refused.value.code == "too_many_groups" and refused.value.field == "group_by"
    assert "more groups than 2" in refused.value.message


def test_the_group_count_is_the_union_of_the_populations(
    desk: dict[str, Any], monkeypatch: pytest.MonkeyPatch, django_assert_max_num_queries: Any
) -> None:
    monkeypatch.setattr("serviceloop.experience.tally.MAX_GROUPS", 3)
    assert len(desk_figures(Scope(), ["day"], DESK_METRICS)) == 3  # answered and resolved on 1, 2 and 3 June
    # A ticket answered on 4 June, not resolved: a fourth group, from the answered tickets only.
    make_ticket(
        desk["payroll"], make_person(desk["acme"], "ann@acme.example"), opened_at=at("2026-06-04 09:00"),
        first_response_at=at("2026-06-04 09:30"),
    )  # fmt: skip
    with django_assert_max_num_queries(4), pytest.raises(InvalidInput):
        desk_figures(Scope(), ["day"], DESK_METRICS)
    assert len(desk_figures(Scope(), ["day"], ["mttr_mean"])) == 3  # MTTR reads resolved tickets only


def test_the_api_answers_422_before_computing(
    desk: dict[str, Any], sam: Any, monkeypatch: pytest.MonkeyPatch, django_assert_max_num_queries: Any
) -> None:
    monkeypatch.setattr("serviceloop.experience.tally.MAX_GROUPS", 2)
    client = api_client_for(sam)
    with django_assert_max_num_queries(6):  # the token, the user, one group count
        answer = client.get("/api/experience/metrics", {"group_by": "day,organisation", "metrics": "mttr_mean,fcr"})
    assert answer.status_code == 422, answer.content
    assert answer.json()["field"] == "group_by" and "narrow the period" in answer.json()["message"]

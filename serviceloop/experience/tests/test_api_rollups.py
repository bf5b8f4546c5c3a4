"""The metrics API reads the rollups: the same figures as the raw recount, lost time in money at each
organisation's rate, groups counted before anything is summed, a bounded number of queries."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.testing import api_client_for
from serviceloop.catalogue.models import Offering, Service
from serviceloop.desk.models import Ticket
from serviceloop.experience import api
from serviceloop.experience.api import compute
from serviceloop.experience.metrics import COST_METRICS, TALLY_METRICS, figures
from serviceloop.experience.rollups import rollups_rebuild
from serviceloop.experience.sources import tally_from_rows
from serviceloop.experience.tally import Scope, Tally
from serviceloop.experience.tests.factories import (
    deliver,
    invite,
    make_person,
    make_service,
    make_ticket,
    post,
    respond,
    suppress,
)
from serviceloop.feedback.models import LOST_TIME_MINUTES, Response
from serviceloop.relationships.services import organisation_update

pytestmark = pytest.mark.django_db
URL = "/api/experience/metrics"


def figures_of(group: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {figure["metric"]: figure for figure in group["figures"]}


@pytest.fixture
def rates(settings: Any, sam: User, org_a: Organisation) -> None:
    settings.SERVICELOOP_MIN_SAMPLE = 1
    settings.SERVICELOOP_HOURLY_COST = Decimal("50")
    settings.SERVICELOOP_CURRENCY = "EUR"
    organisation_update(organisation=org_a, by=sam, hourly_cost=Decimal("80"))  # org B: the default 50


@pytest.fixture
def lost(rates: None, org_a: Organisation, org_b: Organisation) -> dict[str, Any]:
    payroll, rides = make_service("Payroll"), make_service("Ride booking")
    # Acme (80 an hour): two answers "less than 30 minutes" naming speed → 2 × 15/60 × 80 = 40.00.
    respond(payroll, "2026-06-02 10:00", organisation=org_a, lost_time_bucket="lt30", drivers=["speed"], happiness=9)
    respond(payroll, "2026-06-03 10:00", organisation=org_a, lost_time_bucket="lt30", drivers=["speed"], happiness=6)
    # Borealis (the default 50): one "1–2 hours" naming speed and quality → 90/60 × 50 = 75.00.
    respond(
        payroll,
        "2026-06-03 11:00",
        organisation=org_b,
        lost_time_bucket="1to2h",
        drivers=["speed", "quality"],
        happiness=2,
    )
    # No organisation (a public widget, the default 50): "30–60 minutes" on Ride booking → 45/60 × 50 = 37.50.
    respond(rides, "2026-06-04 12:00", channel="widget", lost_time_bucket="30to60", happiness=7)
    deliver()
    return {"payroll": payroll, "rides": rides}


def test_lost_time_in_money_is_priced_at_each_organisations_rate(
    lost: dict[str, Any], sam: User, org_a: Organisation, org_b: Organisation
) -> None:
    client = api_client_for(sam)
    names = "lost_time_total,lost_cost_total,lost_cost_mean"
    (group,) = client.get(URL, {"metrics": names}).json()["groups"]
    shown = figures_of(group)
    assert (shown["lost_time_total"]["value"], shown["lost_time_total"]["n"]) == (165.0, 4)  # 15 + 15 + 90 + 45
    # 40.00 + 75.00 + 37.50 = 152.50 (at a single 50 an hour it would be 137.50); per answer 38.125 → 38.13.
    assert shown["lost_cost_total"] == {
        "metric": "lost_cost_total",
        "label": "Lost time in money",
        "value": 152.5,
        "n": 4,
        "interval": None,
        "unit": "EUR",
        "enough": True,
    }
    assert (shown["lost_cost_mean"]["value"], shown["lost_cost_mean"]["unit"]) == (38.13, "EUR")

    by_service = client.get(URL, {"metrics": "lost_cost_total", "group_by": "service"}).json()["groups"]
    assert {g["key"]["service"]: g["figures"][0]["value"] for g in by_service} == {
        lost["payroll"].public_id: 115.0,  # Acme's 40.00 + Borealis' 75.00, each at its own rate
        lost["rides"].public_id: 37.5,
    }
    by_org = client.get(URL, {"metrics": "lost_cost_total", "group_by": "organisation"}).json()["groups"]
    assert [(g["key"]["organisation"], g["figures"][0]["value"]) for g in by_org] == [
        (None, 37.5),  # no organisation first
        (org_a.public_id, 40.0),
        (org_b.public_id, 75.0),
    ]


def test_lost_time_and_money_per_driver(lost: dict[str, Any], sam: User) -> None:
    names = "lost_time_driver_speed,lost_time_driver_quality,lost_cost_driver_speed,lost_cost_driver_quality"
    (group,) = api_client_for(sam).get(URL, {"metrics": names}).json()["groups"]
    shown = {name: (f["value"], f["n"]) for name, f in figures_of(group).items()}
    assert shown == {
        "lost_time_driver_speed": (15 + 15 + 90, 3),
        "lost_time_driver_quality": (90, 1),
        "lost_cost_driver_speed": (115.0, 3),  # 40.00 at Acme's 80 + 75.00 at the default 50
        "lost_cost_driver_quality": (75.0, 1),
    }


def test_a_new_hourly_cost_applies_to_the_figures_at_once(lost: dict[str, Any], sam: User, org_b: Organisation) -> None:
    organisation_update(organisation=org_b, by=sam, hourly_cost=Decimal("70.50"))
    (group,) = api_client_for(sam).get(URL, {"metrics": "lost_cost_total"}).json()["groups"]
    # Borealis' 90 minutes now at 70.50: 105.75; with 40.00 and 37.50 → 183.25.
    assert figures_of(group)["lost_cost_total"]["value"] == 183.25


def test_a_customer_sees_the_money_of_their_own_organisation_only(lost: dict[str, Any], carol: User) -> None:
    (group,) = api_client_for(carol).get(URL, {"metrics": "lost_cost_total,lost_cost_driver_quality"}).json()["groups"]
    assert (figures_of(group)["lost_cost_total"]["value"], figures_of(group)["lost_cost_total"]["n"]) == (40.0, 2)
    assert figures_of(group)["lost_cost_driver_quality"]["n"] == 0  # Borealis' answer is not theirs


def test_the_api_counts_what_the_rollups_count(lost: dict[str, Any], sam: User) -> None:
    # A row written behind the services' back (no event): not in the figures until the rollups are rebuilt.
    Response.objects.create(
        service=lost["rides"],
        responded_at=Response.objects.first().responded_at,
        happiness=10,  # type: ignore[union-attr]
    )
    client = api_client_for(sam)
    (group,) = client.get(URL, {"metrics": "happiness"}).json()["groups"]
    assert figures_of(group)["happiness"]["n"] == 4
    rollups_rebuild()
    (group,) = client.get(URL, {"metrics": "happiness"}).json()["groups"]
    assert figures_of(group)["happiness"]["n"] == 5


def test_social_post_shares_through_the_api(rates: None, sam: User, carol: User) -> None:
    payroll, rides = make_service("Payroll"), make_service("Ride booking")
    for label in ("positive", "positive", "negative", "neutral"):
        post([payroll], "2026-06-10 08:00", label)
    post([payroll, rides], "2026-06-11 08:00", "negative")  # counts once for each service
    post([payroll], "2026-06-11 09:00", None)  # no label: not counted
    deliver()
    groups = api_client_for(sam).get(URL, {"metrics": "social_positive,social_negative", "group_by": "service"})
    shown = {g["key"]["service"]: [(f["value"], f["n"]) for f in g["figures"]] for g in groups.json()["groups"]}
    # Payroll: 2 positive, 2 negative, 1 neutral of 5 labelled posts; Ride booking: 1 negative of 1.
    assert shown == {payroll.public_id: [(40.0, 5), (40.0, 5)], rides.public_id: [(0.0, 1), (100.0, 1)]}
    # Posts belong to no organisation: a customer's figures have none.
    (group,) = api_client_for(carol).get(URL, {"metrics": "social_negative"}).json()["groups"]
    assert (figures_of(group)["social_negative"]["value"], figures_of(group)["social_negative"]["n"]) == (None, 0)


@pytest.fixture
def mixed(rates: None, org_a: Organisation, org_b: Organisation) -> dict[str, Any]:
    """Every source, channel, dimension and measure at once, over a month boundary."""
    payroll, rides = make_service("Payroll"), make_service("Ride booking")
    payslips = Offering.objects.create(service=payroll, name="Payslips", slug="payslips")
    pat, kim = make_person(org_a, "pat@acme.example"), make_person(org_b, "kim@borealis.example")
    incident = make_ticket(payroll, pat, type=Ticket.Type.INCIDENT)
    request = make_ticket(rides, kim, type=Ticket.Type.REQUEST)
    buckets = list(LOST_TIME_MINUTES)
    channels = ["email", "widget", "qr", "portal", "api"]
    for i in range(24):
        organisation = (org_a, org_b, None)[i % 3]
        respond(
            (payroll, rides)[i % 2],
            f"2026-{6 + i // 12:02d}-{1 + (i * 5) % 28:02d} {8 + i % 12:02d}:00",
            organisation=organisation,
            offering=payslips if i % 4 == 0 else None,
            ticket=(incident if i % 2 == 0 else request) if i % 5 == 0 else None,
            channel=channels[i % len(channels)],
            happiness=(i * 7) % 11,
            csat=1 + i % 5 if i % 3 else None,
            nps=(i * 3) % 11 if i % 2 else None,
            ces=1 + i % 7 if i % 4 else None,
            lost_time_bucket=buckets[i % len(buckets)] if i % 6 else None,
            drivers=[["speed"], ["quality", "cost"], [], ["communication", "speed", "knowledge"]][i % 4],
            sentiment_label=["positive", "neutral", "negative", None][i % 4],
        )
    invite(pat, payroll, "2026-06-09 09:00", answered=True)
    invite(pat, payroll, "2026-06-30 23:00")
    invite(kim, rides, "2026-07-01 10:00", answered=True)
    suppress(payroll, org_a, "2026-06-09 11:00", "throttled")
    suppress(rides, None, "2026-07-02 12:00", "opted_out")
    post([payroll, rides], "2026-06-10 08:00", "negative")
    post([payroll], "2026-07-10 09:00", "positive")
    deliver()
    return {"payroll": payroll, "rides": rides}


def _raw_money(group_by: tuple[str, ...], default: Decimal) -> dict[tuple[object, ...], tuple[Decimal, int]]:
    """Lost time in money straight from the response rows, one row at a time (no tally)."""
    totals: dict[tuple[object, ...], list[Any]] = defaultdict(lambda: [Decimal(0), 0])
    for response in Response.objects.select_related("organisation").exclude(lost_time_bucket=None):
        rate = response.organisation.cost_per_hour if response.organisation else default
        key = tuple(
            {"service": response.service_id, "organisation": response.organisation_id}[name] for name in group_by
        )
        totals[key][0] += Decimal(LOST_TIME_MINUTES[response.lost_time_bucket]) * rate / 60  # type: ignore[index]
        totals[key][1] += 1
    return {key: (amount.quantize(Decimal("0.01")), n) for key, (amount, n) in totals.items()}


GROUPINGS = [(), ("service",), ("organisation", "month"), ("channel", "ticket_type"), ("week", "offering"), ("day",)]


def test_the_api_figures_equal_the_raw_recount_on_a_mixed_data_set(mixed: dict[str, Any]) -> None:
    for group_by in GROUPINGS:  # one data set (its events take a while to deliver), every grouping
        check_against_the_raw_recount(group_by)


def check_against_the_raw_recount(group_by: tuple[str, ...]) -> None:
    names = [*TALLY_METRICS, *COST_METRICS]
    answered = compute(Scope(), list(group_by), names)
    raw = tally_from_rows(Scope(), group_by)
    keys = set(raw) if group_by else {()}
    shown = api._key_names(list(group_by), keys)
    expected = [(shown(key), figures(TALLY_METRICS, raw.get(key, Tally()))) for key in sorted(keys, key=api._order)]
    assert len(answered) == len(expected) and len(answered) > (1 if group_by else 0), group_by
    for (key, got), (want_key, want) in zip(answered, expected, strict=True):
        assert key == want_key
        assert got[: len(TALLY_METRICS)] == want, key
    # Money: against a recount of the rows, one at a time, at each organisation's rate.
    if set(group_by) <= {"service", "organisation"}:
        money = _raw_money(group_by, Decimal("50"))
        pks = {
            "service": dict(Service.objects.values_list("public_id", "pk")),
            "organisation": dict(Organisation.objects.values_list("public_id", "pk")),
        }
        got_money = {
            tuple(pks[name].get(key[name] or "") for name in group_by): (Decimal(str(got[0].value)), got[0].n)
            for key, got in compute(Scope(), list(group_by), ["lost_cost_total"])
        }
        assert got_money == money, group_by


def test_the_groups_are_counted_before_anything_is_summed(
    lost: dict[str, Any], sam: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = api_client_for(sam)
    params = {"group_by": "day", "metrics": "happiness,lost_cost_total"}
    monkeypatch.setattr("serviceloop.experience.tally.MAX_GROUPS", 3)
    assert len(client.get(URL, params).json()["groups"]) == 3  # 2, 3 and 4 June: three groups are allowed

    monkeypatch.setattr("serviceloop.experience.tally.MAX_GROUPS", 2)

    def summed(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the rollups were summed before the groups were counted")

    monkeypatch.setattr("serviceloop.experience.api.tally_from_rollups", summed)
    monkeypatch.setattr("serviceloop.experience.api.priced_from_rollups", summed)
    answer = client.get(URL, params)
    assert answer.status_code == 422
    assert answer.json()["field"] == "group_by"
    assert answer.json()["message"] == "group_by: more groups than 2; narrow the period (from, to) or the grouping."


def test_a_grouped_answer_takes_a_bounded_number_of_queries(lost: dict[str, Any], sam: User) -> None:
    names = [*TALLY_METRICS, *COST_METRICS]
    with CaptureQueriesContext(connection) as queries:
        groups = compute(Scope(), ["service", "month"], names)
    assert len(groups) == 2  # Payroll and Ride booking in June
    # Count the groups, sum the rollups, the lost time by organisation, the organisations' rates,
    # the services' public ids: five, however many rows, organisations or groups (no query per group).
    assert len(queries) == 5, [query["sql"][:80] for query in queries]

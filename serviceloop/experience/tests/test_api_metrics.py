"""GET /api/experience/metrics (and .csv): figures per group, filters, 422s naming the parameter, tenancy."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.testing import api_client_for
from serviceloop.experience.metrics import METRICS
from serviceloop.experience.tests.factories import invite, make_person, make_service, respond, suppress

pytestmark = pytest.mark.django_db
URL = "/api/experience/metrics"


@pytest.fixture
def seeded(settings: Any, org_a: Organisation, org_b: Organisation) -> dict[str, Any]:
    settings.SERVICELOOP_MIN_SAMPLE = 3
    payroll = make_service("Payroll")
    # Organisation A: 3 promoters and 1 detractor in June, 2 passives in July → June happiness 50 (n 4).
    for when, score in (("2026-06-02 10:00", 10), ("2026-06-03 10:00", 9), ("2026-06-04 10:00", 9)):
        respond(payroll, when, organisation=org_a, happiness=score)
    respond(payroll, "2026-06-05 10:00", organisation=org_a, happiness=2)
    respond(payroll, "2026-07-01 10:00", organisation=org_a, happiness=7)
    respond(payroll, "2026-07-02 10:00", organisation=org_a, happiness=8)
    # Organisation B: three detractors in June.
    for day in (2, 3, 4):
        respond(payroll, f"2026-06-0{day} 11:00", organisation=org_b, happiness=0)
    invite(make_person(org_b, "kim@borealis.example"), payroll, "2026-06-01 09:00")
    suppress(payroll, org_b, "2026-06-01 09:00")
    return {"payroll": payroll}


def figures_of(group: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {figure["metric"]: figure for figure in group["figures"]}


def test_staff_get_every_metric_in_one_group(seeded: dict[str, Any], sam: User) -> None:
    answer = api_client_for(sam).get(URL)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["min_sample"] == 3
    (group,) = body["groups"]
    assert group["key"] == {}
    assert [figure["metric"] for figure in group["figures"]] == list(METRICS)
    happiness = figures_of(group)["happiness"]
    # 3 promoters, 4 detractors of 9 → (3 − 4)/9 = −11.1 points
    assert (happiness["value"], happiness["n"], happiness["unit"]) == (-11.1, 9, "points")
    assert figures_of(group)["suppressed"]["value"] == 1
    assert figures_of(group)["response_rate"]["n"] == 1 and figures_of(group)["response_rate"]["value"] is None


def test_grouped_by_organisation_and_month_with_public_ids(
    seeded: dict[str, Any], sam: User, org_a: Organisation, org_b: Organisation
) -> None:
    answer = api_client_for(sam).get(URL, {"group_by": "organisation,month", "metrics": "happiness,nps"})
    assert answer.status_code == 200, answer.content
    shown = {
        (group["key"]["organisation"], group["key"]["month"]): [
            (f["metric"], f["value"], f["n"]) for f in group["figures"]
        ]
        for group in answer.json()["groups"]
    }
    # A in June: 3 promoters, 1 detractor of 4 → 50; A in July: n 2 < 3 → not enough data; B: all detractors.
    assert shown == {
        (org_a.public_id, "2026-06-01"): [("happiness", 50.0, 4), ("nps", None, 0)],
        (org_a.public_id, "2026-07-01"): [("happiness", None, 2), ("nps", None, 0)],
        (org_b.public_id, "2026-06-01"): [("happiness", -100.0, 3), ("nps", None, 0)],
    }


def test_filters_by_ids_and_days(seeded: dict[str, Any], sam: User, org_a: Organisation) -> None:
    client = api_client_for(sam)
    params = {"organisation": org_a.public_id, "from": "2026-06-01", "to": "2026-06-30", "metrics": "happiness"}
    (group,) = client.get(URL, params).json()["groups"]
    assert figures_of(group)["happiness"]["n"] == 4
    interval = figures_of(group)["happiness"]["interval"]
    # p = 3/4, d = 1/4: half-width 196·√((1 − 0.25)/4) = 84.9 → [−34.9, 100 (clipped from 134.9)]
    assert interval == [-34.9, 100.0]
    repeated = client.get(URL, {"service": [seeded["payroll"].public_id], "metrics": ["happiness", "csat"]})
    assert [f["metric"] for f in repeated.json()["groups"][0]["figures"]] == ["happiness", "csat"]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"metrics": "happiness,joy"}, "metrics"),
        ({"from": "2026-07-01", "to": "2026-06-01"}, "from"),
        ({"service": "nosuchservice"}, "service"),
        ({"organisation": "nosuchorg"}, "organisation"),
        ({"offering": "nosuchoffering"}, "offering"),
        ({"group_by": "year"}, "group_by"),
        ({"group_by": "week,week"}, "group_by"),
        ({"channel": "pigeon"}, "channel"),
        ({"ticket_type": "riddle"}, "ticket_type"),
    ],
)
def test_bad_input_answers_422_naming_the_parameter(
    seeded: dict[str, Any], sam: User, params: dict[str, str], parameter: str
) -> None:
    answer = api_client_for(sam).get(URL, params)
    assert answer.status_code == 422, answer.content
    assert answer.json()["field"] == parameter
    assert answer.json()["message"].startswith(f"{parameter}:")


def test_too_many_groups_answers_422(seeded: dict[str, Any], sam: User, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("serviceloop.experience.tally.MAX_GROUPS", 2)
    answer = api_client_for(sam).get(URL, {"group_by": "day"})  # seven days with answers
    assert answer.status_code == 422
    assert answer.json()["field"] == "group_by" and "narrow the period" in answer.json()["message"]
    months = api_client_for(sam).get(URL, {"group_by": "month"})
    assert [group["key"]["month"] for group in months.json()["groups"]] == ["2026-06-01", "2026-07-01"]


def test_a_date_that_is_no_date_answers_422(seeded: dict[str, Any], sam: User) -> None:
    answer = api_client_for(sam).get(URL, {"from": "June"})
    assert answer.status_code == 422
    assert "from" in answer.content.decode()


def test_a_customer_sees_their_own_organisation_only(
    seeded: dict[str, Any], carol: User, org_a: Organisation, org_b: Organisation
) -> None:
    client = api_client_for(carol)
    (group,) = client.get(URL, {"metrics": "happiness,suppressed"}).json()["groups"]
    assert figures_of(group)["happiness"]["n"] == 6  # organisation A's six answers, none of B's three
    assert figures_of(group)["suppressed"]["value"] == 0  # B's suppressed invitation is not theirs
    grouped = client.get(URL, {"group_by": "organisation", "metrics": "happiness"}).json()["groups"]
    assert [group["key"] for group in grouped] == [{"organisation": org_a.public_id}]
    assert client.get(URL, {"organisation": org_a.public_id}).status_code == 200
    # Another organisation's id answers 404, as any row a customer may not see; so does the CSV.
    assert client.get(URL, {"organisation": org_b.public_id}).status_code == 404
    assert client.get(URL, {"organisation": [org_a.public_id, org_b.public_id]}).status_code == 404
    assert client.get(f"{URL}.csv", {"organisation": org_b.public_id}).status_code == 404


def test_anonymous_is_refused(seeded: dict[str, Any], client: Any) -> None:
    assert client.get(URL).status_code == 401
    assert client.get(f"{URL}.csv").status_code == 401


def test_csv_has_one_row_per_group_and_figure(seeded: dict[str, Any], sam: User, org_a: Organisation) -> None:
    answer = api_client_for(sam).get(f"{URL}.csv", {"group_by": "organisation", "metrics": "happiness,csat"})
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.content.decode())))
    header = ["organisation", "metric", "label", "value", "n", "interval_low", "interval_high", "unit", "enough"]
    assert rows[0] == header
    assert len(rows) == 1 + 2 * 2  # two organisations × two figures
    first = dict(zip(header, rows[1], strict=True))
    assert first["metric"] == "happiness" and first["n"] in {"6", "3"}
    csat = [dict(zip(header, row, strict=True)) for row in rows[1:] if row[1] == "csat"]
    assert all(row["value"] == "" and row["enough"] == "no" for row in csat)  # no satisfaction answers

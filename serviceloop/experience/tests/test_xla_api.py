"""The XLA API: create, read, change, archive, evaluate, history; 4xx with a message naming the field; tenancy."""

from __future__ import annotations

import json
from typing import Any

import pytest

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.testing import api_client_for
from serviceloop.catalogue.models import Offering, Service
from serviceloop.experience.models import Xla, XlaEvaluation
from serviceloop.experience.tests.xla_factories import answers, at, refresh
from serviceloop.relationships.models import Relationship
from serviceloop.relationships.services import relationship_create

pytestmark = pytest.mark.django_db
URL = "/api/experience/xlas"


@pytest.fixture(autouse=True)
def _seeded(settings: Any, service: Service, travel: Any) -> None:
    settings.SERVICELOOP_MIN_SAMPLE = 5
    travel.to(at("2026-06-30 12:00"))
    answers(service, "2026-06-20 10:00", 10, 10, 9, 9, 9, 10, 7, 8, 0, 6)  # +40.0, n 10
    refresh()


def post(client: Any, body: dict[str, Any]) -> Any:
    return client.post(URL, data=json.dumps(body), content_type="application/json")


def test_a_manager_creates_reads_changes_evaluates_and_archives_an_xla(sam: User, service: Service) -> None:
    client = api_client_for(sam)
    created = post(
        client, {"name": "Mail happiness", "service": service.public_id, "metric": "happiness", "target": 50}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["scope"] == "service" and body["relationship"] is None
    assert (body["state"], body["figure"]["value"], body["figure"]["n"]) == ("breached", 40.0, 10)
    assert body["figure"]["interval"] == [-9.6, 89.6] and body["figure"]["unit"] == "points"
    # Defaults: rolling 30 days, the project's minimum sample, 5 points at risk, owned by the service manager.
    assert (body["window"], body["min_sample"], body["risk_margin"], body["owner"]["email"]) == (
        "rolling_30",
        5,
        5.0,
        sam.email,
    )
    assert body["sla"]["met"] is None and body["watermelon"] is False
    public_id = body["public_id"]

    read = client.get(f"{URL}/{public_id}")
    assert read.status_code == 200 and read["ETag"] == '"1"'
    changed = client.patch(
        f"{URL}/{public_id}", data=json.dumps({"target": 30}), content_type="application/json", HTTP_IF_MATCH='"1"'
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["state"], changed.json()["target"], changed["ETag"]) == ("met", 30.0, '"2"')
    stale = client.patch(
        f"{URL}/{public_id}", data=json.dumps({"target": 20}), content_type="application/json", HTTP_IF_MATCH='"1"'
    )
    assert stale.status_code == 412 and "reload" in stale.json()["message"]

    evaluated = client.post(f"{URL}/{public_id}/evaluate")
    assert evaluated.status_code == 200 and evaluated.json()["state"] == "met"
    history = client.get(f"{URL}/{public_id}/history").json()
    assert [(row["previous_state"], row["state"], row["value"]) for row in history["items"]] == [
        ("breached", "met", 40.0),
        (None, "breached", 40.0),
    ]

    assert client.delete(f"{URL}/{public_id}").status_code == 204
    assert client.get(URL).json()["count"] == 0  # the list shows active XLAs by default
    assert client.get(URL, {"status": "archived"}).json()["items"][0]["status"] == "archived"
    assert client.post(f"{URL}/{public_id}/evaluate").status_code == 409
    assert (
        client.patch(f"{URL}/{public_id}", data=json.dumps({"target": 1}), content_type="application/json").status_code
        == 409
    )


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"metric": "joy"}, "metric", "no metric named 'joy'"),
        ({"target": 150}, "target", "outside the range of happiness (-100 to 100 points)"),
        ({"metric": "csat", "target": -1}, "target", "outside the range of csat (0 to 100 %)"),
        ({"window": "rolling_14"}, "window", "'rolling_14' is not one of rolling_7, rolling_30, rolling_90, month"),
        ({"min_sample": 2}, "min_sample", "from 5"),
        ({"risk_margin": 500}, "risk_margin", "from 0 to 200 points"),
        ({"baseline_kind": "value"}, "baseline", "give the baseline value"),
        ({"baseline_kind": "value", "baseline": -101}, "baseline", "outside the range"),
        ({"service": "nope"}, "service", "no service with the id nope"),
        ({"service": None}, "service", "a service or a relationship"),
        ({"owner": "nope"}, "owner", "no user with the id nope"),
        ({"start_date": "1900-01-01"}, "start_date", "must be between"),
        ({"target": "NaN"}, "target", "target"),
        ({"comparator": "eq"}, "comparator", "comparator"),
    ],
)
def test_bad_input_answers_a_4xx_naming_the_field(
    sam: User, service: Service, change: dict[str, Any], field: str, words: str
) -> None:
    body = {"name": "Mail happiness", "service": service.public_id, "metric": "happiness", "target": 50, **change}
    answer = post(api_client_for(sam), body)
    assert answer.status_code == 422, answer.content
    shown = answer.json()
    fields = {shown.get("field"), *(error["field"] for error in shown.get("errors", []))}
    assert any(name and field in name for name in fields), shown
    assert words in answer.content.decode(), shown
    assert not Xla.objects.exists()


def test_an_owner_must_be_a_service_manager_and_the_scope_must_agree(
    sam: User, alex: User, service: Service, relationship_a: Relationship
) -> None:
    client = api_client_for(sam)
    base = {"name": "X", "metric": "happiness", "target": 0}
    agent_owner = post(client, {**base, "service": service.public_id, "owner": alex.public_id})
    assert agent_owner.status_code == 422 and agent_owner.json()["field"] == "owner"
    other = Service.objects.create(name="Payroll", slug="payroll", service_manager=sam)
    mismatch = post(client, {**base, "service": other.public_id, "relationship": relationship_a.public_id})
    assert mismatch.status_code == 422 and "another service" in mismatch.json()["message"]
    fine = post(client, {**base, "relationship": relationship_a.public_id})
    assert fine.status_code == 201 and fine.json()["service"]["public_id"] == service.public_id


def test_customers_read_their_own_relationships_xlas_only(
    sam: User,
    carol: User,
    bob: User,
    alex: User,
    service: Service,
    offering: Offering,
    relationship_a: Relationship,
    org_b: Organisation,
) -> None:
    client = api_client_for(sam)
    relationship_b = relationship_create(
        by=sam, organisation=org_b, offering=offering, started_on=relationship_a.started_on
    )
    ids = {}
    for name, scope in (
        ("whole", {"service": service.public_id}),
        ("a", {"relationship": relationship_a.public_id}),
        ("b", {"relationship": relationship_b.public_id}),
    ):
        answer = post(client, {"name": name, "metric": "happiness", "target": 0, **scope})
        assert answer.status_code == 201, answer.content
        ids[name] = answer.json()["public_id"]

    def listed(user: User) -> list[str]:
        return sorted(item["name"] for item in api_client_for(user).get(URL).json()["items"])

    assert listed(alex) == ["a", "b", "whole"]
    assert listed(carol) == ["a"] and listed(bob) == ["b"]
    carols = api_client_for(carol)
    assert carols.get(f"{URL}/{ids['a']}").status_code == 200
    assert carols.get(f"{URL}/{ids['a']}/history").status_code == 200
    for other in ("b", "whole"):
        assert carols.get(f"{URL}/{ids[other]}").status_code == 404
        assert carols.get(f"{URL}/{ids[other]}/history").status_code == 404
    # Read-only: a customer (and an agent) changes nothing.
    for user in (carol, alex):
        caller = api_client_for(user)
        assert caller.post(f"{URL}/{ids['a']}/evaluate").status_code == 403
        assert caller.delete(f"{URL}/{ids['a']}").status_code == 403
        assert (
            post(caller, {"name": "x", "service": service.public_id, "metric": "csat", "target": 1}).status_code == 403
        )
    assert XlaEvaluation.objects.count() == 3


def test_the_list_filters_by_service_and_state_and_pages(sam: User, service: Service) -> None:
    client = api_client_for(sam)
    other = Service.objects.create(name="Payroll", slug="payroll", service_manager=sam)
    for index in range(3):
        post(client, {"name": f"met {index}", "service": service.public_id, "metric": "happiness", "target": 0})
    post(client, {"name": "breached", "service": service.public_id, "metric": "happiness", "target": 90})
    post(client, {"name": "elsewhere", "service": other.public_id, "metric": "happiness", "target": 0})
    assert client.get(URL, {"state": "breached"}).json()["items"][0]["name"] == "breached"
    assert client.get(URL, {"service": other.public_id}).json()["count"] == 1
    assert client.get(URL, {"state": "not_enough_data"}).json()["count"] == 1  # nothing on payroll
    page = client.get(URL, {"limit": 2, "offset": 2}).json()
    assert page["count"] == 5 and len(page["items"]) == 2
    assert client.get(URL, {"state": "green"}).status_code == 422

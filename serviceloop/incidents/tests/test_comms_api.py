"""The incidents API: declare, read the clocks, post updates, plan the recovery, resolve; 4xx with reasons."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from serviceloop.accounts.testing import api_client_for
from serviceloop.desk.tests.factories import make_calendar
from serviceloop.incidents.models import EtaChange, Incident
from serviceloop.incidents.tests.comms_factories import a_ticket, comms_world

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
API = "/api/incidents/incidents"


@pytest.fixture
def world(service: Any, org_a: Any, org_b: Any, travel: Any) -> Any:
    travel.to(START)
    return comms_world(service, org_a, org_b)


def _post(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _patch(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.patch(url, data=json.dumps(body), content_type="application/json")


def _declare(client: Any, world: Any, **fields: Any) -> dict[str, Any]:
    body = {"title": "Mail delivery delayed", "severity": "sev1", "services": [{"service": world.service.public_id}]}
    response = _post(client, API, {**body, **fields})
    assert response.status_code == 201, response.content
    return response.json()  # type: ignore[no-any-return]


def test_declare_from_a_ticket_and_read_it_back_with_its_clocks(world: Any, alex: Any, ada: Any, travel: Any) -> None:
    client = api_client_for(alex)
    ticket = a_ticket(world)
    created = _declare(
        client,
        world,
        services=[],
        offerings=[world.offering.public_id],
        tickets=[ticket.public_id],
        comms_lead=ada.public_id,
    )
    assert created["reference"].startswith("MI-") and created["is_major"]
    assert created["tickets"][0]["reference"] == ticket.reference
    assert created["organisations"] == [
        {
            "organisation": {"public_id": ticket.organisation.public_id, "name": ticket.organisation.name},
            "users_affected": 3,
            "users_total": 3,
        }
    ]
    assert [p["audience"] for p in created["plans"]] == ["customers", "internal", "public"]
    assert created["plans"][0]["owner"]["public_id"] == ada.public_id
    travel.to(START + timedelta(minutes=20))
    detail = client.get(f"{API}/{created['public_id']}").json()
    assert {(p["minutes_left"], p["overdue"]) for p in detail["plans"]} == {(10.0, False)}
    travel.to(START + timedelta(minutes=45))
    detail = client.get(f"{API}/{created['public_id']}").json()
    assert {(p["minutes_left"], p["overdue"]) for p in detail["plans"]} == {(-15.0, True)}
    listed = client.get(API, {"status": "investigating", "severity": "sev1"}).json()["items"]
    assert [row["public_id"] for row in listed] == [created["public_id"]]
    assert client.get(API, {"severity": "sev2"}).json() == {"items": [], "count": 0}


def test_a_whole_incident_through_the_api(world: Any, sam: Any, travel: Any) -> None:
    client = api_client_for(sam)
    incident = _declare(client, world)
    url = f"{API}/{incident['public_id']}"
    templates = client.get(f"{url}/templates").json()
    assert [t["name"] for t in templates] == ["Investigating", "Identified", "Monitoring", "Resolved"]

    travel.to(START + timedelta(minutes=10))
    first = templates[1]
    posted = _post(
        client,
        f"{url}/updates",
        {
            "audiences": ["public", "customers"],
            "status": "identified",
            "affected": first["affected"],
            "impacted": first["impacted"],
            "actions": first["actions"],
            "component_statuses": [{"service": world.service.public_id, "status": "partial_outage"}],
        },
    )
    assert posted.status_code == 201, posted.content
    assert posted.json()["next_update_at"] == "2026-12-01T10:40:00Z"
    assert posted.json()["affected_components"][0]["new_status"] == "partial_outage"

    calendar = make_calendar(time_zone="UTC")
    plan = _patch(client, f"{url}/plans/internal", {"cadence_minutes": 60, "calendar": calendar.public_id})
    assert plan.status_code == 200, plan.content
    assert plan.json()["next_due_at"] == "2026-12-01T11:00:00Z"
    started = _post(client, f"{url}/plans", {"audience": "public", "channels": ["status_page"]})
    assert started.json()["channels"] == ["status_page"]

    step = _post(
        client,
        f"{url}/steps",
        {"title": "Fail over", "eta": "2026-12-01T12:00:00Z", "eta_confidence": "medium", "customer_facing": True},
    )
    assert step.status_code == 201, step.content
    moved = _patch(
        client,
        f"/api/incidents/steps/{step.json()['public_id']}",
        {"eta": "2026-12-01T13:00:00Z", "status": "in_progress"},
    )
    assert moved.json()["status"] == "in_progress"
    eta = _post(client, f"{url}/eta", {"eta": "2026-12-01T14:00:00Z", "confidence": "low"})
    assert eta.json()["eta_confidence"] == "low"
    assert EtaChange.objects.count() == 3
    published = _post(client, f"{url}/publish-plan", {})
    assert [s["title"] for s in published.json()["published_plan"]] == ["Fail over"]

    changed = _patch(client, url, {"title": "Mail delayed for all", "owner": None, "version": 1})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = _patch(client, url, {"title": "Again", "version": 1})
    assert stale.status_code == 412

    resolved = _post(client, f"{url}/resolve", {"body": "Mail flows again."})
    assert resolved.status_code == 201, resolved.content
    assert resolved.json()["kind"] == "resolution"
    detail = client.get(url).json()
    assert detail["status"] == "resolved"
    assert all(p["next_due_at"] is None and not p["is_active"] for p in detail["plans"])
    assert [u["kind"] for u in detail["updates"]] == ["resolution", "update"]
    again = _post(client, f"{url}/updates", {"audiences": ["public"], "body": "More"})
    assert again.status_code == 409 and "resolved" in again.json()["message"]


@pytest.mark.parametrize(
    ("path", "body", "status", "field", "words"),
    [
        ("/updates", {"audiences": []}, 422, "audiences", "at least 1"),
        ("/updates", {"audiences": ["public"]}, 422, "body", "Write the update"),
        ("/updates", {"audiences": ["public"], "body": "x", "status": "resolved"}, 422, "status", "investigating"),
        (
            "/updates",
            {"audiences": ["public"], "body": "x", "next_update_at": "2026-12-01T12:00:00Z"},
            422,
            "next_update_at",
            "cadence allows",
        ),
        (
            "/updates",
            {"audiences": ["public"], "body": "x", "component_statuses": [{"service": "nope"}]},
            422,
            "component_statuses",
            "nope",
        ),
        ("/plans", {"audience": "public", "cadence_minutes": 2}, 422, "cadence_minutes", "greater than or equal to 5"),
        ("/plans", {"audience": "public", "owner": "nobody"}, 422, "owner", "member of staff"),
        ("/steps", {"title": "x", "eta_confidence": "sure"}, 422, "eta_confidence", ""),
        ("/publish-plan", {}, 422, "steps", "customer-facing"),
        ("/tickets", {"ticket": "nope"}, 404, None, "No such object"),
    ],
)
def test_bad_requests_answer_4xx_naming_the_field(
    world: Any, sam: Any, path: str, body: dict[str, Any], status: int, field: str | None, words: str
) -> None:
    client = api_client_for(sam)
    incident = _declare(client, world)
    response = _post(client, f"{API}/{incident['public_id']}{path}", body)
    assert response.status_code == status, response.content
    answer = response.json()
    if field is not None:
        assert field in (answer.get("field"), *[e["field"] for e in answer.get("errors", [])])
    assert words in answer["message"]


def test_declaring_needs_a_service_or_a_ticket_and_a_ticket_links_once(world: Any, sam: Any) -> None:
    client = api_client_for(sam)
    empty = _post(client, API, {"title": "Something"})
    assert (empty.status_code, empty.json()["field"]) == (422, "services")
    ticket = a_ticket(world)
    first = _declare(client, world, tickets=[ticket.public_id])
    second = _declare(client, world)
    clash = _post(client, f"{API}/{second['public_id']}/tickets", {"ticket": ticket.public_id})
    assert clash.status_code == 409 and first["reference"] in clash.json()["message"]


@pytest.mark.parametrize("who", ["carol", "bob"])
def test_customers_are_refused_on_every_route(world: Any, sam: Any, who: str, request: Any) -> None:
    staff = api_client_for(sam)
    incident = _declare(staff, world)
    step = _post(staff, f"{API}/{incident['public_id']}/steps", {"title": "Fail over"}).json()
    client = api_client_for(request.getfixturevalue(who))
    url = f"{API}/{incident['public_id']}"
    calls = [
        client.get(API),
        client.get(url),
        client.get(f"{url}/templates"),
        _post(client, API, {"title": "x", "services": [{"service": world.service.public_id}]}),
        _patch(client, url, {"title": "x"}),
        _post(client, f"{url}/updates", {"audiences": ["public"], "body": "x"}),
        _post(client, f"{url}/resolve", {"body": "x"}),
        _post(client, f"{url}/plans", {"audience": "public"}),
        _patch(client, f"{url}/plans/public", {"cadence_minutes": 10}),
        _post(client, f"{url}/steps", {"title": "x"}),
        _patch(client, f"/api/incidents/steps/{step['public_id']}", {"title": "x"}),
        _post(client, f"{url}/eta", {"eta": None}),
        _post(client, f"{url}/publish-plan", {}),
        _post(client, f"{url}/tickets", {"ticket": "x"}),
    ]
    assert [call.status_code for call in calls] == [403] * len(calls)
    assert Incident.objects.get().title == "Mail delivery delayed"

"""Contract tests of every /api/v2/*.json document against Statuspage's field names and values."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from serviceloop.accounts.models import User
from serviceloop.core.testing import Travel
from serviceloop.incidents import status
from serviceloop.incidents.models import Component, ComponentStatus, Incident, Severity
from serviceloop.incidents.tests.factories_status import (
    make_component,
    make_group,
    make_incident,
    make_maintenance,
    make_update,
    publish_review,
)

DOCUMENTS = [
    "summary.json",
    "status.json",
    "components.json",
    "incidents.json",
    "incidents/unresolved.json",
    "scheduled-maintenances.json",
    "scheduled-maintenances/upcoming.json",
    "scheduled-maintenances/active.json",
]
PAGE_KEYS = {"id", "name", "url", "time_zone", "updated_at"}
COMPONENT_KEYS = {
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "position",
    "description",
    "showcase",
    "start_date",
    "group_id",
    "page_id",
    "group",
    "only_show_if_degraded",
}
INCIDENT_KEYS = {
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "monitoring_at",
    "resolved_at",
    "impact",
    "shortlink",
    "started_at",
    "page_id",
    "incident_updates",
    "components",
}
MAINTENANCE_KEYS = INCIDENT_KEYS | {"scheduled_for", "scheduled_until"}
UPDATE_KEYS = {
    "id",
    "status",
    "body",
    "incident_id",
    "created_at",
    "updated_at",
    "display_at",
    "affected_components",
    "deliver_notifications",
}
COMPONENT_STATUSES = {"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def get(document: str, root: bool = True) -> dict[str, Any]:
    response = Client().get(("/api/v2/" if root else "/status/api/v2/") + document)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    return response.json()


def assert_page(page: dict[str, Any]) -> None:
    assert set(page) == PAGE_KEYS
    assert page["name"] == "serviceloop status"
    assert page["url"].endswith("/status/")
    assert page["time_zone"] == "UTC"
    assert page["id"] == status.page_id()


def assert_component(component: dict[str, Any]) -> None:
    assert set(component) == COMPONENT_KEYS | ({"components"} if component["group"] else set())
    assert component["status"] in COMPONENT_STATUSES
    assert ISO.match(component["created_at"]) and ISO.match(component["updated_at"])


def assert_incident(incident: dict[str, Any], maintenance: bool = False) -> None:
    assert set(incident) == (MAINTENANCE_KEYS if maintenance else INCIDENT_KEYS)
    if maintenance:
        assert incident["impact"] == "maintenance"
        assert incident["status"] in {"scheduled", "in_progress", "verifying", "completed"}
        assert ISO.match(incident["scheduled_for"]) and ISO.match(incident["scheduled_until"])
    else:
        assert incident["impact"] in {"none", "minor", "major", "critical"}
        assert incident["status"] in {"investigating", "identified", "monitoring", "resolved", "postmortem"}
    assert incident["shortlink"].endswith(f"/status/incidents/{incident['id']}/")
    for update in incident["incident_updates"]:
        assert set(update) == UPDATE_KEYS
        assert update["incident_id"] == incident["id"]
        assert ISO.match(update["display_at"])


@pytest.fixture
def mail(sam: User, travel: Travel) -> Component:
    travel.to(NOW - timedelta(days=30))
    component = make_component(sam, "Mail", description="Mailboxes and calendars")
    travel.to(NOW)
    return component


def test_a_quiet_page(mail: Component) -> None:
    summary = get("summary.json")
    assert set(summary) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
    assert_page(summary["page"])
    assert summary["status"] == {"indicator": "none", "description": "All Systems Operational"}
    assert summary["incidents"] == [] and summary["scheduled_maintenances"] == []
    [component] = summary["components"]
    assert_component(component)
    assert component == {
        **component,
        "id": mail.public_id,
        "name": "Mail",
        "status": "operational",
        "description": "Mailboxes and calendars",
        "position": 0,
        "showcase": True,
        "start_date": None,
        "group_id": None,
        "group": False,
        "only_show_if_degraded": False,
        "page_id": status.page_id(),
    }
    assert set(get("status.json")) == {"page", "status"}
    assert get("components.json")["components"] == summary["components"]
    for name in ("incidents.json", "incidents/unresolved.json"):
        assert get(name)["incidents"] == []
    for name in DOCUMENTS[5:]:
        assert get(name)["scheduled_maintenances"] == []


def test_every_document_is_served_at_the_root_and_beside_the_page_alike(mail: Component) -> None:
    make_incident(services={mail.service: ComponentStatus.DEGRADED})
    for name in DOCUMENTS:
        assert get(name, root=True) == get(name, root=False), name


def test_an_open_incident(mail: Component, travel: Travel) -> None:
    incident = make_incident(
        "Mail is down", services={mail.service: ComponentStatus.MAJOR}, severity=Severity.SEV1, status="identified"
    )
    make_update(incident, "We are investigating.", status="investigating", display_at=NOW - timedelta(minutes=20))
    change = [
        {"code": mail.service.public_id, "name": "Mail", "old_status": "operational", "new_status": "major_outage"}
    ]
    latest = make_update(incident, "The cause is a full disk.", affected_components=change, deliver_notifications=False)
    summary = get("summary.json")
    assert summary["status"] == {"indicator": "critical", "description": "Major System Outage"}
    assert summary["components"][0]["status"] == "major_outage"
    [document] = summary["incidents"]
    assert_incident(document)
    assert document["id"] == incident.public_id
    assert (document["name"], document["status"], document["impact"]) == ("Mail is down", "identified", "critical")
    assert document["resolved_at"] is None and document["monitoring_at"] is None
    assert [u["body"] for u in document["incident_updates"]] == ["The cause is a full disk.", "We are investigating."]
    newest = document["incident_updates"][0]
    assert newest["id"] == latest.public_id and newest["status"] == "identified"
    assert newest["deliver_notifications"] is False
    # The code is the component's id, as clients match it against components[].id.
    assert newest["affected_components"] == [
        {"code": mail.public_id, "name": "Mail", "old_status": "operational", "new_status": "major_outage"}
    ]
    assert document["components"][0]["id"] == mail.public_id
    assert get("incidents/unresolved.json")["incidents"] == [document]
    assert get("incidents.json")["incidents"] == [document]
    assert get("status.json")["status"]["indicator"] == "critical"


def test_a_scheduled_maintenance(mail: Component) -> None:
    maintenance = make_maintenance(services=[mail.service], starts=NOW + timedelta(days=2), hours=3)
    make_update(maintenance, "We will upgrade the mail servers.", kind="notice")
    summary = get("summary.json")
    assert summary["status"] == {"indicator": "none", "description": "All Systems Operational"}
    assert summary["components"][0]["status"] == "operational"
    [document] = summary["scheduled_maintenances"]
    assert_incident(document, maintenance=True)
    assert document["status"] == "scheduled"
    assert document["scheduled_for"] == "2026-11-22T10:00:00.000+00:00"
    assert document["scheduled_until"] == "2026-11-22T13:00:00.000+00:00"
    assert get("scheduled-maintenances/upcoming.json")["scheduled_maintenances"] == [document]
    assert get("scheduled-maintenances.json")["scheduled_maintenances"] == [document]
    assert get("scheduled-maintenances/active.json")["scheduled_maintenances"] == []
    assert get("incidents.json")["incidents"] == []


def test_an_active_maintenance(mail: Component) -> None:
    make_maintenance(services=[mail.service], status="in_progress", starts=NOW - timedelta(minutes=30))
    summary = get("summary.json")
    assert summary["components"][0]["status"] == "under_maintenance"
    assert summary["status"] == {"indicator": "none", "description": "Service Under Maintenance"}
    [document] = get("scheduled-maintenances/active.json")["scheduled_maintenances"]
    assert_incident(document, maintenance=True)
    assert document["status"] == "in_progress"
    assert get("scheduled-maintenances/upcoming.json")["scheduled_maintenances"] == []
    assert summary["scheduled_maintenances"] == [document]


def test_a_resolved_incident_with_a_published_review_is_a_postmortem(mail: Component) -> None:
    incident = make_incident(services={mail.service: ComponentStatus.PARTIAL}, status="resolved", severity="sev3")
    make_update(incident, "Resolved: mail flows again.")
    publish_review(incident)
    [document] = get("incidents.json")["incidents"]
    assert_incident(document)
    assert (document["status"], document["impact"]) == ("postmortem", "minor")
    assert document["resolved_at"] == "2026-11-20T10:00:00.000+00:00"
    assert get("incidents/unresolved.json")["incidents"] == []
    assert get("summary.json")["components"][0]["status"] == "operational"


def test_a_review_not_yet_published_leaves_the_incident_resolved(mail: Component) -> None:
    incident = make_incident(services={mail.service: ComponentStatus.PARTIAL}, status="resolved")
    review = publish_review(incident)
    review.status = "completed"
    review.save()
    assert get("incidents.json")["incidents"][0]["status"] == "resolved"


def test_groups_are_components_listing_their_members(sam: User, travel: Travel) -> None:
    travel.to(NOW)
    workplace = make_group("Workplace")
    mail = make_component(sam, "Mail", group=workplace, position=1)
    chat = make_component(sam, "Chat", group=workplace, position=2)
    web = make_component(sam, "Web")
    make_incident(services={chat.service: ComponentStatus.PARTIAL}, severity="sev3")
    components = get("components.json")["components"]
    for component in components:
        assert_component(component)
    by_id = {c["id"]: c for c in components}
    group = by_id[workplace.public_id]
    assert group["group"] is True and group["components"] == [mail.public_id, chat.public_id]
    assert group["status"] == "partial_outage" and group["group_id"] is None
    assert by_id[mail.public_id]["group_id"] == workplace.public_id
    assert by_id[web.public_id]["group_id"] is None
    assert [c["id"] for c in components].index(workplace.public_id) < [c["id"] for c in components].index(
        mail.public_id
    )
    # Several components, one in partial outage: major, and the sev3 incident does not raise it.
    assert get("status.json")["status"] == {"indicator": "major", "description": "Partial System Outage"}


def test_times_carry_the_offset_of_the_page_time_zone(mail: Component, settings: Any) -> None:
    settings.SERVICELOOP_STATUS_TIME_ZONE = "Europe/Paris"
    make_maintenance(services=[mail.service], starts=NOW + timedelta(days=1))
    document = get("summary.json")
    assert document["page"]["time_zone"] == "Europe/Paris"
    assert document["scheduled_maintenances"][0]["scheduled_for"] == "2026-11-21T11:00:00.000+01:00"


def test_answers_may_be_cached_briefly_and_repeat_with_304(mail: Component) -> None:
    client = Client()
    first = client.get("/api/v2/summary.json")
    assert "public" in first["Cache-Control"] and "max-age=30" in first["Cache-Control"]
    assert first["ETag"] and first["Last-Modified"]
    again = client.get("/api/v2/summary.json", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["Access-Control-Allow-Origin"] == "*"


def test_only_get_and_head_are_served(mail: Component) -> None:
    assert Client().post("/api/v2/summary.json").status_code == 405
    assert Client().head("/api/v2/status.json").status_code == 200


def test_a_signed_in_visitor_gets_the_same_document(mail: Component, carol: User) -> None:
    client = Client()
    client.force_login(carol)
    response = client.get("/api/v2/components.json")
    assert response.status_code == 200
    assert response.json()["components"] == get("components.json")["components"]


# --- the rules, without the database ---------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("operational", ("none", "All Systems Operational")),
        ("under_maintenance", ("none", "Service Under Maintenance")),
        ("degraded_performance", ("minor", "Partially Degraded Service")),
        ("partial_outage", ("major", "Partial System Outage")),
        ("major_outage", ("critical", "Major System Outage")),
    ],
)
def test_the_indicator_of_a_page_of_one_component(state: str, expected: tuple[str, str]) -> None:
    assert status.rollup([state]) == expected


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        (["operational", "operational"], ("none", "All Systems Operational")),
        (["operational", "under_maintenance"], ("none", "Service Under Maintenance")),
        (["degraded_performance", "operational", "under_maintenance"], ("minor", "Partially Degraded Service")),
        (["partial_outage", "degraded_performance"], ("major", "Partial System Outage")),
        (["major_outage", "operational"], ("major", "Partial System Outage")),
        (["major_outage", "major_outage", "under_maintenance"], ("critical", "Major System Outage")),
    ],
)
def test_the_indicator_of_a_page_of_several_components(states: list[str], expected: tuple[str, str]) -> None:
    assert status.rollup(states) == expected


def test_the_impact_of_an_open_incident_raises_the_indicator() -> None:
    assert status.rollup(["operational", "operational"], ["minor"]) == ("minor", "Minor Service Outage")
    assert status.rollup(["degraded_performance", "operational"], ["critical"]) == ("critical", "Major System Outage")
    assert status.rollup(["partial_outage", "operational"], ["minor", "none"]) == ("major", "Partial System Outage")
    assert status.rollup([], []) == ("none", "All Systems Operational")


def test_an_outage_beats_maintenance_but_degraded_does_not() -> None:
    assert status.resolve_status(maintenance=True, incident_statuses=["major_outage"]) == "major_outage"
    assert status.resolve_status(maintenance=True, incident_statuses=["partial_outage"]) == "partial_outage"
    assert status.resolve_status(maintenance=True, incident_statuses=["degraded_performance"]) == "under_maintenance"
    assert status.resolve_status(maintenance=False, incident_statuses=["degraded_performance", "partial_outage"]) == (
        "partial_outage"
    )
    assert status.resolve_status(maintenance=False, incident_statuses=[]) == "operational"


def test_a_component_shows_the_worst_of_its_open_incidents(mail: Component) -> None:
    make_incident(services={mail.service: ComponentStatus.DEGRADED})
    make_incident(services={mail.service: ComponentStatus.PARTIAL}, status="monitoring")
    make_incident(services={mail.service: ComponentStatus.MAJOR}, status="resolved")
    assert get("components.json")["components"][0]["status"] == "partial_outage"


def test_an_outage_during_maintenance_shows_the_outage(mail: Component) -> None:
    make_maintenance(services=[mail.service], status="verifying", starts=NOW - timedelta(hours=1))
    make_incident(services={mail.service: ComponentStatus.MAJOR})
    assert get("components.json")["components"][0]["status"] == "major_outage"
    assert Incident.objects.count() == 2

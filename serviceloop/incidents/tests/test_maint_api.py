"""The maintenance API as staff and customers would use it."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from serviceloop.accounts.models import User
from serviceloop.accounts.testing import api_client_for
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core.testing import Travel
from serviceloop.incidents.models import Incident
from serviceloop.incidents.tests.maint_fixtures import schedule

pytestmark = pytest.mark.django_db
URL = "/api/incidents/maintenance"


def _body(world: dict[str, Any], service: Service, **fields: Any) -> dict[str, Any]:
    start = world["now"] + timedelta(days=1)
    return {
        "title": "Mail server upgrade",
        "services": [service.public_id],
        "scheduled_for": start.isoformat(),
        "scheduled_until": (start + timedelta(hours=2)).isoformat(),
        **fields,
    }


def _post(client: Any, url: str, body: Any = None) -> Any:
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def test_an_agent_schedules_a_window_and_follows_it_to_completion(
    alex: User, service: Service, offering: Offering, world: dict[str, Any], travel: Travel
) -> None:
    client = api_client_for(alex)
    created = _post(client, URL, _body(world, service, offerings=[offering.public_id], notice_minutes=30))
    assert created.status_code == 201, created.content
    window = created.json()
    assert (window["reference"], window["status"], window["notice_minutes"]) == ("MW-1", "scheduled", 30)
    assert [s["name"] for s in window["services"]] == ["Email & collaboration"]
    assert window["services"][0]["component_status"] == "under_maintenance"
    assert window["offerings"] == [offering.public_id]
    assert [o["users_affected"] for o in window["organisations"]] == [1]
    one = f"{URL}/{window['public_id']}"
    assert client.get(one).json()["public_id"] == window["public_id"]
    assert [w["reference"] for w in client.get(f"{URL}?when=upcoming").json()["items"]] == ["MW-1"]
    assert client.get(f"{URL}?when=active").json()["items"] == []

    travel.by(days=1)
    started = _post(client, f"{one}/start", {"body": "We have started."})
    assert started.status_code == 200 and started.json()["status"] == "in_progress"
    assert [w["reference"] for w in client.get(f"{URL}?when=active").json()["items"]] == ["MW-1"]
    posted = _post(client, f"{one}/updates", {"body": "Half done."})
    assert posted.status_code == 201 and posted.json()["status"] == "in_progress"
    assert _post(client, f"{one}/verify").json()["status"] == "verifying"
    done = _post(client, f"{one}/complete", {"body": "All done."})
    assert done.status_code == 200 and done.json()["completed_at"] is not None
    assert [w["reference"] for w in client.get(f"{URL}?when=past").json()["items"]] == ["MW-1"]
    updates = client.get(f"{one}/updates").json()["items"]
    assert [u["body"] for u in updates][:3] == ["All done.", updates[1]["body"], "Half done."]
    assert updates[-1]["kind"] == "notice" and updates[0]["posted_by"] == alex.public_id


def test_patch_reschedules_and_changes_the_flags(sam: User, service: Service, world: dict[str, Any]) -> None:
    maintenance = schedule(sam, service, start=timedelta(days=1), length=timedelta(hours=1))
    later = world["now"] + timedelta(days=2)
    change = {
        "scheduled_for": later.isoformat(),
        "scheduled_until": (later + timedelta(hours=3)).isoformat(),
        "auto_complete": False,
        "title": "Mail upgrade",
        "body": "Moved a day: the vendor is late.",
    }
    answer = api_client_for(sam).patch(
        f"{URL}/{maintenance.public_id}", data=json.dumps(change), content_type="application/json"
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["scheduled_for"].startswith("2026-12-09T09:00") and body["scheduled_until"].startswith(
        "2026-12-09T12:00"
    )
    assert (body["title"], body["auto_complete"], body["auto_start"]) == ("Mail upgrade", False, True)
    assert maintenance.updates.order_by("pk").last().body == "Moved a day: the vendor is late."  # type: ignore[union-attr]


def test_patch_refuses_a_window_that_would_end_before_it_starts(
    sam: User, service: Service, world: dict[str, Any]
) -> None:
    maintenance = schedule(sam, service, start=timedelta(days=1), length=timedelta(hours=1))
    later = world["now"] + timedelta(days=2)
    answer = api_client_for(sam).patch(
        f"{URL}/{maintenance.public_id}",
        data=json.dumps({"scheduled_for": later.isoformat()}),
        content_type="application/json",
    )
    assert answer.status_code == 422 and answer.json()["field"] == "scheduled_until"
    maintenance.refresh_from_db()
    assert maintenance.scheduled_for == world["now"] + timedelta(days=1)


def test_cancel_through_the_api_keeps_the_window(sam: User, service: Service, world: dict[str, Any]) -> None:
    maintenance = schedule(sam, service, start=timedelta(days=1), length=timedelta(hours=1))
    answer = _post(api_client_for(sam), f"{URL}/{maintenance.public_id}/cancel", {"body": "Postponed."})
    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["cancelled"]) == ("completed", True)
    again = _post(api_client_for(sam), f"{URL}/{maintenance.public_id}/cancel")
    assert again.status_code == 409 and "not started" in again.json()["message"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"services": []}, "services"),
        ({"services": ["nope"]}, "services"),
        ({"offerings": ["nope"]}, "offerings"),
        ({"organisations": ["nope"]}, "organisations"),
        ({"title": ""}, "title"),
        ({"notice_minutes": True}, "notice_minutes"),
        ({"visibility": "world"}, "visibility"),
        ({"scheduled_for": "2026-12-01T09:00:00Z"}, "scheduled_for"),
        ({"scheduled_until": "0001-01-01T00:00:00+14:00"}, "scheduled_until"),
    ],
)
def test_bad_input_answers_422_naming_the_field(
    sam: User, service: Service, world: dict[str, Any], fields: dict[str, Any], field: str
) -> None:
    answer = _post(api_client_for(sam), URL, _body(world, service, **fields))
    assert answer.status_code == 422, answer.content
    body = answer.json()
    assert field in (body.get("field"), *[e["field"] for e in body.get("errors", [])]), body
    assert not Incident.objects.exists()


def test_customers_and_anonymous_callers_are_refused(
    carol: User, sam: User, service: Service, world: dict[str, Any], client: Any
) -> None:
    maintenance = schedule(sam, service, start=timedelta(days=1), length=timedelta(hours=1))
    customer = api_client_for(carol)
    assert customer.get(URL).status_code == 403
    assert customer.get(f"{URL}/{maintenance.public_id}").status_code == 403
    assert _post(customer, f"{URL}/{maintenance.public_id}/start").status_code == 403
    assert _post(customer, URL, _body(world, service)).status_code == 403
    assert client.get(URL).status_code == 401
    maintenance.refresh_from_db()
    assert maintenance.status == Incident.Status.SCHEDULED


def test_an_unknown_window_is_404_and_a_plain_incident_is_not_a_window(alex: User, world: dict[str, Any]) -> None:
    assert api_client_for(alex).get(f"{URL}/nothing-here").status_code == 404


def test_a_patch_refused_in_part_changes_nothing(sam: User, service: Service, world: dict[str, Any]) -> None:
    maintenance = schedule(sam, service, start=timedelta(days=1), length=timedelta(hours=1))
    later = world["now"] + timedelta(days=2)
    change = {
        "scheduled_for": later.isoformat(),
        "scheduled_until": (later + timedelta(hours=1)).isoformat(),
        "title": "   ",
    }
    answer = api_client_for(sam).patch(
        f"{URL}/{maintenance.public_id}", data=json.dumps(change), content_type="application/json"
    )
    assert answer.status_code == 422 and answer.json()["field"] == "title"
    maintenance.refresh_from_db()
    assert maintenance.scheduled_for == world["now"] + timedelta(days=1)
    assert maintenance.updates.count() == 1

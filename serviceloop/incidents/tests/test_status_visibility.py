"""Internal and customers-only incidents, non-public components and non-public updates never reach
the public page, its JSON or its feeds (nor change what they show)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from serviceloop.accounts.models import User
from serviceloop.core.testing import Travel
from serviceloop.incidents.models import Audience, Component, ComponentStatus, Incident
from serviceloop.incidents.tests.factories_status import (
    make_change,
    make_component,
    make_incident,
    make_maintenance,
    make_update,
)
from serviceloop.incidents.tests.test_status_api import DOCUMENTS

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SECRET_WORDS = ("Secret-Internal", "Customers-Only", "Hidden-Component", "Staff-Update", "Org-Update")


def everything_public() -> str:
    """Every public answer, concatenated: the pages, every JSON document at both mounts, the feeds."""
    client = Client()
    paths = ["/status/", "/status/history/", "/status/uptime/", "/status/history.atom", "/status/history.rss"]
    paths += [f"/api/v2/{d}" for d in DOCUMENTS] + [f"/status/api/v2/{d}" for d in DOCUMENTS]
    answers = []
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        answers.append(response.content.decode())
    return "\n".join(answers)


@pytest.fixture
def world(sam: User, travel: Travel) -> dict[str, Component]:
    travel.to(NOW - timedelta(days=10))
    mail = make_component(sam, "Mail")
    hidden = make_component(sam, "Hidden-Component", is_public=False)
    travel.to(NOW)
    return {"mail": mail, "hidden": hidden}


def test_non_public_incidents_components_and_updates_never_appear(world: dict[str, Component]) -> None:
    mail, hidden = world["mail"], world["hidden"]
    internal = make_incident(
        "Secret-Internal outage",
        services={mail.service: ComponentStatus.MAJOR},
        visibility=Incident.Visibility.INTERNAL,
    )
    make_update(internal, "Secret-Internal update", audiences=[Audience.PUBLIC])
    make_change(internal, mail.service, ComponentStatus.MAJOR, NOW - timedelta(hours=3))
    customers = make_incident(
        "Customers-Only trouble", services={mail.service: ComponentStatus.PARTIAL}, visibility="customers"
    )
    make_update(customers, "Customers-Only update", audiences=[Audience.CUSTOMERS, Audience.PUBLIC])
    make_maintenance("Customers-Only window", services=[mail.service], status="in_progress", visibility="customers",
                     starts=NOW - timedelta(hours=1))  # fmt: skip
    public = make_incident(
        "Public blip", services={hidden.service: ComponentStatus.MAJOR, mail.service: "degraded_performance"}
    )
    make_update(public, "Staff-Update for the bridge", audiences=[Audience.INTERNAL])
    make_update(public, "Org-Update for customers", audiences=[Audience.CUSTOMERS])
    make_update(
        public,
        "We are looking into slow mail.",
        affected_components=[
            {
                "code": hidden.service.public_id,
                "name": "Hidden-Component",
                "old_status": "operational",
                "new_status": "major_outage",
            }
        ],
    )
    text = everything_public()
    for word in SECRET_WORDS:
        assert word not in text, word
    assert hidden.public_id not in text and hidden.service.public_id not in text
    assert "Public blip" in text and "We are looking into slow mail." in text


def test_a_non_public_incident_does_not_change_a_public_component(world: dict[str, Component]) -> None:
    mail = world["mail"]
    make_incident("Secret-Internal", services={mail.service: ComponentStatus.MAJOR}, visibility="internal",
                  severity="sev1")  # fmt: skip
    make_change(Incident.objects.get(), mail.service, ComponentStatus.MAJOR, NOW - timedelta(hours=6))
    summary = Client().get("/api/v2/summary.json").json()
    assert summary["components"][0]["status"] == "operational"
    assert summary["status"] == {"indicator": "none", "description": "All Systems Operational"}
    html = Client().get("/status/").content.decode()
    assert "All Systems Operational" in html and "major_outage" not in html


def test_a_non_public_update_does_not_move_the_page_updated_at(world: dict[str, Component], travel: Travel) -> None:
    public = make_incident("Public blip", services={world["mail"].service: ComponentStatus.DEGRADED})
    Incident.objects.filter(pk=public.pk).update(updated_at=NOW - timedelta(hours=2))
    make_update(public, "Public word", display_at=NOW - timedelta(hours=2))
    before = Client().get("/api/v2/status.json").json()["page"]["updated_at"]
    update = make_update(public, "Staff-Update", audiences=[Audience.INTERNAL])
    assert update.updated_at > datetime.fromisoformat(before)
    assert Client().get("/api/v2/status.json").json()["page"]["updated_at"] == before

"""Mail per audience at a real SMTP server, the recovery plan with every ETA kept, and the resolution."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from serviceloop.core.errors import InvalidInput
from serviceloop.core.models import Event, OutgoingMail
from serviceloop.incidents import events
from serviceloop.incidents.models import AudiencePlan, ComponentStatusChange, EtaChange, Incident, Silence
from serviceloop.incidents.services import (
    audience_plan_set,
    incident_eta_set,
    incident_resolve,
    incident_update_post,
    published_plan,
    recovery_plan_publish,
    recovery_step_add,
    recovery_step_update,
)
from serviceloop.incidents.tasks import cadence_check
from serviceloop.incidents.tests.comms_factories import comms_world, declared

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Any:
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def world(service: Any, org_a: Any, org_b: Any) -> Any:
    return comms_world(service, org_a, org_b)


@pytest.fixture
def incident(world: Any, sam: Any, alex: Any, ada: Any, travel: Any) -> Incident:
    travel.to(START)
    return declared(world, sam, owner=alex, comms_lead=ada)


def test_each_audience_is_mailed_its_own_people_once(
    incident: Incident, world: Any, sam: Any, alex: Any, ada: Any, smtp_server: Any, commit: Any, travel: Any
) -> None:
    travel.to(START + timedelta(minutes=10))
    with commit():
        update = incident_update_post(
            incident=incident,
            by=sam,
            audiences=["internal", "customers", "public"],
            status="identified",
            body="Found it.",
        )
    mails = smtp_server.wait_for(6)
    staff = {alex.email, ada.email, sam.email}  # owner, comms lead and plan owner, the service manager
    customers = {"cora@acme.example", "sid@acme.example", "bea@borealis.example"}  # customer and sponsor roles
    assert sorted(m["To"] for m in mails) == sorted(staff | customers)
    assert {m["Subject"] for m in mails} == {f"[{incident.reference}] Mail delivery delayed — Identified"}
    assert len({m["Message-ID"] for m in mails}) == 6
    assert all(f".{update.public_id}." in m["Message-ID"] for m in mails)
    body = next(m for m in mails if m["To"] == "cora@acme.example").get_body(("plain",)).get_content()
    assert "Found it." in body and "Status: Identified" in body and "Audiences" not in body
    # Posting the same update again would not mail twice: the Message-ID is per (update, address).
    assert OutgoingMail.objects.count() == 6


def test_customers_are_not_mailed_when_their_plan_does_not_mail(
    incident: Incident, sam: Any, smtp_server: Any, commit: Any
) -> None:
    audience_plan_set(incident=incident, audience="customers", by=sam, channels=["status_page"])
    with commit():
        incident_update_post(incident=incident, by=sam, audiences=["customers", "public"], body="Looking.")
        incident_update_post(
            incident=incident, by=sam, audiences=["internal"], body="Quiet one.", deliver_notifications=False
        )
    assert OutgoingMail.objects.count() == 0


def test_every_eta_is_kept_and_the_published_plan_goes_with_the_updates(
    incident: Incident, sam: Any, alex: Any, travel: Any, smtp_server: Any, commit: Any
) -> None:
    with pytest.raises(InvalidInput, match="no customer-facing step"):
        recovery_plan_publish(incident=incident, by=sam)
    first_eta = START + timedelta(hours=2)
    step = recovery_step_add(
        incident=incident,
        by=sam,
        title="Fail over to the standby relay",
        owner=alex,
        eta=first_eta,
        eta_confidence="medium",
        customer_facing=True,
    )
    recovery_step_add(incident=incident, by=sam, title="Page the vendor")
    travel.to(START + timedelta(minutes=20))
    recovery_step_update(step=step, by=sam, eta=START + timedelta(hours=3), status="in_progress")
    recovery_step_update(step=step, by=sam, eta_confidence="high")
    recovery_step_update(step=step, by=sam, detail="No ETA change")
    incident_eta_set(incident=incident, by=sam, eta=START + timedelta(hours=4), confidence="low")
    changes = list(EtaChange.objects.filter(incident=incident).values_list("step", "eta", "confidence"))
    assert changes == [
        (step.pk, first_eta, "medium"),
        (step.pk, START + timedelta(hours=3), "medium"),
        (step.pk, START + timedelta(hours=3), "high"),
        (None, START + timedelta(hours=4), "low"),
    ]
    assert Event.objects.filter(name=events.INCIDENT_ETA_CHANGED).count() == 4
    assert published_plan(incident) == []
    recovery_plan_publish(incident=incident, by=sam)
    incident.refresh_from_db()
    assert incident.plan_published_at == START + timedelta(minutes=20)
    assert [s.title for s in published_plan(incident)] == ["Fail over to the standby relay"]
    with commit():
        incident_update_post(incident=incident, by=sam, audiences=["customers"], body="Failing over.")
    mail = smtp_server.wait_for(1)[0]
    assert (
        "- [In progress] Fail over to the standby relay (expected by 2026-12-01 13:00 UTC)"
        in mail.get_body(("plain",)).get_content()
    )
    travel.to(START + timedelta(minutes=50))
    done = recovery_step_update(step=step, by=sam, status="done")
    assert done.done_at == START + timedelta(minutes=50)


def test_resolving_notifies_everyone_and_closes_every_clock(
    incident: Incident, world: Any, sam: Any, travel: Any, smtp_server: Any, commit: Any, org_a: Any, org_b: Any
) -> None:
    travel.to(START + timedelta(minutes=31))
    cadence_check()
    assert Silence.objects.filter(ended_at__isnull=True).count() == 3
    travel.to(START + timedelta(minutes=40))
    with commit():
        notice = incident_resolve(
            incident=incident, by=sam, body="Mail flows again.", impact_ended_at=START + timedelta(minutes=35)
        )
    assert (notice.kind, notice.status, notice.audiences) == (
        "resolution",
        "resolved",
        ["customers", "internal", "public"],
    )
    assert notice.affected_components[0]["new_status"] == "operational"
    incident.refresh_from_db()
    assert (incident.status, incident.resolved_at) == ("resolved", START + timedelta(minutes=40))
    assert incident.impact_ended_at == START + timedelta(minutes=35)
    assert not AudiencePlan.objects.filter(incident=incident, is_active=True).exists()
    assert not AudiencePlan.objects.filter(incident=incident, next_due_at__isnull=False).exists()
    assert not Silence.objects.filter(ended_at__isnull=True).exists()
    assert list(ComponentStatusChange.objects.filter(incident=incident).values_list("ended_at", flat=True)) == [
        START + timedelta(minutes=35)
    ]
    resolved = Event.objects.get(name=events.INCIDENT_RESOLVED)
    assert resolved.data == {
        "incident_id": incident.pk,
        "resolved_at": "2026-12-01T10:40:00+00:00",
        "is_major": True,
        "organisation_ids": sorted([org_a.pk, org_b.pk]),
    }
    mails = [m for m in smtp_server.wait_for(6) if "Resolved" in m["Subject"]]
    assert len(mails) == 6
    assert "Mail flows again." in mails[0].get_body(("plain",)).get_content()
    with pytest.raises(InvalidInput, match="future"):
        other = declared(world, sam)
        incident_resolve(incident=other, by=sam, body="x", resolved_at=START + timedelta(hours=5))

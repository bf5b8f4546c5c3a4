"""The "next update due" clocks: a reminder, then the overdue alert and a silence the next update closes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from serviceloop.core.models import Event
from serviceloop.incidents import events
from serviceloop.incidents.models import AudiencePlan, Incident, Silence
from serviceloop.incidents.services import audience_plan_set, incident_resolve, incident_update_post
from serviceloop.incidents.tasks import cadence_check
from serviceloop.incidents.tests.comms_factories import comms_world, declared

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Any:
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def incident(service: Any, org_a: Any, org_b: Any, sam: Any, alex: Any, ada: Any, travel: Any) -> Incident:
    travel.to(START)
    world = comms_world(service, org_a, org_b)
    incident = declared(world, sam, owner=alex, comms_lead=ada, visibility="internal")
    audience_plan_set(incident=incident, audience="internal", by=sam, owner=sam)
    return incident


def _run(travel: Any, minutes: int) -> dict[str, int]:
    travel.to(START + timedelta(minutes=minutes))
    first = cadence_check()
    assert cadence_check() == {"reminded": 0, "overdue": 0}  # twice: nothing more
    return first


def test_reminded_then_alerted_then_the_silence_is_closed_by_the_next_update(
    incident: Incident, sam: Any, alex: Any, ada: Any, travel: Any, smtp_server: Any, commit: Any
) -> None:
    plan = AudiencePlan.objects.get(incident=incident)
    assert plan.next_due_at == START + timedelta(minutes=30)

    with commit():
        assert _run(travel, 24) == {"reminded": 0, "overdue": 0}
        assert _run(travel, 26) == {"reminded": 1, "overdue": 0}
    [reminder] = smtp_server.wait_for(1)
    assert reminder["To"] == sam.email
    assert reminder["Subject"] == f"[{incident.reference}] Update to internal (staff) due at 10:30 UTC"
    due_soon = Event.objects.get(name=events.INCIDENT_UPDATE_DUE_SOON)
    assert due_soon.data == {
        "incident_id": incident.pk,
        "plan_id": plan.pk,
        "audience": "internal",
        "due_at": "2026-12-01T10:30:00+00:00",
    }

    with commit():
        assert _run(travel, 31) == {"reminded": 0, "overdue": 1}
    mails = smtp_server.wait_for(4)[1:]
    assert sorted(m["To"] for m in mails) == sorted([sam.email, ada.email, alex.email])
    assert {m["Subject"] for m in mails} == {f"[{incident.reference}] Update to internal (staff) overdue"}
    silence = Silence.objects.get(plan=plan)
    assert (silence.due_at, silence.alerted_at, silence.ended_at) == (
        START + timedelta(minutes=30),
        START + timedelta(minutes=31),
        None,
    )
    assert Event.objects.filter(name=events.INCIDENT_UPDATE_OVERDUE).count() == 1
    assert _run(travel, 45) == {"reminded": 0, "overdue": 0}  # alerted once per due time

    travel.to(START + timedelta(minutes=50))
    incident_update_post(incident=incident, by=sam, audiences=["internal"], body="Relays restarted.")
    silence.refresh_from_db()
    assert silence.ended_at == START + timedelta(minutes=50)
    plan.refresh_from_db()
    assert (plan.next_due_at, plan.reminded_at, plan.overdue_at) == (START + timedelta(minutes=80), None, None)
    # The new due time is reminded and alerted afresh.
    assert _run(travel, 76) == {"reminded": 1, "overdue": 0}
    assert _run(travel, 81) == {"reminded": 0, "overdue": 1}
    assert Silence.objects.filter(plan=plan).count() == 2


def test_a_check_that_runs_late_alerts_without_reminding(incident: Incident, travel: Any) -> None:
    assert _run(travel, 40) == {"reminded": 0, "overdue": 1}


def test_resolved_incidents_and_stopped_plans_have_no_clock(incident: Incident, sam: Any, travel: Any) -> None:
    travel.to(START + timedelta(minutes=35))
    cadence_check()
    incident_resolve(incident=incident, by=sam, body="Fixed.")
    assert not Silence.objects.filter(ended_at__isnull=True).exists()
    assert _run(travel, 120) == {"reminded": 0, "overdue": 0}

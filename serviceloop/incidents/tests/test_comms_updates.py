"""Updates to audiences: validation, composed bodies, status and component moves, clocks re-timed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from serviceloop.core.errors import ConflictError, InvalidInput, NotAllowed
from serviceloop.core.models import Event
from serviceloop.desk.tests.factories import make_calendar
from serviceloop.incidents import events
from serviceloop.incidents.models import AudiencePlan, ComponentStatusChange, Incident
from serviceloop.incidents.services import (
    audience_plan_set,
    incident_resolve,
    incident_update_post,
    update_templates,
)
from serviceloop.incidents.tests.comms_factories import comms_world, declared

pytestmark = pytest.mark.django_db

# A Tuesday.
START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
PARTS = {"affected": "Outgoing mail", "impacted": "All users of Acme", "actions": "Restarting the relays"}


@pytest.fixture
def world(service: Any, org_a: Any, org_b: Any) -> Any:
    return comms_world(service, org_a, org_b)


@pytest.fixture
def incident(world: Any, sam: Any, alex: Any, travel: Any) -> Incident:
    travel.to(START)
    return declared(world, sam, owner=alex)


def _plan(incident: Incident, audience: str) -> AudiencePlan:
    return AudiencePlan.objects.get(incident=incident, audience=audience)


def test_an_update_composed_from_its_parts_restarts_the_clocks_it_addresses(
    incident: Incident, sam: Any, world: Any, travel: Any
) -> None:
    travel.to(START + timedelta(minutes=12))
    update = incident_update_post(
        incident=incident,
        by=sam,
        audiences=["internal", "customers"],
        status="identified",
        component_statuses={world.service: "partial_outage"},
        **PARTS,
    )
    now = START + timedelta(minutes=12)
    assert update.body == (
        "Affected: Outgoing mail\nImpact: All users of Acme\nWhat we are doing: Restarting the relays\n"
        "Next update: by 10:42 UTC"
    )
    assert (update.display_at, update.next_update_at, update.status) == (now, now + timedelta(minutes=30), "identified")
    assert update.affected_components == [
        {
            "code": world.service.public_id,
            "name": world.service.name,
            "old_status": "major_outage",
            "new_status": "partial_outage",
        }
    ]
    incident.refresh_from_db()
    assert (incident.status, incident.identified_at, incident.monitoring_at) == ("identified", now, None)
    assert _plan(incident, "internal").next_due_at == now + timedelta(minutes=30)
    assert _plan(incident, "internal").last_update_at == now
    assert _plan(incident, "public").next_due_at == START + timedelta(minutes=30)  # not addressed
    rows = list(ComponentStatusChange.objects.filter(incident=incident).values_list("status", "started_at", "ended_at"))
    assert rows == [("major_outage", START, now), ("partial_outage", now, None)]
    posted = Event.objects.get(name=events.INCIDENT_UPDATE_POSTED)
    assert posted.data == {
        "incident_id": incident.pk,
        "update_id": update.pk,
        "audiences": ["internal", "customers"],
        "status": "identified",
        "deliver_notifications": True,
    }
    changed = Event.objects.get(name=events.INCIDENT_STATUS_CHANGED)
    assert changed.data == {"incident_id": incident.pk, "old_status": "investigating", "new_status": "identified"}


def test_the_next_update_may_be_promised_sooner_but_not_later_than_the_cadence(
    incident: Incident, sam: Any, travel: Any
) -> None:
    travel.to(START + timedelta(minutes=5))
    with pytest.raises(InvalidInput, match="no later than 2026-12-01 10:35 UTC") as late:
        incident_update_post(
            incident=incident,
            by=sam,
            audiences=["public"],
            body="Still down.",
            next_update_at=START + timedelta(hours=1),
        )
    assert late.value.field == "next_update_at"
    sooner = START + timedelta(minutes=20)
    update = incident_update_post(
        incident=incident, by=sam, audiences=["public", "internal"], body="Still down.", next_update_at=sooner
    )
    assert update.next_update_at == sooner
    assert _plan(incident, "public").next_due_at == sooner


def test_the_shortest_cadence_of_the_audiences_sets_the_default(incident: Incident, sam: Any, travel: Any) -> None:
    audience_plan_set(incident=incident, audience="internal", by=sam, cadence_minutes=15)
    update = incident_update_post(incident=incident, by=sam, audiences=["internal", "public"], body="Looking.")
    assert update.next_update_at == START + timedelta(minutes=15)
    assert _plan(incident, "public").next_due_at == START + timedelta(minutes=15)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"audiences": []}, "audiences", "at least one audience"),
        ({"audiences": ["public"], "body": ""}, "body", "Write the update"),
        ({"audiences": ["public"], "body": "", "affected": "Mail"}, "body", "all three"),
        ({"audiences": ["public"], "status": "resolved"}, "status", "Resolve it instead"),
        ({"audiences": ["public"], "status": "scheduled"}, "status", "investigating"),
        ({"audiences": ["public"], "next_update_at": START - timedelta(minutes=1)}, "next_update_at", "later than now"),
    ],
)
def test_bad_updates_are_refused_with_a_reason(
    incident: Incident, sam: Any, fields: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as refused:
        incident_update_post(incident=incident, by=sam, **{"body": "Text", **fields})
    assert refused.value.field == field


def test_an_audience_without_an_active_plan_is_refused(world: Any, sam: Any, incident: Incident) -> None:
    audience_plan_set(incident=incident, audience="customers", by=sam, is_active=False)
    with pytest.raises(InvalidInput, match="no active plan for customers"):
        incident_update_post(incident=incident, by=sam, audiences=["customers"], body="Text")
    minor = declared(world, sam, severity="sev3", visibility="internal")
    with pytest.raises(InvalidInput, match="no active plan for internal"):
        incident_update_post(incident=minor, by=sam, audiences=["internal"], body="Text")


def test_customers_may_not_post_and_a_resolved_incident_takes_no_update(
    incident: Incident, sam: Any, carol: Any
) -> None:
    with pytest.raises(NotAllowed):
        incident_update_post(incident=incident, by=carol, audiences=["public"], body="Text")
    incident_resolve(incident=incident, by=sam, body="Fixed.")
    with pytest.raises(ConflictError, match="resolved"):
        incident_update_post(incident=incident, by=sam, audiences=["public"], body="Text")


def test_plans_validate_cadence_and_channels(incident: Incident, sam: Any) -> None:
    for cadence in (4, 1441):
        with pytest.raises(InvalidInput, match="between 5 and 1440") as refused:
            audience_plan_set(incident=incident, audience="public", by=sam, cadence_minutes=cadence)
        assert refused.value.field == "cadence_minutes"
    with pytest.raises(InvalidInput, match="Unknown channel sms") as refused:
        audience_plan_set(incident=incident, audience="public", by=sam, channels=["sms"])
    plan = audience_plan_set(incident=incident, audience="public", by=sam, cadence_minutes=60, channels=["webhook"])
    assert (plan.next_due_at, plan.channels) == (START + timedelta(minutes=60), ["webhook"])


def test_a_clock_on_a_business_calendar_skips_the_night(incident: Incident, sam: Any, travel: Any) -> None:
    nine_to_five = make_calendar(time_zone="UTC")
    travel.to(datetime(2026, 12, 1, 16, 40, tzinfo=UTC))
    incident_update_post(incident=incident, by=sam, audiences=["internal"], body="Working on it.")
    plan = audience_plan_set(incident=incident, audience="internal", by=sam, calendar=nine_to_five)
    # Re-timed from the last update (16:40): 20 minutes today, 10 tomorrow.
    assert plan.next_due_at == datetime(2026, 12, 2, 9, 10, tzinfo=UTC)
    travel.to(datetime(2026, 12, 1, 16, 55, tzinfo=UTC))
    update = incident_update_post(incident=incident, by=sam, audiences=["internal"], body="Still working on it.")
    assert update.next_update_at == datetime(2026, 12, 2, 9, 25, tzinfo=UTC)
    assert _plan(incident, "internal").next_due_at == datetime(2026, 12, 2, 9, 25, tzinfo=UTC)


def test_templates_are_prefilled_from_the_incident(incident: Incident, world: Any) -> None:
    templates = update_templates(incident)
    assert [t.name for t in templates] == ["Investigating", "Identified", "Monitoring", "Resolved"]
    assert [t.status for t in templates] == ["investigating", "identified", "monitoring", "resolved"]
    assert templates[0].affected == f"{world.service.name} is disrupted."
    assert templates[0].impacted == "About 5 users in 2 organisations may be unable to work as usual."

"""Trust evidence from incidents, through the real flow: declare, post updates, publish a plan,
resolve, review, close actions; every event delivered through serviceloop.core.events."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.testing import make_organisation
from serviceloop.catalogue.models import Service
from serviceloop.core.events import event_record
from serviceloop.core.testing import Travel
from serviceloop.desk.tests.factories import grant, make_offering, make_person, make_service
from serviceloop.experience.tests.factories import deliver
from serviceloop.experience.trust_evidence import evidence_backfill, evidence_from_incident, severity_of
from serviceloop.experience.trust_models import TrustEvidence
from serviceloop.incidents.models import AffectedOrganisation, Incident, Review, ReviewAction
from serviceloop.incidents.reviews import review_action_add, review_action_close, review_complete, review_update
from serviceloop.incidents.services import (
    incident_declare,
    incident_resolve,
    incident_update_post,
    recovery_plan_publish,
    recovery_step_add,
)
from serviceloop.relationships.models import Relationship

pytestmark = pytest.mark.django_db

# A Tuesday in winter (London = UTC).
START = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def relate(organisation: Organisation, offering: Any, started_on: date, **fields: Any) -> Relationship:
    return Relationship.objects.create(organisation=organisation, offering=offering, started_on=started_on, **fields)


@pytest.fixture
def world(sam: User, travel: Travel) -> dict[str, Any]:
    """Mail (medium): Acme with 4 users on two offerings, Borealis with 2 users; Coral consumes nothing."""
    travel.to(START - timedelta(days=1))
    mail = make_service("Mail", manager=sam)
    mailbox, calendars = make_offering(mail, "Mailbox"), make_offering(mail, "Calendars")
    acme, borealis = make_organisation("Acme"), make_organisation("Borealis")
    coral = make_organisation("Coral")
    started = date(2025, 1, 6)
    rel_acme = relate(acme, mailbox, started)
    rel_acme2 = relate(acme, calendars, started)
    rel_bor = relate(borealis, mailbox, started)
    for n in range(4):
        grant(rel_acme, make_person(acme, email=f"u{n}@acme.example"), "user")
    grant(rel_acme2, make_person(acme, email="cal@acme.example"), "user")
    for n in range(2):
        grant(rel_bor, make_person(borealis, email=f"u{n}@borealis.example"), "user")
    return {"mail": mail, "acme": acme, "borealis": borealis, "coral": coral, "travel": travel, "sam": sam}


def _major(world: dict[str, Any], *, updates: bool = True, plan: bool = True, hours: float = 4) -> Incident:
    """A SEV1 on Mail for `hours`, updates to customers and the public every 30 minutes (or none)."""
    travel, sam, mail = world["travel"], world["sam"], world["mail"]
    travel.to(START)
    incident = incident_declare(by=sam, title="Mail is down", severity="sev1", services={mail: "major_outage"})
    if plan:
        recovery_step_add(incident=incident, by=sam, title="Fail over to the spare", customer_facing=True)
        recovery_plan_publish(incident=incident, by=sam)
    steps = int(hours * 2)
    for n in range(1, steps):
        travel.to(START + timedelta(minutes=30 * n))
        if updates:
            incident_update_post(incident=incident, by=sam, audiences=["customers", "public"], body=f"Update {n}.")
    travel.to(START + timedelta(hours=hours))
    incident_resolve(incident=incident, by=sam, body="Mail flows again.")
    deliver()
    incident.refresh_from_db()
    return incident


def rows(**filters: Any) -> list[TrustEvidence]:
    return list(TrustEvidence.objects.filter(**filters).order_by("key"))


def test_a_resolved_major_incident_is_a_major_and_a_resolution_for_each_affected_organisation(
    world: dict[str, Any],
) -> None:
    incident = _major(world)
    acme, borealis, mail = world["acme"], world["borealis"], world["mail"]
    majors = rows(kind="major_incident")
    assert [(r.organisation_id, r.service_id, r.key) for r in majors] == sorted(
        [
            (acme.pk, mail.pk, f"major:{incident.pk}:{acme.pk}:{mail.pk}"),
            (borealis.pk, mail.pk, f"major:{incident.pk}:{borealis.pk}:{mail.pk}"),
        ],
        key=lambda item: item[2],
    )
    for row in majors:
        # Four hours of all users of a medium service: severity 1 exactly.
        assert row.severity == 1.0 and row.day == date(2026, 11, 3)
        assert row.incident_id == incident.pk and row.incident_key == str(incident.pk)
        assert row.label == f"major incident {incident.reference}"
        assert row.details["hours"] == 4.0 and row.details["users_factor"] == 1.0
    resolved = rows(kind="major_resolved")
    assert len(resolved) == 2
    for row in resolved:
        assert row.communication == 1.0 and row.plan == 1.0
        assert row.key.startswith(f"resolved:{incident.pk}:")
        assert row.incident_key == str(incident.pk) and row.day == date(2026, 11, 3)
        assert row.event_id is not None  # written by the subscriber of incident.resolved


def test_no_updates_means_no_communication_and_no_plan(world: dict[str, Any]) -> None:
    _major(world, updates=False, plan=False)
    for row in rows(kind="major_resolved"):
        # The resolution notice reaches customers, but every interval before it was silent.
        assert row.communication < 0.3 and row.plan == 0.0


def test_severity_is_duration_times_users_times_criticality_clamped(world: dict[str, Any]) -> None:
    incident = _major(world, hours=1)
    acme, mail = world["acme"], world["mail"]
    affected = AffectedOrganisation.objects.get(incident=incident, organisation=acme)
    severity, details = severity_of(incident, affected, mail)
    assert details["duration_factor"] == 0.5 and severity == 0.5  # √(1/4)
    mail.criticality = Service.Criticality.CRITICAL
    severity, details = severity_of(incident, affected, mail)
    assert severity == 1.0 and details["criticality_factor"] == 2.0
    affected.users_affected, affected.users_total = 1, 4
    severity, details = severity_of(incident, affected, mail)
    assert details["raw"] == 0.25 and severity == 0.5  # clamped up to the minimum
    incident.impact_ended_at = START + timedelta(hours=64)
    affected.users_affected = 4
    severity, details = severity_of(incident, affected, mail)
    assert details["raw"] == 8.0 and severity == 2.0  # √16 × 1 × 2, clamped down to the maximum


def test_an_organisation_without_a_relationship_on_the_service_gets_nothing(world: dict[str, Any]) -> None:
    travel, sam, mail, coral = world["travel"], world["sam"], world["mail"], world["coral"]
    travel.to(START)
    incident = incident_declare(
        by=sam,
        title="Mail is down",
        severity="sev2",
        services={mail: "major_outage"},
        organisations={coral: 3, world["acme"]: None},
    )
    travel.to(START + timedelta(hours=2))
    incident_resolve(incident=incident, by=sam, body="Back.")
    deliver()
    assert coral.pk not in {r.organisation_id for r in rows()}
    assert {r.organisation_id for r in rows(kind="major_incident")} == {world["acme"].pk}


def test_a_minor_incident_is_a_small_failure_on_its_start_day(world: dict[str, Any]) -> None:
    travel, sam, mail = world["travel"], world["sam"], world["mail"]
    travel.to(START)
    incident = incident_declare(
        by=sam,
        title="Slow search",
        severity="sev3",
        services={mail: "degraded_performance"},
        organisations={world["acme"]: None},
        impact_started_at=START - timedelta(days=1),
    )
    travel.to(START + timedelta(hours=3))
    incident_resolve(incident=incident, by=sam, body="Fast again.")
    deliver()
    small = rows(kind="small_failure")
    assert [(r.organisation_id, r.key, r.day) for r in small] == [
        (world["acme"].pk, f"minor:{incident.pk}:{world['acme'].pk}:{mail.pk}", date(2026, 11, 2))
    ]
    assert not rows(kind="major_incident")


def _review(incident: Incident, sam: User) -> Review:
    review = Review.objects.get(incident=incident)  # opened by incidents' own subscriber at resolution
    review_update(review=review, by=sam, root_cause_category="change", customer_summary="A release broke mail.")
    return review


def test_review_actions_closing_top_up_the_credit_with_the_share_closed(world: dict[str, Any]) -> None:
    incident = _major(world)
    travel, sam = world["travel"], world["sam"]
    review = _review(incident, sam)
    first = review_action_add(review=review, by=sam, title="Canary", kind="prevent", due_on=date(2026, 12, 1))
    second = review_action_add(review=review, by=sam, title="Runbook", kind="knowledge", due_on=date(2026, 12, 1))
    travel.to(START + timedelta(days=2))
    review_complete(review=review, by=sam)
    deliver()
    assert not rows(kind="review_actions_closed")  # nothing closed: no evidence
    travel.to(START + timedelta(days=5))
    review_action_close(action=first, by=sam)
    deliver()
    halves = rows(kind="review_actions_closed")
    assert {(r.share, r.day) for r in halves} == {(0.5, date(2026, 11, 8))} and len(halves) == 2
    assert all(r.key.endswith(":0.5000") and r.incident_key == str(incident.pk) for r in halves)
    travel.to(START + timedelta(days=9))
    review_action_close(action=second, by=sam)
    deliver()
    closed = rows(kind="review_actions_closed", share=1.0)
    assert len(closed) == 2 and all(r.day == date(2026, 11, 12) and r.key.endswith(":1.0000") for r in closed)
    # The same event again, and the backfill afterwards: nothing new.
    count = TrustEvidence.objects.count()
    event_record("incident.review_action_closed", subject=incident, incident_id=incident.pk, share_closed=1.0)
    event_record("incident.resolved", subject=incident, incident_id=incident.pk, is_major=True)
    deliver()
    assert TrustEvidence.objects.count() == count
    assert rows(kind="review_actions_closed", share__lt=0.5) == []
    keys = set(TrustEvidence.objects.values_list("key", flat=True))
    evidence_backfill()
    incident_keys = {k for k in TrustEvidence.objects.values_list("key", flat=True) if not k.startswith("week:")}
    assert incident_keys == keys


def test_a_completed_review_without_actions_counts_as_all_closed(world: dict[str, Any]) -> None:
    incident = _major(world)
    sam = world["sam"]
    review = _review(incident, sam)
    review_complete(review=review, by=sam, no_actions=True)
    deliver()
    assert {r.share for r in rows(kind="review_actions_closed")} == {1.0}


def test_action_events_delivered_before_the_resolution_are_caught_up(world: dict[str, Any]) -> None:
    """A review event that finds no major rows writes nothing; the incident's own evidence, when it
    comes, records the review's share too."""
    incident = _major(world)
    sam = world["sam"]
    review = _review(incident, sam)
    action = review_action_add(review=review, by=sam, title="Canary", kind="prevent", due_on=date(2026, 12, 1))
    TrustEvidence.objects.all().delete()  # as if incident.resolved had not been delivered yet
    review_action_close(action=action, by=sam)
    deliver()
    assert TrustEvidence.objects.count() == 0
    evidence_from_incident(incident.pk)
    assert {r.share for r in rows(kind="review_actions_closed")} == {1.0}
    assert ReviewAction.objects.get(pk=action.pk).status == "done"

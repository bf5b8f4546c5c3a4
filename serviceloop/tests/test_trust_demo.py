"""The demo's trust tells the story of its history (issue 14): the organisations hit by the email
outage week's major incident drop and earn part of it back, Dunmore Council on payroll is lowered by
its many small failures, and a relationship that began years ago, untouched by any major incident,
stands highest.

The demo is built once for the module (in a transaction rolled back at the end), as
test_demo_truth.py does; each test reads it. The stories are found from the demo's own rows (the
incident, the relationships' start dates), not from names drawn by the seed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from serviceloop.catalogue.models import Service
from serviceloop.core import clock
from serviceloop.core import demo_story as story
from serviceloop.core.demo import DemoContext
from serviceloop.demo import load_demo
from serviceloop.experience.trust_models import EvidenceKind, TrustBand, TrustEvidence, TrustPoint, TrustState
from serviceloop.incidents.models import AffectedOrganisation, Incident
from serviceloop.relationships.models import Relationship


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[DemoContext]:
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        transaction.atomic(),
    ):
        ctx = load_demo(seed=42)
        yield ctx
        transaction.set_rollback(True)


def states_by_pair() -> dict[tuple[int, int], TrustState]:
    return {(s.organisation_id, s.service_id): s for s in TrustState.objects.select_related("organisation", "service")}


def outage_incident() -> Incident:
    return Incident.objects.get(kind=Incident.Kind.INCIDENT, title__startswith="Email & collaboration unavailable")


def test_every_active_relationship_has_evidence_and_its_trust_as_of_today(demo: DemoContext, db: Any) -> None:
    today = timezone.localdate(clock.now())
    states = states_by_pair()
    pairs = set(
        Relationship.objects.filter(status=Relationship.Status.ACTIVE).values_list(
            "organisation_id", "offering__service_id"
        )
    )
    with_evidence = set(TrustEvidence.objects.values_list("organisation_id", "service_id").distinct())
    assert pairs <= with_evidence, "every active relationship has evidence (at least its weeks)"
    assert with_evidence == set(states)
    assert {s.as_of for s in states.values()} == {today}
    assert TrustPoint.objects.filter(day__gt=today).count() == 0


def test_a_long_steady_relationship_stands_highest(demo: DemoContext, db: Any) -> None:
    """The highest trust of the demo is a relationship that began years ago, that no major incident
    touched, in the good band and not falling (several such are within a point of each other: which
    one is on top is the seed's, that one like it is on top is the story's)."""
    touched = set(
        TrustEvidence.objects.filter(kind=EvidenceKind.MAJOR_INCIDENT).values_list("organisation_id", "service_id")
    )
    # Among the relationships still running (an ended one keeps its memory, and its state, but
    # earns no more weeks).
    active = set(
        Relationship.objects.filter(status=Relationship.Status.ACTIVE).values_list(
            "organisation_id", "offering__service_id"
        )
    )
    states = {pair: state for pair, state in states_by_pair().items() if pair in active}
    ranked = sorted(states.values(), key=lambda s: (-s.trust, s.pk))
    top = ranked[0]
    shown = {f"{s.organisation.name} × {s.service.slug}": s.trust for s in ranked[:5]}
    assert (top.organisation_id, top.service_id) not in touched, shown
    started = (
        Relationship.objects.filter(
            organisation=top.organisation, offering__service=top.service, status=Relationship.Status.ACTIVE
        )
        .order_by("started_on")
        .values_list("started_on", flat=True)
        .first()
    )
    assert started is not None and (timezone.localdate(clock.now()) - started).days > 365 * 1.5, (started, shown)
    assert top.band == TrustBand.GOOD and top.trust >= settings.SERVICELOOP_TRUST_WATCH, shown
    assert (top.change or 0.0) > -2, "steady: not falling"
    # And it stands above every relationship a major incident touched.
    assert top.trust > max(s.trust for s in states.values() if (s.organisation_id, s.service_id) in touched)


def test_the_outage_week_drops_trust_in_email_and_earns_part_of_it_back(demo: DemoContext, db: Any) -> None:
    outage = outage_incident()
    email = Service.objects.get(slug=story.OUTAGE_SERVICE)
    states = states_by_pair()
    hit = [
        states[(organisation_id, email.pk)]
        for organisation_id in AffectedOrganisation.objects.filter(incident=outage).values_list(
            "organisation_id", flat=True
        )
        if (organisation_id, email.pk) in states
    ]
    assert hit, "the outage affected organisations consuming email"
    start = timezone.localdate(outage.impact_started_at or outage.declared_at)
    before, after = start - timedelta(days=start.weekday() + 1), start + timedelta(days=6 - start.weekday())
    for state in hit:
        (major,) = [m for m in state.majors if m["incident_id"] == outage.pk]
        assert major["effect"] < 0 and major["credit_earned"] > 0, major
        # Updates on cadence and every review action closed: credit earned, none pending.
        assert not major["poor_communication"] and major["share_closed"] == 1.0 and major["credit_pending"] == 0
        groups = {c["group"]: c["effect"] for c in state.contributions}
        key = major["incident_key"]
        assert groups[f"major:{key}"] < 0 < groups[f"credit:{key}"], state.contributions
        # The trend shows the drop: the Sunday before the outage against the Sunday of its week.
        points = dict(
            TrustPoint.objects.filter(
                organisation=state.organisation, service=email, day__in=[before, after]
            ).values_list("day", "trust")
        )
        if before in points:  # a relationship that began later has no point before it
            assert points[after] - points[before] <= -5, (state.organisation.name, points)


def test_dunmore_council_on_payroll_is_lowered_by_its_many_small_failures(demo: DemoContext, db: Any) -> None:
    payroll = Service.objects.get(slug=story.UNHAPPY_SERVICE)
    states = [s for s in states_by_pair().values() if s.service_id == payroll.pk]
    (dunmore,) = [s for s in states if s.organisation.name == story.UNHAPPY_ORGANISATION]
    others = [s for s in states if s is not dunmore]
    assert others and dunmore.trust < min(s.trust for s in others), {s.organisation.name: s.trust for s in states}
    top = [c["group"] for c in dunmore.contributions[:3]]
    assert "kind:small_failure" in top, dunmore.contributions
    small = next(c for c in dunmore.contributions if c["group"] == "kind:small_failure")
    assert small["effect"] < 0 and small["count"] >= 20

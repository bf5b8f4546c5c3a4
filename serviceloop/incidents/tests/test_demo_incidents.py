"""The demo's status page is alive: a resolved major incident told from start to published review, a
minor one open, a maintenance ahead, 90 days of history whose rows agree with their incidents.

Loaded once for the module on top of the demo parts it needs (staff and organisations, the catalogue,
the relationships) and three desk tickets made here, in a transaction rolled back at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from serviceloop.accounts import demo as accounts_demo
from serviceloop.catalogue import demo as catalogue_demo
from serviceloop.catalogue.models import Service
from serviceloop.core.demo import DemoContext
from serviceloop.desk.models import Ticket
from serviceloop.desk.tests.factories import make_ticket
from serviceloop.incidents import demo as incidents_demo
from serviceloop.incidents.demo_history import weekday_on_or_before
from serviceloop.incidents.models import (
    MAJOR_SEVERITIES,
    Audience,
    AudiencePlan,
    Component,
    ComponentGroup,
    ComponentStatus,
    ComponentStatusChange,
    EtaChange,
    Incident,
    IncidentTicket,
    Review,
    ReviewAction,
    Silence,
    Subscription,
)
from serviceloop.relationships import demo as relationships_demo
from serviceloop.relationships.models import Person, Relationship


def _tickets(ctx: DemoContext) -> dict[str, Any]:
    """Two tickets opened on email during the showcase incident by affected organisations, one the day before."""
    email = Service.objects.get(slug="email-collaboration")
    relationship = Relationship.objects.filter(offering__service=email, status=Relationship.Status.ACTIVE).first()
    assert relationship is not None
    person = Person.objects.filter(organisation=relationship.organisation).first()
    assert person is not None
    day = weekday_on_or_before(ctx.now.date() - timedelta(days=4))
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9, minutes=20)
    tickets = {}
    for name, opened in (
        ("during", start),
        ("later", start + timedelta(hours=2)),
        ("before", start - timedelta(days=1)),
    ):
        ticket = make_ticket(person, email)
        Ticket.objects.filter(pk=ticket.pk).update(opened_at=opened, created_at=opened)
        ticket.refresh_from_db()
        tickets[name] = ticket
    ctx.objects["tickets"] = list(tickets.values())
    return tickets


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[tuple[DemoContext, dict[str, Any]]]:
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        transaction.atomic(),
    ):
        ctx = DemoContext(seed=42, now=timezone.now().replace(microsecond=0))
        for module in (accounts_demo, catalogue_demo, relationships_demo):
            module.load(ctx)
        tickets = _tickets(ctx)
        incidents_demo.load(ctx)
        yield ctx, tickets
        transaction.set_rollback(True)


def _showcase() -> Incident:
    return Incident.objects.get(title="Mail delayed and sign-in failing")


def test_a_resolved_major_incident_has_its_review_published_with_actions(demo: Any, db: Any) -> None:
    incident = _showcase()
    assert incident.is_major and incident.status == Incident.Status.RESOLVED
    review = Review.objects.get(incident=incident)
    assert review.status == Review.Status.PUBLISHED and review.customer_summary
    assert incident.resolved_at < review.completed_at < review.published_at  # type: ignore[operator]
    actions = ReviewAction.objects.filter(review=review)
    assert {a.status for a in actions} == {ReviewAction.Status.DONE, ReviewAction.Status.OPEN}
    assert all((a.status == ReviewAction.Status.DONE) == (a.closed_at is not None) for a in actions)
    # The recovery plan: customer-facing steps, published, and ETAs that moved.
    steps = incident.recovery_steps.all()
    assert steps.filter(customer_facing=True).count() >= 2 and steps.filter(customer_facing=False).exists()
    assert incident.plan_published_at is not None
    assert EtaChange.objects.filter(incident=incident, step__isnull=True).count() >= 2
    assert any(step.eta_changes.count() > 1 for step in steps)


def test_every_audience_was_told_every_30_minutes_but_once(demo: Any, db: Any) -> None:
    incident = _showcase()
    plans = {p.audience: p for p in AudiencePlan.objects.filter(incident=incident)}
    assert set(plans) == set(Audience.values)
    late = []
    for audience, plan in plans.items():
        assert plan.cadence_minutes == 30 and not plan.is_active
        times = [u.display_at for u in incident.updates.order_by("display_at") if audience in u.audiences]
        assert times[0] - incident.declared_at < timedelta(minutes=30)  # type: ignore[operator]
        assert plan.last_update_at == times[-1] == incident.resolved_at
        late += [(audience, a + timedelta(minutes=30), b) for a, b in pairwise(times) if b - a > timedelta(minutes=30)]
    [(audience, due, ended)] = late
    silence = Silence.objects.get(plan__incident=incident)
    assert (silence.plan.audience, silence.due_at, silence.ended_at) == (audience, due, ended)


def test_the_affected_organisations_have_users_and_the_tickets_of_the_time_are_linked(
    demo: tuple[DemoContext, dict[str, Any]], db: Any
) -> None:
    incident = _showcase()
    affected = list(incident.affected_organisations.all())
    assert affected and all(0 < a.users_affected <= a.users_total for a in affected)
    assert incident.users_affected == sum(a.users_affected for a in affected)
    linked = set(IncidentTicket.objects.filter(incident=incident).values_list("ticket_id", flat=True))
    tickets = demo[1]
    assert {tickets["during"].pk, tickets["later"].pk} <= linked and tickets["before"].pk not in linked


def test_a_minor_incident_is_open_on_one_public_service(demo: tuple[DemoContext, dict[str, Any]], db: Any) -> None:
    now = demo[0].now
    [minor] = Incident.objects.filter(kind=Incident.Kind.INCIDENT, status__in=Incident.OPEN_INCIDENT)
    assert (minor.severity, minor.status) == ("sev3", Incident.Status.IDENTIFIED)
    [affected] = minor.affected_services.all()
    assert affected.component_status == ComponentStatus.DEGRADED
    assert Component.objects.get(service=affected.service).is_public
    [change] = minor.status_changes.all()
    assert change.ended_at is None and change.status == ComponentStatus.DEGRADED
    assert all(plan.next_due_at and plan.next_due_at > now for plan in minor.audience_plans.all())


def test_one_maintenance_is_planned_a_few_days_ahead_with_its_notice(
    demo: tuple[DemoContext, dict[str, Any]], db: Any
) -> None:
    now = demo[0].now
    [planned] = Incident.objects.filter(kind=Incident.Kind.MAINTENANCE, status=Incident.Status.SCHEDULED)
    assert timedelta(days=2) < planned.scheduled_for - now < timedelta(days=10)  # type: ignore[operator]
    assert planned.notice_minutes == 60 and planned.notice_sent_at is None
    assert planned.affected_services.get().component_status == ComponentStatus.MAINTENANCE
    assert planned.updates.get().display_at < now


def test_ninety_days_of_history_vary_between_services(demo: tuple[DemoContext, dict[str, Any]], db: Any) -> None:
    now = demo[0].now
    changes = ComponentStatusChange.objects.all()
    first = changes.order_by("started_at").first()
    assert first is not None and timedelta(days=80) < now - first.started_at <= timedelta(days=90)
    assert Incident.objects.filter(kind=Incident.Kind.INCIDENT, severity__in=MAJOR_SEVERITIES).count() >= 3
    assert Incident.objects.filter(kind=Incident.Kind.MAINTENANCE, status=Incident.Status.COMPLETED).count() >= 2
    down = {}
    for change in changes.exclude(ended_at=None):
        down[change.service_id] = down.get(change.service_id, timedelta()) + change.ended_at - change.started_at
    assert len(down) >= 6 and len(set(down.values())) == len(down)
    # Every live service is a component, in two groups.
    live = Service.objects.filter(lifecycle=Service.Lifecycle.LIVE)
    assert set(Component.objects.values_list("service", flat=True)) == set(live.values_list("pk", flat=True))
    assert ComponentGroup.objects.count() == 2


def test_every_row_lies_within_its_incidents_lifetime(demo: tuple[DemoContext, dict[str, Any]], db: Any) -> None:
    now = demo[0].now
    for incident in Incident.objects.all():
        if incident.kind == Incident.Kind.INCIDENT:
            begins, ends = incident.declared_at, incident.resolved_at
            instants = [incident.impact_started_at, begins, incident.identified_at, incident.monitoring_at, ends]
            known = [t for t in instants if t is not None]
            assert known == sorted(known), incident
        else:
            begins, ends = incident.started_at, incident.completed_at
            assert incident.scheduled_until > incident.scheduled_for  # type: ignore[operator]
        assert incident.created_at <= now
        for update in incident.updates.all():
            assert incident.created_at <= update.display_at <= (ends or now), (incident, update)
        for change in incident.status_changes.all():
            assert begins is not None and begins <= change.started_at, (incident, change)
            assert change.ended_at is None if ends is None else change.ended_at <= ends, (incident, change)
        for link in incident.ticket_links.select_related("ticket"):
            assert link.ticket.opened_at <= (ends or now)
    for silence in Silence.objects.select_related("plan__incident"):
        assert silence.plan.incident.declared_at < silence.due_at < silence.ended_at  # type: ignore[operator]


def test_subscribers_are_confirmed_email_addresses_only(demo: Any, db: Any) -> None:
    subscriptions = Subscription.objects.all()
    assert subscriptions.count() >= 2
    assert all(s.kind == Subscription.Kind.EMAIL and s.is_active for s in subscriptions)

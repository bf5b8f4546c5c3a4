"""Scheduling a maintenance window: what is stored, who is told, what is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Service
from serviceloop.core.errors import InvalidInput
from serviceloop.desk.tests.factories import make_offering
from serviceloop.incidents import events
from serviceloop.incidents.models import AffectedOrganisation, ComponentStatus, Incident, IncidentUpdate
from serviceloop.incidents.tests.maint_fixtures import event_names, schedule

pytestmark = pytest.mark.django_db


def test_scheduling_stores_the_window_its_services_and_the_affected_organisations(
    sam: User, service: Service, org_a: Organisation, world: dict[str, Any]
) -> None:
    maintenance = schedule(sam, service, start=timedelta(days=1), length=timedelta(hours=2))
    assert maintenance.reference == "MW-1"
    assert (maintenance.kind, maintenance.status) == (Incident.Kind.MAINTENANCE, Incident.Status.SCHEDULED)
    assert maintenance.scheduled_for == datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    assert maintenance.notice_minutes == 60 and maintenance.notice_sent_at is None
    assert maintenance.auto_start and maintenance.auto_complete
    [row] = maintenance.affected_services.all()
    assert (row.service, row.component_status) == (service, ComponentStatus.MAINTENANCE)
    [affected] = AffectedOrganisation.objects.filter(incident=maintenance)
    # Organisation B consumes another service: it is not affected. Carol is A's one user.
    assert (affected.organisation, affected.users_affected, affected.users_total) == (org_a, 1, 1)
    assert not maintenance.status_changes.exists()
    [update] = maintenance.updates.all()
    assert (update.kind, update.status) == (IncidentUpdate.Kind.NOTICE, "scheduled")
    assert update.audiences == ["public", "customers"]
    assert "Email & collaboration" in update.body and "09:00" in update.body
    assert update.affected_components[0]["new_status"] == "operational"
    assert event_names(maintenance) == [events.MAINTENANCE_SCHEDULED]


def test_the_customer_contact_is_mailed_the_window_in_her_own_time_zone(
    sam: User, service: Service, world: dict[str, Any], smtp_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        schedule(sam, service, start=timedelta(days=1), length=timedelta(hours=2))
    [mail] = smtp_server.wait_for(1)
    assert str(mail["To"]) == "pia@acme.example"
    assert str(mail["Subject"]) == "[MW-1] Scheduled maintenance: Mail server upgrade"
    text = mail.get_body(("plain",)).get_content()
    # 09:00–11:00 UTC is 10:00–12:00 in Berlin, said first, with UTC beside it.
    assert "When: Tue 8 Dec 2026 10:00 – 12:00 (Europe/Berlin)" in text
    assert "Tue 8 Dec 2026 09:00 – 11:00 (UTC)" in text
    assert "Services: Email & collaboration" in text
    # Carol holds only the user role, Bea's organisation is not affected: neither is mailed.
    assert not smtp_server.to("carol@acme.example") and not smtp_server.to("bea@borealis.example")


def test_an_internal_window_mails_nobody_and_is_addressed_to_staff(
    sam: User, service: Service, world: dict[str, Any], smtp_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        maintenance = schedule(sam, service, start=timedelta(days=1), length=timedelta(hours=1), visibility="internal")
    assert maintenance.updates.get().audiences == ["internal"]
    assert smtp_server.messages == []


def test_a_window_scheduled_inside_its_notice_period_gets_the_notice_at_once_and_one_mail(
    sam: User, service: Service, world: dict[str, Any], smtp_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        maintenance = schedule(sam, service, start=timedelta(minutes=20), length=timedelta(hours=1))
    maintenance.refresh_from_db()
    assert maintenance.notice_sent_at == world["now"]
    assert event_names(maintenance) == [events.MAINTENANCE_SCHEDULED, events.MAINTENANCE_NOTICE]
    notice = maintenance.updates.order_by("pk").last()
    assert notice is not None and "starts in 20 minutes" in notice.body
    assert len(smtp_server.wait_for(1)) == 1


def test_organisations_named_by_the_team_replace_the_derived_ones(
    sam: User, service: Service, org_b: Organisation, world: dict[str, Any]
) -> None:
    maintenance = schedule(sam, service, start=timedelta(days=1), length=timedelta(hours=1), organisations=[org_b])
    assert list(maintenance.affected_organisations.values_list("organisation", flat=True)) == [org_b.pk]


@pytest.mark.parametrize(
    ("start", "length", "fields", "field"),
    [
        (timedelta(days=1), timedelta(0), {}, "scheduled_until"),
        (timedelta(days=1), -timedelta(hours=1), {}, "scheduled_until"),
        (-timedelta(minutes=5), timedelta(hours=1), {}, "scheduled_for"),
        (timedelta(days=1), timedelta(days=7, minutes=1), {}, "scheduled_until"),
        (timedelta(days=1), timedelta(hours=1), {"title": "  "}, "title"),
        (timedelta(days=1), timedelta(hours=1), {"notice_minutes": -1}, "notice_minutes"),
        (timedelta(days=1), timedelta(hours=1), {"notice_minutes": 10081}, "notice_minutes"),
        (timedelta(days=1), timedelta(hours=1), {"visibility": "everyone"}, "visibility"),
    ],
)
def test_a_window_that_makes_no_sense_is_refused_naming_the_field(
    sam: User,
    service: Service,
    monday: datetime,
    start: timedelta,
    length: timedelta,
    fields: dict[str, Any],
    field: str,
) -> None:
    with pytest.raises(InvalidInput) as refused:
        schedule(sam, service, start=start, length=length, **fields)
    assert refused.value.field == field
    assert not Incident.objects.exists()


def test_a_window_starting_within_the_last_minute_is_taken(sam: User, service: Service, monday: datetime) -> None:
    assert schedule(sam, service, start=-timedelta(seconds=30), length=timedelta(hours=1)).pk


def test_no_services_and_an_offering_of_another_service_are_refused(
    sam: User, service: Service, monday: datetime
) -> None:
    start = monday + timedelta(days=1)
    from serviceloop.incidents.maintenance import maintenance_schedule

    with pytest.raises(InvalidInput, match="at least one service"):
        maintenance_schedule(
            by=sam, title="x", services=[], scheduled_for=start, scheduled_until=start + timedelta(hours=1)
        )
    other = make_offering(name="Elsewhere")
    with pytest.raises(InvalidInput) as refused:
        schedule(sam, service, start=timedelta(days=1), length=timedelta(hours=1), offerings=[other])
    assert refused.value.field == "offerings"

"""The staff pages of maintenance: the list, the schedule form in the viewer's time zone, a window
with its actions. Customers are refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from serviceloop.accounts.models import User
from serviceloop.catalogue.models import Service
from serviceloop.incidents.models import Incident
from serviceloop.incidents.tests.maint_fixtures import schedule

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_list_says_what_to_do_when_nothing_is_planned(alex: User, world: dict[str, Any]) -> None:
    page = client_for(alex).get(reverse("incidents:maintenance_list")).content.decode()
    assert "Nothing is planned. Schedule a window before changing a service" in page
    assert "No maintenance is in progress." in page
    assert reverse("incidents:maintenance_new") in page


def test_the_list_shows_upcoming_active_and_past_windows(
    sam: User, alex: User, service: Service, world: dict[str, Any]
) -> None:
    upcoming = schedule(sam, service, start=timedelta(days=1), length=timedelta(hours=1), title="Mail upgrade")
    schedule(sam, service, start=timedelta(days=2), length=timedelta(hours=1), title="Quiet one", auto_start=False)
    page = client_for(alex).get(reverse("incidents:maintenance_list")).content.decode()
    upcoming_table = page[page.index("maintenance-upcoming") : page.index("maintenance-past")]
    assert "Mail upgrade" in upcoming_table and "Quiet one" in upcoming_table
    assert upcoming_table.index("Mail upgrade") < upcoming_table.index("Quiet one")
    assert reverse("incidents:maintenance_detail", args=[upcoming.public_id]) in upcoming_table


def test_scheduling_through_the_form_reads_the_times_in_the_viewers_zone(
    alex: User, service: Service, world: dict[str, Any]
) -> None:
    User.objects.filter(pk=alex.pk).update(time_zone="Europe/Berlin")
    client = client_for(alex)
    form = client.get(reverse("incidents:maintenance_new")).content.decode()
    assert 'type="datetime-local"' in form and 'name="services"' in form and "multiple" in form
    response = client.post(
        reverse("incidents:maintenance_new"),
        {
            "title": "Mail server upgrade",
            "services": [service.public_id],
            "scheduled_for": "2026-12-08T22:00",
            "scheduled_until": "2026-12-08T23:30",
            "notice_minutes": "30",
            "visibility": "customers",
            "auto_start": "on",
        },
    )
    maintenance = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("incidents:maintenance_detail", args=[maintenance.public_id])
    # 22:00 in Berlin (UTC+1 in December) is 21:00 UTC.
    assert maintenance.scheduled_for == datetime(2026, 12, 8, 21, 0, tzinfo=UTC)
    assert maintenance.scheduled_until == datetime(2026, 12, 8, 22, 30, tzinfo=UTC)
    assert (maintenance.notice_minutes, maintenance.visibility) == (30, "customers")
    assert maintenance.auto_start and not maintenance.auto_complete
    detail = client.get(response["Location"]).content.decode()
    assert "Tue 8 Dec 2026 22:00" in detail and "MW-1" in detail


def test_a_refused_window_is_shown_next_to_its_field(alex: User, service: Service, world: dict[str, Any]) -> None:
    response = client_for(alex).post(
        reverse("incidents:maintenance_new"),
        {
            "title": "Backwards",
            "services": [service.public_id],
            "scheduled_for": "2026-12-08T22:00",
            "scheduled_until": "2026-12-08T21:00",
            "visibility": "public",
        },
    )
    assert response.status_code == 422
    assert "The window must end after it starts." in response.content.decode()
    past = client_for(alex).post(
        reverse("incidents:maintenance_new"),
        {
            "title": "Too late",
            "services": [service.public_id],
            "scheduled_for": "2026-12-01T22:00",
            "scheduled_until": "2026-12-01T23:00",
            "visibility": "public",
        },
    )
    assert past.status_code == 422 and "cannot start in the past" in past.content.decode()
    assert not Incident.objects.exists()


def test_the_window_page_offers_the_next_steps_and_they_work(
    sam: User, alex: User, service: Service, world: dict[str, Any]
) -> None:
    maintenance = schedule(sam, service, start=timedelta(days=1), length=timedelta(hours=1), auto_start=False)
    client = client_for(alex)
    detail = reverse("incidents:maintenance_detail", args=[maintenance.public_id])
    page = client.get(detail).content.decode()
    assert reverse("incidents:maintenance_start", args=[maintenance.public_id]) in page
    assert reverse("incidents:maintenance_cancel", args=[maintenance.public_id]) in page
    assert reverse("incidents:maintenance_reschedule", args=[maintenance.public_id]) in page
    assert reverse("incidents:maintenance_complete", args=[maintenance.public_id]) not in page
    started = client.post(
        reverse("incidents:maintenance_start", args=[maintenance.public_id]), {"body": "Early start."}, follow=True
    )
    assert "MW-1 is in progress." in started.content.decode()
    page = started.content.decode()
    assert reverse("incidents:maintenance_verify", args=[maintenance.public_id]) in page
    assert "Early start." in page
    client.post(reverse("incidents:maintenance_update", args=[maintenance.public_id]), {"body": "Half done."})
    done = client.post(reverse("incidents:maintenance_complete", args=[maintenance.public_id]), follow=True)
    maintenance.refresh_from_db()
    assert maintenance.status == Incident.Status.COMPLETED
    assert "Half done." in done.content.decode()
    # A step that no longer applies says why instead of failing.
    again = client.post(reverse("incidents:maintenance_start", args=[maintenance.public_id]), follow=True)
    assert "Only a scheduled maintenance can start." in again.content.decode()


def test_rescheduling_through_the_page(sam: User, alex: User, service: Service, world: dict[str, Any]) -> None:
    maintenance = schedule(sam, service, start=timedelta(days=1), length=timedelta(hours=1))
    url = reverse("incidents:maintenance_reschedule", args=[maintenance.public_id])
    client = client_for(alex)
    form = client.get(url).content.decode()
    assert re.search(r'value="2026-12-08T09:00"', form)
    client.post(url, {"scheduled_for": "2026-12-09T09:00", "scheduled_until": "2026-12-09T10:00"})
    maintenance.refresh_from_db()
    assert maintenance.scheduled_for == datetime(2026, 12, 9, 9, 0, tzinfo=UTC)


def test_customers_cannot_see_the_pages(carol: User, sam: User, service: Service, world: dict[str, Any]) -> None:
    maintenance = schedule(sam, service, start=timedelta(days=1), length=timedelta(hours=1))
    client = client_for(carol)
    assert client.get(reverse("incidents:maintenance_list")).status_code == 403
    assert client.get(reverse("incidents:maintenance_detail", args=[maintenance.public_id])).status_code == 403
    assert client.post(reverse("incidents:maintenance_cancel", args=[maintenance.public_id])).status_code == 403
    maintenance.refresh_from_db()
    assert maintenance.status == Incident.Status.SCHEDULED

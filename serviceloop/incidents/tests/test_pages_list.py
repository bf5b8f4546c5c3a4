"""The staff list of major incidents: what each row says, the overdue clocks, filters, the empty state, who may see it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils.html import escape

from serviceloop.core import clock
from serviceloop.incidents.models import Incident
from serviceloop.incidents.tests.pages_rows import CUSTOMERS, INTERNAL, make_incident

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_list_shows_each_open_incident_with_its_clocks_and_an_overdue_badge(
    alex: Any, service: Any, org_a: Any, sam: Any, travel: Any
) -> None:
    now = travel.to(clock.now().replace(microsecond=0))
    make_incident(
        "Mail is down",
        services=[service],
        organisations=[org_a],
        owner=sam,
        severity="sev1",
        plans={INTERNAL: now - timedelta(minutes=7), CUSTOMERS: now + timedelta(minutes=20)},
    )
    response = _client(alex).get("/incidents/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "MI-1" in body and "Mail is down" in body and "SEV1" in body and "Investigating" in body
    assert escape(service.name) in body and org_a.name in body and "Sam Manager" in body
    assert "OVERDUE — Overdue by 7 min" in body
    assert "Affected customers: 20 min left" in body


def test_an_empty_list_offers_to_declare_and_filters_narrow_it(alex: Any, service: Any, org_a: Any) -> None:
    body = _client(alex).get("/incidents/").content.decode()
    assert "No open or recent major incident" in body and 'href="/incidents/declare/"' in body
    make_incident("Mail is down", services=[service], organisations=[org_a], severity="sev2")
    assert "Mail is down" in _client(alex).get("/incidents/?severity=sev2").content.decode()
    narrowed = _client(alex).get("/incidents/?severity=sev1").content.decode()
    assert "Mail is down" not in narrowed and "No incident matches these filters" in narrowed
    assert "Mail is down" in _client(alex).get(f"/incidents/?service={service.public_id}").content.decode()
    assert "Mail is down" in _client(alex).get("/incidents/?q=MI-1").content.decode()


def test_resolved_long_ago_leaves_the_current_list_but_stays_under_all(alex: Any, service: Any, travel: Any) -> None:
    old = clock.now() - timedelta(days=30)
    make_incident("Old outage", services=[service], status=Incident.Status.RESOLVED, resolved_at=old)
    assert "Old outage" not in _client(alex).get("/incidents/").content.decode()
    assert "Old outage" in _client(alex).get("/incidents/?list=all").content.decode()
    assert "Old outage" in _client(alex).get("/incidents/?list=resolved").content.decode()


def test_the_list_is_paginated(alex: Any, service: Any, settings: Any) -> None:
    settings.SERVICELOOP_PAGE_SIZE = 2
    for n in range(3):
        make_incident(f"Outage {n}", services=[service])
    first = _client(alex).get("/incidents/").content.decode()
    assert "Page 1 of 2" in first
    assert "Page 2 of 2" in _client(alex).get("/incidents/?page=2").content.decode()


@pytest.mark.parametrize("path", ["/incidents/", "/incidents/declare/"])
def test_customers_are_refused_the_staff_pages_and_strangers_sign_in(carol: Any, bob: Any, path: str) -> None:
    assert _client(carol).get(path).status_code == 403
    assert _client(bob).get(path).status_code == 403
    response = Client().get(path)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_customer_cannot_open_the_staff_page_of_their_own_incident(carol: Any, service: Any, org_a: Any) -> None:
    incident = make_incident("Mail is down", services=[service], organisations=[org_a])
    assert _client(carol).get(f"/incidents/{incident.public_id}/").status_code == 403


def test_the_navigation_offers_incidents_to_staff_and_service_status_to_customers(alex: Any, carol: Any) -> None:
    staff = _client(alex).get("/incidents/").content.decode()
    assert '<a href="/incidents/" aria-current="page">Incidents</a>' in staff
    customer = _client(carol).get("/incidents/portal/").content.decode()
    assert ">Service status</a>" in customer and ">Incidents</a>" not in customer

"""The customers' view: only their organisation's incidents (and public ones on their services), never
internal or another organisation's; the updates to customers or public; the outage banner."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from serviceloop.core import clock
from serviceloop.desk.tests.factories import make_offering, make_relationship, make_service
from serviceloop.incidents.models import Incident, RecoveryStep
from serviceloop.incidents.tests.pages_rows import CUSTOMERS, INTERNAL, PUBLIC, make_incident, make_update

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(service: Any, org_a: Any, org_b: Any, relationship_a: Any, sam: Any) -> dict[str, Incident]:
    """A's own incident, B's own, an internal one naming A, a public one on A's service, a public one elsewhere."""
    elsewhere = make_service("Payroll", manager=sam)
    make_relationship(org_b, make_offering(elsewhere, "Payslips"))
    return {
        "a": make_incident("Mail is down for Acme", services=[service], organisations=[org_a]),
        "b": make_incident("Borealis mailboxes", services=[service], organisations=[org_b]),
        "internal": make_incident(
            "Internal only", services=[service], organisations=[org_a], visibility=Incident.Visibility.INTERNAL
        ),
        "public": make_incident("Public mail outage", services=[service], visibility=Incident.Visibility.PUBLIC),
        "public_elsewhere": make_incident(
            "Payroll outage", services=[elsewhere], visibility=Incident.Visibility.PUBLIC
        ),
    }


def test_a_customer_sees_their_organisations_and_the_public_ones_on_their_services(
    carol: Any, bob: Any, world: dict[str, Incident]
) -> None:
    body = _client(carol).get("/incidents/portal/").content.decode()
    assert "Mail is down for Acme" in body and "Public mail outage" in body
    assert "Borealis mailboxes" not in body and "Internal only" not in body and "Payroll outage" not in body
    theirs = _client(bob).get("/incidents/portal/").content.decode()
    assert "Borealis mailboxes" in theirs and "Payroll outage" in theirs
    assert "Mail is down for Acme" not in theirs and "Internal only" not in theirs


def test_another_organisations_or_an_internal_incident_is_not_found(
    carol: Any, bob: Any, world: dict[str, Incident]
) -> None:
    for key in ("b", "internal", "public_elsewhere"):
        assert _client(carol).get(f"/incidents/portal/{world[key].public_id}/").status_code == 404
    assert _client(bob).get(f"/incidents/portal/{world['a'].public_id}/").status_code == 404
    assert _client(carol).get(f"/incidents/portal/{world['a'].public_id}/").status_code == 200


def test_the_detail_shows_updates_to_customers_or_public_and_published_customer_facing_steps(
    carol: Any, world: dict[str, Incident], travel: Any
) -> None:
    incident = world["a"]
    make_update(incident, "Staff only: the disk controller died.", [INTERNAL])
    make_update(incident, "Mail is slow; we are on it.", [CUSTOMERS, INTERNAL])
    make_update(incident, "Public words.", [PUBLIC])
    RecoveryStep.objects.create(incident=incident, title="Swap the controller", customer_facing=True)
    RecoveryStep.objects.create(incident=incident, title="Blame the vendor", customer_facing=False)
    body = _client(carol).get(f"/incidents/portal/{incident.public_id}/").content.decode()
    assert "Mail is slow; we are on it." in body and "Public words." in body
    assert "disk controller" not in body
    assert "Swap the controller" not in body  # not published yet
    incident.plan_published_at = clock.now()
    incident.save(update_fields=["plan_published_at"])
    body = _client(carol).get(f"/incidents/portal/{incident.public_id}/").content.decode()
    assert "Swap the controller" in body and "Blame the vendor" not in body


def test_staff_are_sent_from_the_portal_to_the_staff_list(alex: Any) -> None:
    response = _client(alex).get("/incidents/portal/")
    assert response.status_code == 302 and response["Location"] == "/incidents/"


def test_the_portal_says_when_nothing_affects_the_organisation(carol: Any) -> None:
    assert "Nothing to report" in _client(carol).get("/incidents/portal/").content.decode()


def test_the_outage_banner_shows_on_every_portal_page_of_the_affected_organisation_only(
    carol: Any, bob: Any, alex: Any, service: Any, org_a: Any, relationship_a: Any
) -> None:
    assert "outage-banner" not in _client(carol).get("/desk/portal/").content.decode()
    incident = make_incident("Mail is down for Acme", services=[service], organisations=[org_a])
    for path in ("/desk/portal/", "/incidents/portal/", "/accounts/password/"):
        body = _client(carol).get(path).content.decode()
        assert "outage-banner" in body, path
        assert f'href="/incidents/portal/{incident.public_id}/"' in body
    assert "outage-banner" not in _client(bob).get("/desk/portal/").content.decode()
    assert "outage-banner" not in _client(alex).get("/desk/queue/").content.decode()
    incident.status = Incident.Status.RESOLVED
    incident.resolved_at = clock.now()
    incident.save()
    assert "outage-banner" not in _client(carol).get("/desk/portal/").content.decode()


def test_an_internal_incident_never_raises_the_banner(carol: Any, service: Any, org_a: Any) -> None:
    make_incident("Internal", services=[service], organisations=[org_a], visibility=Incident.Visibility.INTERNAL)
    assert "outage-banner" not in _client(carol).get("/desk/portal/").content.decode()


def test_maintenance_in_progress_raises_the_banner_and_a_scheduled_one_does_not(
    carol: Any, service: Any, org_a: Any
) -> None:
    maintenance = make_incident(
        "Mail upgrade",
        services=[service],
        organisations=[org_a],
        kind=Incident.Kind.MAINTENANCE,
        status=Incident.Status.SCHEDULED,
        scheduled_for=clock.now() + timedelta(hours=2),
        scheduled_until=clock.now() + timedelta(hours=3),
    )
    assert "outage-banner" not in _client(carol).get("/desk/portal/").content.decode()
    maintenance.status = Incident.Status.IN_PROGRESS
    maintenance.save()
    body = _client(carol).get("/desk/portal/").content.decode()
    assert "Maintenance in progress" in body and "Mail upgrade" in body


def test_the_banner_costs_one_query_per_page(carol: Any, service: Any, org_a: Any) -> None:
    make_incident("Mail is down for Acme", services=[service], organisations=[org_a])
    client = _client(carol)
    client.get("/desk/portal/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/desk/portal/")
    banner = [q["sql"] for q in queries.captured_queries if "incidents_affectedorganisation" in q["sql"]]
    assert len(banner) == 1


def test_an_update_to_the_affected_customers_stays_with_them_on_a_public_incident(
    carol: Any, bob: Any, service: Any, org_b: Any, relationship_a: Any
) -> None:
    # Public and on a service Acme consumes, but only Borealis is affected: Acme sees the public
    # words, not what was written to the affected customers.
    make_relationship(org_b, make_offering(service, "Mailboxes for Borealis"))
    incident = make_incident(
        "Mail outage", services=[service], organisations=[org_b], visibility=Incident.Visibility.PUBLIC
    )
    make_update(incident, "Borealis: your mailboxes are being restored first.", [CUSTOMERS])
    make_update(incident, "Public words.", [PUBLIC])
    body = _client(carol).get(f"/incidents/portal/{incident.public_id}/").content.decode()
    assert "Public words." in body and "Borealis: your mailboxes" not in body
    theirs = _client(bob).get(f"/incidents/portal/{incident.public_id}/").content.decode()
    assert "Public words." in theirs and "Borealis: your mailboxes" in theirs

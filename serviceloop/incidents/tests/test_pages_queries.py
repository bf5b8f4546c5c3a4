"""The list pages take the same statements for one row as for twenty (no query per row)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from serviceloop.core import clock
from serviceloop.incidents.models import Incident, Review
from serviceloop.incidents.tests.pages_rows import CUSTOMERS, INTERNAL, make_incident, make_update

pytestmark = pytest.mark.django_db

PAGES = ("/incidents/", "/incidents/portal/", "/incidents/reviews/", "/incidents/maintenance/")


def _rows(n: int, service: Any, org: Any, owner: Any) -> None:
    for i in range(n):
        incident = make_incident(
            f"Outage {i}",
            services=[service],
            organisations=[org],
            severity="SEV1",
            owner=owner,
            plans={INTERNAL: clock.now() + timedelta(minutes=30), CUSTOMERS: clock.now() + timedelta(minutes=30)},
        )
        make_update(incident, f"Update {i}", [INTERNAL, CUSTOMERS])
        resolved = make_incident(
            f"Resolved {i}",
            services=[service],
            organisations=[org],
            severity="SEV2",
            owner=owner,
            status=Incident.Status.RESOLVED,
            resolved_at=clock.now(),
        )
        Review.objects.create(incident=resolved, owner=owner, due_at=clock.now() + timedelta(days=3))
        make_incident(
            f"Window {i}",
            services=[service],
            organisations=[org],
            kind=Incident.Kind.MAINTENANCE,
            status=Incident.Status.SCHEDULED,
            scheduled_for=clock.now() + timedelta(days=1),
            scheduled_until=clock.now() + timedelta(days=1, hours=1),
        )


def _counts(staff: Any, customer: Any) -> dict[str, int]:
    counts = {}
    for path in PAGES:
        client = Client()
        client.force_login(customer if "portal" in path else staff)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, path
        counts[path] = len(queries)
    return counts


def test_one_row_or_twenty_take_the_same_statements(
    alex: Any, carol: Any, service: Any, org_a: Any, relationship_a: Any
) -> None:
    _rows(1, service, org_a, alex)
    few = _counts(alex, carol)
    _rows(19, service, org_a, alex)
    assert _counts(alex, carol) == few


def test_the_maintenance_api_list_takes_the_same_statements_for_one_window_or_twenty(
    alex: Any, service: Any, org_a: Any, relationship_a: Any
) -> None:
    from serviceloop.accounts.testing import api_client_for

    client = api_client_for(alex)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/incidents/maintenance?limit=50").status_code == 200
        return len(queries)

    _rows(1, service, org_a, alex)
    count()  # the first request of the client writes its session
    few = count()
    _rows(19, service, org_a, alex)
    assert count() == few

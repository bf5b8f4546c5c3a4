"""The summary, the page and the feeds read a fixed number of statements, whatever the number of
incidents and updates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from serviceloop.accounts.models import User
from serviceloop.core.testing import Travel
from serviceloop.incidents.models import ComponentStatus
from serviceloop.incidents.tests.factories_status import (
    make_change,
    make_component,
    make_incident,
    make_maintenance,
    make_step,
    make_update,
    publish_review,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PATHS = ["/status/", "/api/v2/summary.json", "/api/v2/incidents.json", "/status/history.atom", "/status/history/"]


def _incidents(count: int, services: list, start: int) -> None:
    for n in range(start, start + count):
        service = services[n % len(services)]
        incident = make_incident(f"Trouble {n}", services={service: ComponentStatus.PARTIAL},
                                 status="resolved" if n % 2 else "investigating", plan_published_at=NOW)  # fmt: skip
        for minutes in (5, 10, 15):
            make_update(incident, f"Update {n}/{minutes}", display_at=NOW - timedelta(minutes=minutes))
        make_step(incident, customer_facing=True)
        make_change(incident, service, ComponentStatus.PARTIAL, NOW - timedelta(days=n % 30, hours=2),
                    NOW - timedelta(days=n % 30, hours=1))  # fmt: skip
        if n % 2:
            publish_review(incident)
    make_maintenance(f"Window {start}", services=services[:1])


def _counts() -> dict[str, int]:
    counts = {}
    for path in PATHS:
        with CaptureQueriesContext(connection) as queries:
            assert Client().get(path).status_code == 200
        counts[path] = len(queries)
    return counts


def test_one_incident_or_twenty_take_the_same_statements(sam: User, travel: Travel) -> None:
    travel.to(NOW - timedelta(days=100))
    services = [make_component(sam, f"Component {n}").service for n in range(3)]
    travel.to(NOW)
    _incidents(1, services, 0)
    few = _counts()
    _incidents(19, services, 1)
    many = _counts()
    assert many == few, (few, many)
    assert few["/status/"] <= 20 and few["/api/v2/summary.json"] <= 12, few

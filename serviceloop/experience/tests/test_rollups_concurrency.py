"""Two workers replacing the same cells at once: one waits for the other, nothing is counted twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from serviceloop.accounts.models import User
from serviceloop.accounts.testing import at_once
from serviceloop.experience.models import RollupCount
from serviceloop.experience.rollups import cells_of_responses, cells_refresh, rollups_rebuild
from serviceloop.experience.tests.oracle import expected_rows
from serviceloop.feedback.models import Response
from serviceloop.feedback.services.responses import response_record
from serviceloop.feedback.tests.factories_channels import make_service

pytestmark = pytest.mark.django_db(transaction=True)


def _table() -> dict[object, int]:
    return {
        (r.service_id, r.day, r.offering_id, r.organisation_id, r.channel, r.ticket_type, r.measure, r.value): r.count
        for r in RollupCount.objects.all()
    }


def test_two_workers_replacing_the_same_cells_at_once_leave_one_count(sam: User) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL's row locks")
    service = make_service("Payroll", manager=sam)
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    for n in range(30):
        response_record(
            service=service, happiness=n % 11, drivers=["speed"], responded_at=start + timedelta(hours=n * 7)
        )
    cells = cells_of_responses(Response.objects.values_list("pk", flat=True))
    for _round in range(5):
        results = at_once(
            lambda: cells_refresh(cells),
            lambda: cells_refresh(cells),
            lambda: rollups_rebuild(since=start.date(), until=start.date() + timedelta(days=10), chunk_days=3),
        )
        assert not [r for r in results if isinstance(r, Exception)], results
        assert _table() == dict(expected_rows())

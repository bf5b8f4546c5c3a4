"""Migration 0007 counts, from each ticket's history, the time it spent resolved before a reopen as paused."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from serviceloop.desk.models import Ticket
from serviceloop.desk.services import ticket_reopen, ticket_reply, ticket_resolve, ticket_set_status
from serviceloop.desk.tests.factories import make_calendar, make_target, make_ticket

LONDON = ZoneInfo("Europe/London")
HOUR = 3600
BEFORE = ("desk", "0006_mail_routes")
AFTER = ("desk", "0007_sla_resolved_pause")


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


def migrate(target: tuple[str, str]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])


def migrate_latest() -> None:
    """Back to every app's latest migration, as the rest of the suite expects (later desk migrations too)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_backfill_counts_resolved_time_before_a_reopen_and_the_wait_before_the_first_answer(
    travel: Any, service: Any, carol_person: Any, dave: Any, alex: Any
) -> None:
    make_target(service, calendar=make_calendar("Europe/London"), first_response_minutes=60)
    travel.to(london(2026, 9, 7, 10, 0))
    reopened = make_ticket(carol_person, service)
    waited = make_ticket(dave, service)
    untouched = make_ticket(dave, service, subject="Never paused")
    # Waiting on Dave before anybody answered: Monday 10:00 to 12:00.
    ticket_set_status(ticket=waited, status=Ticket.Status.WAITING_CUSTOMER, by=alex)
    travel.to(london(2026, 9, 7, 11, 0))
    ticket_reply(ticket=reopened, body="Done, I think.", by_user=alex, channel=Ticket.Channel.STAFF)
    travel.to(london(2026, 9, 7, 12, 0))
    ticket_reply(ticket=waited, body="Here it is.", by_person=dave, channel=Ticket.Channel.EMAIL)
    ticket_resolve(ticket=reopened, by=alex, resolution="Cleared the jam.")
    # Resolved Monday 12:00 to Wednesday 12:00: 16 business hours.
    travel.to(london(2026, 9, 9, 12, 0))
    ticket_reopen(ticket=reopened, by_user=alex, reason="Jammed again.")
    due_before = Ticket.objects.get(pk=reopened.pk).resolution_due_at
    assert Ticket.objects.get(pk=reopened.pk).paused_seconds == 16 * HOUR

    try:
        # Back to what the desk stored before this change (the resolved time not counted as paused) …
        migrate(BEFORE)
        with connection.cursor() as cursor:
            cursor.execute("SELECT paused_seconds FROM desk_ticket WHERE id = %s", [reopened.pk])
            assert cursor.fetchone()[0] == 0
        # … and forward again: counted once, not twice.
        migrate(AFTER)
    finally:
        migrate_latest()

    rows = {t.pk: t for t in Ticket.objects.all()}
    assert (rows[reopened.pk].paused_seconds, rows[reopened.pk].resolved_paused_seconds) == (16 * HOUR, 16 * HOUR)
    assert rows[reopened.pk].first_response_paused_seconds == 0
    assert rows[reopened.pk].resolution_due_at == due_before  # moved at the reopen already
    assert (rows[waited.pk].paused_seconds, rows[waited.pk].resolved_paused_seconds) == (2 * HOUR, 0)
    assert rows[waited.pk].first_response_paused_seconds == 2 * HOUR
    assert (rows[untouched.pk].paused_seconds, rows[untouched.pk].first_response_paused_seconds) == (0, 0)

"""Migration 0009 fills the business minutes of existing tickets, in the calendar the desk would use."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from serviceloop.accounts.models import Organisation
from serviceloop.desk.models import Ticket
from serviceloop.desk.services import ticket_reopen, ticket_reply, ticket_resolve
from serviceloop.desk.tests.factories import make_calendar, make_offering, make_relationship, make_service, make_target
from serviceloop.desk.tests.factories import make_ticket as open_ticket

BEFORE = ("desk", "0008_ticket_search_people")
AFTER = ("desk", "0009_ticket_business_minutes")
ALL_DAY = {str(day): [["00:00", "24:00"]] for day in range(7)}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def migrate(*targets: tuple[str, str]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(list(targets) or executor.loader.graph.leaf_nodes())


def columns() -> set[str]:
    with connection.cursor() as cursor:
        return {column.name for column in connection.introspection.get_table_description(cursor, "desk_ticket")}


@pytest.mark.django_db(transaction=True)
def test_the_backfill_stores_the_minutes_and_migrating_back_drops_them(
    travel: Any, service: Any, org_a: Organisation, dave: Any, alex: Any
) -> None:
    make_target(service, calendar=make_calendar("UTC"))  # P3 on 09–17 weekdays
    night = make_service("Night desk")
    make_relationship(org_a, make_offering(night, "Night standard"))
    make_target(night, priority=Ticket.Priority.P1, calendar=make_calendar("UTC", hours=ALL_DAY))
    travel.to(utc("2026-09-07 09:00"))  # a Monday
    resolved, reopened, unanswered = open_ticket(dave, service), open_ticket(dave, service), open_ticket(dave, service)
    travel.to(utc("2026-09-07 10:30"))
    ticket_reply(ticket=resolved, body="On it.", by_user=alex, channel=Ticket.Channel.STAFF)
    ticket_resolve(ticket=reopened, by=alex, resolution="Done.")  # also its first response
    travel.to(utc("2026-09-07 16:00"))
    ticket_resolve(ticket=resolved, by=alex, resolution="Done.")
    ticket_reopen(ticket=reopened, by_user=alex, reason="Not done.")
    travel.to(utc("2026-09-12 10:00"))  # Saturday, on the night desk (P3: no target, the service's 24×7)
    weekend = open_ticket(dave, night)
    travel.to(utc("2026-09-12 12:15"))
    ticket_resolve(ticket=weekend, by=alex, resolution="Done.")
    expected = {
        resolved.pk: (90, 420),
        reopened.pk: (90, None),  # open again: no resolution minutes until it is resolved again
        unanswered.pk: (None, None),
        weekend.pk: (135, 135),
    }

    def minutes() -> dict[int, tuple[int | None, int | None]]:
        rows = Ticket.objects.values_list("pk", "response_business_minutes", "resolution_business_minutes")
        return {pk: (response, resolution) for pk, response, resolution in rows}

    assert minutes() == expected  # as the services store them
    try:
        migrate(BEFORE)
        assert "response_business_minutes" not in columns()
        migrate(AFTER)  # the backfill computes the same from the instants
        assert minutes() == expected
    finally:
        migrate()  # every app's leaf migrations, as the rest of the suite expects
    assert minutes() == expected

"""The recount reads its raw rows by index: a rebuild chunk (every service, a range of days) by the day
indexes (feedback 0005), an event's cell (one service, one day) by index too. Checked on PostgreSQL's plans."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from serviceloop.experience.recount import Cells, recount_sql

pytestmark = pytest.mark.django_db


def plan(cells: Cells) -> str:
    sql, params = recount_sql(cells)
    with connection.cursor() as cursor:
        # The test tables are nearly empty, where a sequential scan is cheapest: forbid it, so that the
        # plan shows which index serves each table (a table no index serves would still be scanned).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture(autouse=True)
def postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the plans checked are PostgreSQL's")


def test_a_rebuild_chunk_reads_every_source_by_its_day_index() -> None:
    shown = plan(Cells(service_ids=None, first=date(2026, 6, 1), last=date(2026, 7, 1)))
    for index in (
        "feedback_resp_day_idx",
        "feedback_inv_sent_day_idx",
        "feedback_sup_created_day_idx",
        "feedback_post_posted_day_idx",
    ):
        assert index in shown, index
    for table in ("feedback_response", "feedback_invitation", "feedback_suppressedinvitation", "feedback_post "):
        assert f"Seq Scan on {table}" not in shown, table


def test_an_events_cell_reads_one_service_by_index() -> None:
    day = date(2026, 6, 5)
    shown = plan(Cells(service_ids=[1], first=day, last=day, days=[day]))
    # On nearly empty tables either index of a source costs the same; with data (checked on 200,000
    # responses) the planner takes the (service, moment) ones: feedback_resp_service_idx and its kin.
    for table in ("feedback_response", "feedback_invitation", "feedback_suppressedinvitation", "feedback_post "):
        assert f"Seq Scan on {table}" not in shown, table

"""Refreshes and adoptions at once (PostgreSQL: concurrent writers): one state per pair with one set of
points, the last state written includes every committed row, one version 1, distinct versions."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction

from serviceloop.accounts.models import User
from serviceloop.accounts.testing import at_once, make_organisation
from serviceloop.experience.models import Alert
from serviceloop.experience.tests.trust_rows import START, major, met_weeks, store
from serviceloop.experience.trust_engine import replay
from serviceloop.experience.trust_models import TrustParameterSet, TrustPoint, TrustState
from serviceloop.experience.trust_states import (
    evidence_of_pair,
    parameters_adopt,
    parameters_current,
    state_refresh,
)
from serviceloop.feedback.tests.factories_channels import make_service

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite runs one writer at a time; the races need PostgreSQL's concurrent transactions")


def closing(call: Any) -> Any:
    """`call` for a thread of its own, closing that thread's connection after it (at_once does so itself)."""

    def run() -> Any:
        try:
            return call()
        finally:
            connection.close()

    return run


def test_first_refreshes_of_a_pair_at_once_store_one_state(sam: User) -> None:
    service = make_service("Payroll", manager=sam)
    day = START + timedelta(days=7 * 8)
    for round_ in range(3):
        organisation = make_organisation(f"Org {round_}")
        store(organisation, service, [*met_weeks(START, 8), *major("3", day)])

        def refresh(org: Any = organisation) -> int:
            state = state_refresh(org.pk, service.pk, today=day)
            assert state is not None
            return state.pk

        results = at_once(refresh, refresh, refresh)
        assert not [r for r in results if isinstance(r, Exception)], results
        assert len(set(results)) == 1
        assert TrustState.objects.filter(organisation=organisation).count() == 1
        assert TrustPoint.objects.filter(organisation=organisation).count() == 9  # 8 Sundays and today
        # Red and fall, each alerted once.
        assert Alert.objects.filter(cause__endswith=f":{organisation.pk}:{service.pk}").count() == 2


def waited_for_lock(timeout: float = 30.0) -> None:
    """Until another backend waits for a row lock (the refresh queued behind the held state)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the refresh never waited for the lock")


def test_a_refresh_waiting_for_another_reads_the_rows_committed_meanwhile(sam: User) -> None:
    service = make_service("Payroll", manager=sam)
    organisation = make_organisation("Dunmore Council")
    store(organisation, service, met_weeks(START, 8))
    day = START + timedelta(days=7 * 8)
    state_refresh(organisation.pk, service.pk, today=day)
    locked, release = threading.Event(), threading.Event()

    def hold_the_state() -> None:
        # A refresh in progress: the state locked while a major incident's row is committed elsewhere.
        try:
            with transaction.atomic():
                TrustState.objects.select_for_update().get(organisation=organisation)
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_state)
    holder.start()
    assert locked.wait(30)
    waiting = threading.Thread(target=closing(lambda: state_refresh(organisation.pk, service.pk, today=day)))
    waiting.start()
    waited_for_lock()
    store(organisation, service, major("9", day), prefix="late")  # committed while the refresh waits
    release.set()
    holder.join(30)
    waiting.join(30)
    state = TrustState.objects.get(organisation=organisation)
    assert state.evidence_count == 9
    assert state.trust == replay(evidence_of_pair(organisation.pk, service.pk), [day]).points[0].trust


def test_version_one_is_created_once_and_adoptions_get_their_own_versions(ada: User) -> None:
    results = at_once(*(lambda: parameters_current()[0] for _ in range(3)))
    assert results == [1, 1, 1] and TrustParameterSet.objects.count() == 1
    adopted = at_once(
        *(lambda v=v: parameters_adopt(values={"prior": v}, note="", by=ada).version for v in (10, 11, 12))
    )
    assert not [r for r in adopted if isinstance(r, Exception)], adopted
    assert sorted(adopted) == [2, 3, 4]
    assert list(TrustParameterSet.objects.order_by("version").values_list("version", flat=True)) == [1, 2, 3, 4]

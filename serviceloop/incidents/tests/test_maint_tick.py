"""The beat task moves windows on its own: the notice before, in progress at the start, completed at
the end; each step once however often it runs. Manual steps, cancel and reschedule beside it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from serviceloop.accounts.models import User
from serviceloop.catalogue.models import Service
from serviceloop.core.errors import ConflictError, InvalidInput
from serviceloop.core.testing import Travel
from serviceloop.incidents import events
from serviceloop.incidents.maintenance import (
    maintenance_cancel,
    maintenance_complete,
    maintenance_reschedule,
    maintenance_start,
    maintenance_tick,
    maintenance_update_post,
    maintenance_verify,
)
from serviceloop.incidents.models import ComponentStatus, Incident
from serviceloop.incidents.tasks import maintenance_tick as maintenance_tick_task
from serviceloop.incidents.tests.maint_fixtures import event_names, schedule

pytestmark = pytest.mark.django_db

NOTHING = {"notices": 0, "started": 0, "completed": 0}


def _twice(capture: Any) -> dict[str, int]:
    with capture(execute=True):
        first = maintenance_tick()
    with capture(execute=True):
        assert maintenance_tick() == NOTHING
    return first


def test_a_window_gets_its_notice_starts_and_completes_each_once(
    sam: User,
    service: Service,
    world: dict[str, Any],
    travel: Travel,
    smtp_server: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    capture = django_capture_on_commit_callbacks
    with capture(execute=True):
        maintenance = schedule(sam, service, start=timedelta(hours=3), length=timedelta(hours=2))
    smtp_server.wait_for(1)
    assert _twice(capture) == NOTHING

    travel.by(hours=2, seconds=1)  # 59 minutes before the start: the 60-minute notice is due
    assert _twice(capture) == {"notices": 1, "started": 0, "completed": 0}
    maintenance.refresh_from_db()
    assert maintenance.notice_sent_at == travel.now() and maintenance.status == Incident.Status.SCHEDULED
    reminder = smtp_server.wait_for(2)[1]
    assert str(reminder["Subject"]) == "[MW-1] Maintenance starting soon: Mail server upgrade"
    assert "When: Mon 7 Dec 2026 13:00 – 15:00 (Europe/Berlin)" in reminder.get_body(("plain",)).get_content()

    travel.by(hours=1, seconds=29)  # 30 s after the planned start
    assert _twice(capture) == {"notices": 0, "started": 1, "completed": 0}
    maintenance.refresh_from_db()
    assert maintenance.status == Incident.Status.IN_PROGRESS
    assert maintenance.started_at == maintenance.scheduled_for
    [row] = maintenance.status_changes.all()
    assert (row.service, row.status, row.started_at, row.ended_at) == (
        service,
        ComponentStatus.MAINTENANCE,
        maintenance.scheduled_for,
        None,
    )

    travel.by(hours=2)
    assert _twice(capture) == {"notices": 0, "started": 0, "completed": 1}
    maintenance.refresh_from_db()
    assert maintenance.status == Incident.Status.COMPLETED
    assert maintenance.completed_at == maintenance.scheduled_until
    row.refresh_from_db()
    assert row.ended_at == maintenance.scheduled_until
    assert event_names(maintenance) == [
        events.MAINTENANCE_SCHEDULED,
        events.MAINTENANCE_NOTICE,
        events.MAINTENANCE_STARTED,
        events.MAINTENANCE_COMPLETED,
    ]
    statuses = list(maintenance.updates.order_by("display_at", "pk").values_list("kind", "status"))
    assert statuses == [
        ("notice", "scheduled"),
        ("notice", "scheduled"),
        ("update", "in_progress"),
        ("update", "completed"),
    ]
    # The customers were mailed the announcement and the reminder, nothing more.
    assert len(smtp_server.messages) == 2


def test_the_celery_task_runs_the_tick(sam: User, service: Service, world: dict[str, Any], travel: Travel) -> None:
    schedule(sam, service, start=timedelta(minutes=90), length=timedelta(hours=1))
    travel.by(minutes=31)
    assert maintenance_tick_task.delay().get() == {"notices": 1, "started": 0, "completed": 0}


def test_a_tick_that_comes_late_opens_and_closes_the_window_at_its_planned_edges(
    sam: User, service: Service, world: dict[str, Any], travel: Travel
) -> None:
    maintenance = schedule(sam, service, start=timedelta(hours=3), length=timedelta(hours=1))
    travel.by(hours=6)  # the scheduler was down all along
    assert maintenance_tick() == {"notices": 0, "started": 1, "completed": 1}
    maintenance.refresh_from_db()
    assert (maintenance.started_at, maintenance.completed_at) == (
        maintenance.scheduled_for,
        maintenance.scheduled_until,
    )
    assert maintenance.notice_sent_at is None
    [row] = maintenance.status_changes.all()
    assert (row.started_at, row.ended_at) == (maintenance.scheduled_for, maintenance.scheduled_until)


def test_without_auto_start_and_auto_complete_the_team_moves_the_window(
    sam: User, alex: User, service: Service, world: dict[str, Any], travel: Travel
) -> None:
    maintenance = schedule(
        sam, service, start=timedelta(hours=2), length=timedelta(hours=1), auto_start=False, auto_complete=False
    )
    travel.by(hours=2, minutes=5)
    # The notice is still due; the start waits for a person.
    assert maintenance_tick() == {"notices": 1, "started": 0, "completed": 0}
    maintenance.refresh_from_db()
    assert maintenance.status == Incident.Status.SCHEDULED
    started_at = travel.now()
    maintenance_start(maintenance=maintenance, by=alex)
    maintenance_update_post(maintenance=maintenance, by=alex, body="Half the mailboxes are moved.")
    maintenance_verify(maintenance=maintenance, by=alex)
    travel.by(hours=3)
    assert maintenance_tick() == NOTHING
    maintenance.refresh_from_db()
    assert maintenance.status == Incident.Status.VERIFYING
    maintenance_complete(maintenance=maintenance, by=alex, body="All mailboxes are on the new servers.")
    maintenance.refresh_from_db()
    assert (maintenance.started_at, maintenance.completed_at) == (started_at, travel.now())
    [row] = maintenance.status_changes.all()
    assert (row.started_at, row.ended_at) == (started_at, travel.now())
    bodies = list(maintenance.updates.order_by("display_at", "pk").values_list("status", "body"))
    assert bodies[-3:] == [
        ("in_progress", "Half the mailboxes are moved."),
        ("verifying", "Maintenance work is done; we are verifying that everything works as it should."),
        ("completed", "All mailboxes are on the new servers."),
    ]
    assert events.INCIDENT_UPDATE_POSTED in event_names(maintenance)


def test_steps_out_of_order_are_refused(sam: User, service: Service, world: dict[str, Any]) -> None:
    maintenance = schedule(sam, service, start=timedelta(hours=2), length=timedelta(hours=1))
    with pytest.raises(ConflictError, match="cancel a planned one"):
        maintenance_complete(maintenance=maintenance, by=sam)
    with pytest.raises(ConflictError):
        maintenance_verify(maintenance=maintenance, by=sam)
    with pytest.raises(InvalidInput, match="before the window was scheduled"):
        maintenance_start(maintenance=maintenance, by=sam, at=world["now"] - timedelta(days=1))
    maintenance_start(maintenance=maintenance, by=sam)
    with pytest.raises(ConflictError):
        maintenance_start(maintenance=maintenance, by=sam)
    with pytest.raises(ConflictError, match="complete it"):
        maintenance_cancel(maintenance=maintenance, by=sam)
    with pytest.raises(InvalidInput, match="future"):
        maintenance_complete(maintenance=maintenance, by=sam, at=world["now"] + timedelta(hours=1))
    assert maintenance.status_changes.count() == 1


def test_a_cancelled_window_is_kept_completed_at_its_planned_start_without_status_rows(
    sam: User,
    service: Service,
    world: dict[str, Any],
    travel: Travel,
    smtp_server: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        maintenance = schedule(sam, service, start=timedelta(hours=3), length=timedelta(hours=1))
        maintenance_cancel(maintenance=maintenance, by=sam, body="The vendor postponed the upgrade.")
    maintenance.refresh_from_db()
    assert maintenance.status == Incident.Status.COMPLETED
    assert (maintenance.completed_at, maintenance.cancelled_at) == (maintenance.scheduled_for, world["now"])
    update = maintenance.updates.order_by("pk").last()
    assert update is not None and update.body == "Cancelled: The vendor postponed the upgrade."
    cancelled = [m for m in smtp_server.wait_for(2) if "Maintenance cancelled" in str(m["Subject"])]
    assert len(cancelled) == 1 and str(cancelled[0]["To"]) == "pia@acme.example"
    travel.by(hours=5)
    assert maintenance_tick() == NOTHING
    assert not maintenance.status_changes.exists()
    assert event_names(maintenance)[-1] == events.MAINTENANCE_COMPLETED


def test_rescheduling_after_the_notice_sends_it_again_at_the_new_time(
    sam: User,
    service: Service,
    world: dict[str, Any],
    travel: Travel,
    smtp_server: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    maintenance = schedule(sam, service, start=timedelta(minutes=90), length=timedelta(hours=1))
    travel.by(minutes=40)
    assert maintenance_tick()["notices"] == 1
    later = world["now"] + timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        maintenance = maintenance_reschedule(
            maintenance=maintenance, by=sam, scheduled_for=later, scheduled_until=later + timedelta(hours=2)
        )
    assert maintenance.notice_sent_at is None
    [mail] = smtp_server.wait_for(1)
    assert str(mail["Subject"]).startswith("[MW-1] Maintenance rescheduled")
    assert "Tue 8 Dec 2026 10:00 – 12:00 (Europe/Berlin)" in mail.get_body(("plain",)).get_content()
    assert maintenance_tick() == NOTHING
    travel.to(later - timedelta(minutes=59))
    assert maintenance_tick()["notices"] == 1
    assert event_names(maintenance).count(events.MAINTENANCE_NOTICE) == 2


def test_a_started_window_may_only_move_its_end(
    sam: User, service: Service, world: dict[str, Any], travel: Travel
) -> None:
    maintenance = schedule(sam, service, start=timedelta(minutes=10), length=timedelta(hours=1))
    travel.by(minutes=15)
    maintenance_tick()
    maintenance.refresh_from_db()
    assert maintenance.scheduled_for is not None and maintenance.scheduled_until is not None
    with pytest.raises(ConflictError):
        maintenance_reschedule(
            maintenance=maintenance,
            by=sam,
            scheduled_for=maintenance.scheduled_for + timedelta(hours=1),
            scheduled_until=maintenance.scheduled_until + timedelta(hours=1),
        )
    longer = maintenance.scheduled_until + timedelta(hours=1)
    maintenance_reschedule(
        maintenance=maintenance, by=sam, scheduled_for=maintenance.scheduled_for, scheduled_until=longer
    )
    travel.by(hours=1)
    assert maintenance_tick() == NOTHING  # the old end has passed, the new one not
    travel.by(hours=1)
    assert maintenance_tick()["completed"] == 1


def test_changing_only_the_notice_announces_nothing_and_a_notice_now_due_goes_at_once(
    sam: User,
    service: Service,
    world: dict[str, Any],
    smtp_server: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    maintenance = schedule(sam, service, start=timedelta(hours=3), length=timedelta(hours=1))
    assert maintenance.scheduled_for is not None and maintenance.scheduled_until is not None
    with django_capture_on_commit_callbacks(execute=True):
        maintenance = maintenance_reschedule(
            maintenance=maintenance,
            by=sam,
            scheduled_for=maintenance.scheduled_for,
            scheduled_until=maintenance.scheduled_until,
            notice_minutes=240,
        )
    assert maintenance.notice_minutes == 240 and maintenance.notice_sent_at == world["now"]
    [mail] = smtp_server.wait_for(1)
    assert "starting soon" in str(mail["Subject"])
    assert events.MAINTENANCE_SCHEDULED not in event_names(maintenance)[1:]
    assert maintenance_tick() == NOTHING

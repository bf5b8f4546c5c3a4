"""The periodic SLA task on a real worker: records the breach at its instant, once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from serviceloop.core.testing import wait_until
from serviceloop.desk.models import SlaEvent, Ticket
from serviceloop.desk.tasks import sla_check
from serviceloop.desk.tests.factories import make_target, make_ticket


def test_sla_check_is_scheduled_by_beat() -> None:
    assert settings.CELERY_BEAT_SCHEDULE["desk-sla-check"]["task"] == "serviceloop.desk.tasks.sla_check"


@pytest.mark.worker
def test_worker_records_a_breach_at_the_due_instant(celery_worker: Any, carol_person: Any, service: Any) -> None:
    make_target(service)
    ticket = make_ticket(carol_person, service)
    due = timezone.now().replace(microsecond=0) - timedelta(hours=3)
    Ticket.objects.filter(pk=ticket.pk).update(resolution_due_at=due, resolution_warn_at=due - timedelta(hours=1))

    sla_check.delay()
    wait_until(
        lambda: SlaEvent.objects.filter(kind="breached", target="resolution").exists(), message="breach recorded"
    )
    sla_check.delay()
    sla_check.delay()
    wait_until(lambda: SlaEvent.objects.filter(kind="warning", target="resolution").exists(), message="warning")

    breach = SlaEvent.objects.get(kind="breached", target="resolution")
    assert breach.at == due
    assert SlaEvent.objects.filter(target="resolution").count() == 2
    assert Ticket.objects.get(pk=ticket.pk).resolution_breached

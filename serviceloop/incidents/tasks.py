"""Beat tasks of the incidents app (ids in, one service, idempotent)."""

from __future__ import annotations

import time

from celery import shared_task

from serviceloop.core import clock
from serviceloop.incidents.services_cadence import cadence_check as cadence_check_service


@shared_task
def cadence_check() -> dict[str, int]:
    """Remind plan owners before an update falls due and alert when it is overdue (each once)."""
    return cadence_check_service(now=clock.now())


# One sweep POSTs for at most this long, so a backlog drains over several runs of beat.
WEBHOOK_SWEEP_SECONDS = 45.0


@shared_task(name="serviceloop.incidents.tasks.deliver_webhook", soft_time_limit=60, time_limit=90)
def deliver_webhook(delivery_id: int) -> str:
    from serviceloop.incidents.webhooks import webhook_deliver

    return webhook_deliver(delivery_id=delivery_id)


def webhook_sweep_once(*, budget_seconds: float = WEBHOOK_SWEEP_SECONDS) -> int:
    """POST every webhook delivery that is due (a retry, a kick the broker lost); how many were tried."""
    from serviceloop.incidents.webhooks import deliveries_due, webhook_deliver

    started = time.monotonic()
    tried = 0
    for delivery_id in deliveries_due():
        if time.monotonic() - started > budget_seconds:
            break
        webhook_deliver(delivery_id=delivery_id)
        tried += 1
    return tried


@shared_task(name="serviceloop.incidents.tasks.webhook_sweep", soft_time_limit=55, time_limit=120)
def webhook_sweep() -> int:
    return webhook_sweep_once()


@shared_task
def maintenance_tick() -> dict[str, int]:
    """Maintenance notices that are due, and windows to open and close at their planned edges (each once)."""
    from serviceloop.incidents.maintenance import maintenance_tick as maintenance_tick_service

    return maintenance_tick_service()


@shared_task
def review_reminders() -> int:
    """Mail review owners (due within a day, overdue) and action owners (overdue), once a day each."""
    from serviceloop.incidents.review_reminders import review_reminders_send

    return review_reminders_send(now=clock.now())

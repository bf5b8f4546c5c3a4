"""Beat tasks of the incidents app (ids in, one service, idempotent)."""

from __future__ import annotations

from celery import shared_task

from serviceloop.core import clock
from serviceloop.incidents.services_cadence import cadence_check as cadence_check_service


@shared_task
def cadence_check() -> dict[str, int]:
    """Remind plan owners before an update falls due and alert when it is overdue (each once)."""
    return cadence_check_service(now=clock.now())

"""Experience background work: thin, idempotent."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from serviceloop.experience.drops import drops_detect


@shared_task(name="serviceloop.experience.tasks.detect_drops", soft_time_limit=240, time_limit=300)
def detect_drops() -> dict[str, int]:
    """Hourly: test every live service's primary metrics for a drop against its baseline (FDR-controlled),
    raise an alert per discovery and recover the alerts whose drop is gone. A repeat raises nothing new."""
    return asdict(drops_detect())

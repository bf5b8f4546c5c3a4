"""Experience's worker tasks: thin, idempotent wrappers around services."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from serviceloop.experience.drops import drops_detect


@shared_task(name="serviceloop.experience.tasks.detect_drops", soft_time_limit=240, time_limit=300)
def detect_drops() -> dict[str, int]:
    """Hourly: test every live service's primary metrics for a drop against its baseline (FDR-controlled),
    raise an alert per discovery and recover the alerts whose drop is gone. A repeat raises nothing new."""
    return asdict(drops_detect())


@shared_task(name="serviceloop.experience.tasks.generate_review_pdf", soft_time_limit=240, time_limit=300)
def generate_review_pdf(review_id: int) -> str:
    """Make and store one service review's PDF (only a queued review is taken, so a repeat does nothing)."""
    from serviceloop.experience.reports import review_generate

    return review_generate(review_id=review_id)


@shared_task(name="serviceloop.experience.tasks.sweep_reviews", soft_time_limit=55, time_limit=120)
def sweep_reviews() -> int:
    """Hand the worker the reviews it never got (broker down) or lost (worker killed)."""
    from serviceloop.experience.reports import reviews_sweep

    return reviews_sweep()

"""Experience's worker tasks: thin, idempotent wrappers around services."""

from __future__ import annotations

from celery import shared_task


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

"""Periodic experience work: thin, idempotent wrappers around services."""

from __future__ import annotations

from celery import shared_task

from serviceloop.core import clock
from serviceloop.experience.xlas import xlas_evaluate_all


@shared_task
def evaluate_xlas() -> int:
    """Evaluate every active XLA now (beat: every SERVICELOOP_XLA_EVALUATE_MINUTES); how many changed state.

    Idempotent: an XLA whose state stays the same gets its latest figure and nothing else."""
    return xlas_evaluate_all(at=clock.now())

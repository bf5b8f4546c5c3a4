"""Experience's worker tasks: thin, idempotent wrappers around services."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from serviceloop.core import clock
from serviceloop.experience.drops import drops_detect
from serviceloop.experience.xlas import xlas_evaluate_all


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


@shared_task(name="serviceloop.experience.tasks.evaluate_xlas")
def evaluate_xlas() -> int:
    """Evaluate every active XLA now (beat: every SERVICELOOP_XLA_EVALUATE_MINUTES); how many changed state.

    Idempotent: an XLA whose state stays the same gets its latest figure and nothing else."""
    return xlas_evaluate_all(at=clock.now())


@shared_task(name="serviceloop.experience.tasks.trust_weeks", soft_time_limit=240, time_limit=300)
def trust_weeks() -> int:
    """Hourly (it does anything only once per week and month): record each relationship's finished
    weeks (share of targets met) and missed availability months as trust evidence; idempotent."""
    from serviceloop.experience.trust_evidence import periods_record_due

    return periods_record_due()


@shared_task(name="serviceloop.experience.tasks.trust_refresh", soft_time_limit=240, time_limit=300)
def trust_refresh() -> int:
    """Hourly: recompute the trust states not yet computed for today (trust decays day by day even
    without new evidence); alerts on a move into the red band or a fast fall. How many were computed."""
    from serviceloop.experience.trust_states import states_refresh_stale

    return states_refresh_stale()

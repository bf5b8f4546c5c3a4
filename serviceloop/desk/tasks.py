"""Periodic desk work: thin, idempotent wrappers around services."""

from __future__ import annotations

from celery import shared_task

from serviceloop.core import clock
from serviceloop.desk.mail_out import acknowledgement_counts_prune
from serviceloop.desk.mail_tasks import poll_mailbox  # noqa: F401  (Celery finds it here)
from serviceloop.desk.services import attachments_orphans_delete, tickets_close_resolved
from serviceloop.desk.services import sla_check as sla_check_service


@shared_task
def sla_check() -> int:
    """Record SLA warnings and breaches that have happened (each once, at the instant it happened)."""
    return sla_check_service(now=clock.now())


@shared_task
def close_resolved_tickets() -> int:
    """Close resolved tickets whose reopen window has passed."""
    return tickets_close_resolved()


@shared_task
def delete_orphaned_attachments() -> int:
    """Delete stored files that no attachment refers to, a day after they were written."""
    return attachments_orphans_delete()


@shared_task
def prune_acknowledgement_counts() -> int:
    """Forget the per-address acknowledgement counts of hours more than a day past."""
    return acknowledgement_counts_prune()

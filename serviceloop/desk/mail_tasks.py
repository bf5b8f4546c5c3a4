"""The mail poll task (found by Celery through desk/tasks.py; scheduled only when IMAP is configured)."""

from __future__ import annotations

from celery import shared_task

from serviceloop.desk.mail_transport import poll_mailbox as poll


@shared_task
def poll_mailbox() -> dict[str, int]:
    """Fetch unseen mail from the IMAP mailbox and apply each; returns counts by outcome."""
    result = poll()
    return {"fetched": result.fetched, "failed": result.failed, **result.outcomes}

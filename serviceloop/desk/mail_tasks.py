"""The mail poll task (found by Celery through desk/tasks.py; scheduled only when IMAP is configured)."""

from __future__ import annotations

from celery import shared_task

from serviceloop.desk.mail_transport import POLL_BUDGET_SECONDS
from serviceloop.desk.mail_transport import poll_mailbox as poll


# The poll stops fetching after POLL_BUDGET_SECONDS; the limits end a poll stuck past that (a server
# that trickles bytes inside every socket timeout). It only stores mail: parsing happens in its own task.
@shared_task(soft_time_limit=POLL_BUDGET_SECONDS + 30, time_limit=POLL_BUDGET_SECONDS + 60)
def poll_mailbox() -> dict[str, int]:
    """Fetch unseen mail from the IMAP mailbox and store each; returns counts by outcome."""
    result = poll()
    return {"fetched": result.fetched, "failed": result.failed, **result.outcomes}

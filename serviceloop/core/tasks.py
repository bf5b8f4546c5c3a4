from __future__ import annotations

import logging
import smtplib
from typing import Any

from celery import shared_task

from serviceloop.core.mail import OutboundEmail, email_send_now

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def deliver_email(self: Any, payload: dict[str, Any]) -> None:
    email = OutboundEmail(**payload)
    email_send_now(email)
    logger.info("email sent to %s: %s", ", ".join(email.to), email.subject)

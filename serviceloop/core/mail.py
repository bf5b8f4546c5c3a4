"""Outbound email through the outbox: a row written in the transaction, sent by the worker.

`email_queue()` writes an `OutgoingMail` row inside the caller's transaction, so a rolled-back change
mails nobody and a committed one mails its recipient even if the broker, the SMTP server or the
worker is down at that moment. The worker sends it (`core.tasks.deliver_mail`, kicked after commit,
and `core.tasks.outbox_sweep` for anything still due). A failed attempt is retried with back-off —
never more than five minutes apart — until `SERVICELOOP_MAIL_RETRY_HOURS` (3 days) have passed;
then the mail is marked failed and shown on the operations page with a retry action.

Every mail has a stable Message-ID, and the Message-ID is unique in the outbox: the same mail queued
twice is stored once. A mail is sent at most once, except in the one window no SMTP client can close:
the server accepted it and the worker died before it could record that; the mail is then sent again
after the claim lease (`CLAIM_LEASE`) runs out.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F, Q

from serviceloop.core import clock
from serviceloop.core.errors import ConflictError
from serviceloop.core.models import OutgoingMail

logger = logging.getLogger(__name__)

BACKOFF_FIRST_SECONDS = 15
BACKOFF_MAX_SECONDS = 300
# A worker holds a claimed mail at most this long (SMTP timeout plus margin) before another tries.
CLAIM_LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class OutboundEmail:
    to: list[str]
    subject: str
    text: str
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    reply_to: list[str] = field(default_factory=list)
    from_email: str | None = None

    def build(self) -> EmailMultiAlternatives:
        message = EmailMultiAlternatives(
            subject=self.subject,
            body=self.text,
            from_email=self.from_email or settings.DEFAULT_FROM_EMAIL,
            to=self.to,
            reply_to=self.reply_to or None,
            headers={"X-Serviceloop-Loop": "1", "Auto-Submitted": "auto-generated", **self.headers},
        )
        if self.html:
            message.attach_alternative(self.html, "text/html")
        return message


def _mail_domain() -> str:
    address = str(getattr(settings, "SERVICELOOP_MAIL_ADDRESS", "") or settings.DEFAULT_FROM_EMAIL)
    return address.rpartition("@")[2].strip(" >").lower() or "serviceloop.localhost"


def _message_id(headers: dict[str, str]) -> str:
    for name, value in headers.items():
        if name.lower() == "message-id" and value.strip():
            return value.strip()
    return make_msgid(domain=_mail_domain())


def retry_window() -> timedelta:
    return timedelta(hours=float(settings.SERVICELOOP_MAIL_RETRY_HOURS))


def email_queue(email: OutboundEmail) -> OutgoingMail:
    """Put a mail in the outbox, in the caller's transaction; the worker sends it after commit.

    The same Message-ID queued again (a subscriber run twice) returns the stored mail: sent once.
    """
    headers = dict(email.headers)
    message_id = _message_id(headers)
    if not any(name.lower() == "message-id" for name in headers):
        headers["Message-ID"] = message_id
    now = clock.now()
    existing = OutgoingMail.objects.filter(message_id=message_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            mail = OutgoingMail.objects.create(
                message_id=message_id,
                to=list(email.to),
                subject=email.subject[:500],
                text=email.text,
                html=email.html or "",
                headers=headers,
                reply_to=list(email.reply_to),
                from_email=email.from_email or "",
                created_at=now,
                next_attempt_at=now,
                retry_until=now + retry_window(),
            )
    except IntegrityError:
        # Queued by a concurrent run of the same subscriber: one row, one mail.
        return OutgoingMail.objects.get(message_id=message_id)
    mail_id = mail.pk
    transaction.on_commit(lambda: _kick_delivery(mail_id))
    return mail


def _kick_delivery(mail_id: int) -> None:
    from serviceloop.core.tasks import deliver_mail, enqueue

    enqueue(deliver_mail, mail_id)


def _as_email(mail: OutgoingMail) -> OutboundEmail:
    return OutboundEmail(
        to=list(mail.to),
        subject=mail.subject,
        text=mail.text,
        html=mail.html or None,
        headers=dict(mail.headers),
        reply_to=list(mail.reply_to),
        from_email=mail.from_email or None,
    )


def email_send_now(email: OutboundEmail) -> None:
    email.build().send(fail_silently=False)


def _claim(mail_id: int) -> OutgoingMail | None:
    """Take the mail for this worker: one UPDATE, so two workers never both hold it."""
    now = clock.now()
    due = Q(status=OutgoingMail.Status.PENDING, next_attempt_at__lte=now) | Q(
        status=OutgoingMail.Status.SENDING, claimed_at__lt=now - CLAIM_LEASE
    )
    claimed = OutgoingMail.objects.filter(due, pk=mail_id).update(
        status=OutgoingMail.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    return OutgoingMail.objects.get(pk=mail_id) if claimed else None


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** max(0, attempts - 1)))


def mail_deliver(*, mail_id: int) -> str:
    """Send one outbox mail if it is due and nobody else holds it. Returns its status afterwards."""
    mail = _claim(mail_id)
    if mail is None:
        return OutgoingMail.objects.filter(pk=mail_id).values_list("status", flat=True).first() or "missing"
    try:
        email_send_now(_as_email(mail))
    except Exception as error:
        # The outermost transport loop of a mail: an SMTP or network fault, but also a bad header or
        # a backend bug. Whatever it is, the row leaves `sending` with its reason and is retried, then
        # failed for an operator; left in `sending` it would be retaken for ever and never reported.
        now = clock.now()
        failed = now >= mail.retry_until
        OutgoingMail.objects.filter(pk=mail.pk, status=OutgoingMail.Status.SENDING).update(
            status=OutgoingMail.Status.FAILED if failed else OutgoingMail.Status.PENDING,
            next_attempt_at=now + backoff(mail.attempts),
            claimed_at=None,
            last_error=f"{type(error).__name__}: {error}"[:2000],
        )
        transport = isinstance(error, smtplib.SMTPException | OSError)
        log = logger.error if failed or not transport else logger.warning
        log("mail %s to %s not sent (attempt %s): %s", mail.message_id, ", ".join(mail.to), mail.attempts, error)
        return OutgoingMail.Status.FAILED if failed else OutgoingMail.Status.PENDING
    OutgoingMail.objects.filter(pk=mail.pk).update(
        status=OutgoingMail.Status.SENT, sent_at=clock.now(), claimed_at=None, last_error=""
    )
    logger.info("mail sent to %s: %s", ", ".join(mail.to), mail.subject)
    return OutgoingMail.Status.SENT


def mails_due(*, limit: int = 200) -> list[int]:
    now = clock.now()
    due = Q(status=OutgoingMail.Status.PENDING, next_attempt_at__lte=now) | Q(
        status=OutgoingMail.Status.SENDING, claimed_at__lt=now - CLAIM_LEASE
    )
    return list(OutgoingMail.objects.filter(due).order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])


def mail_retry(*, mail: OutgoingMail, by: Any) -> OutgoingMail:
    """An operator sends a failed mail again: due now, with a fresh retry window."""
    from serviceloop.core.events import event_record

    with transaction.atomic():
        # Lock the row: two operators pressing Retry at once must record one retry, not two.
        current = OutgoingMail.objects.select_for_update().get(pk=mail.pk)
        if current.status != OutgoingMail.Status.FAILED:
            raise ConflictError(
                "mail_not_failed", f"Only a failed mail can be retried; this one is {current.get_status_display()}."
            )
        now = clock.now()
        OutgoingMail.objects.filter(pk=mail.pk).update(
            status=OutgoingMail.Status.PENDING, next_attempt_at=now, retry_until=now + retry_window()
        )
        event_record("operations.mail_retried", subject=mail, by=by, message_id=mail.message_id)
        mail_id = mail.pk
        transaction.on_commit(lambda: _kick_delivery(mail_id))
    mail.refresh_from_db()
    return mail


def delivery_summary(*, timeout: float = 0.5) -> str:
    """One line for people starting serviceloop: where outgoing mail goes and how to see it."""
    backend = settings.EMAIL_BACKEND
    if backend != "django.core.mail.backends.smtp.EmailBackend":
        if backend.endswith("console.EmailBackend"):
            return "Outgoing mail is printed by the worker (console backend)."
        return f"Outgoing mail goes to {backend} (SERVICELOOP_EMAIL_BACKEND)."
    import socket

    where = f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    try:
        socket.create_connection((settings.EMAIL_HOST, settings.EMAIL_PORT), timeout=timeout).close()
    except OSError:
        return (
            f"Outgoing mail goes to the SMTP server at {where}, which does not answer: mail waits in the "
            "outbox (Operations page) and is sent when it does. To see mail, run an SMTP sink there "
            f"(e.g. `python -m aiosmtpd -n -l {where}`) or set SERVICELOOP_EMAIL_BACKEND="
            "django.core.mail.backends.console.EmailBackend to print it."
        )
    return f"Outgoing mail goes to the SMTP server at {where} (SERVICELOOP_EMAIL_HOST/PORT)."

"""Outbound email: built here, sent by a Celery task after the transaction commits."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction


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


def email_queue(email: OutboundEmail) -> None:
    """Send after commit, through the worker: a rolled-back change never mails anybody."""
    from serviceloop.core.tasks import deliver_email

    payload = asdict(email)
    transaction.on_commit(lambda: deliver_email.delay(payload))


def email_send_now(email: OutboundEmail) -> None:
    email.build().send(fail_silently=False)

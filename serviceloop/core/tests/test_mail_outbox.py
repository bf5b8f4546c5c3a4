"""Mail through the outbox: written with the change, sent by the worker, retried, never lost or doubled."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction

from serviceloop.core.mail import (
    CLAIM_LEASE,
    OutboundEmail,
    backoff,
    email_queue,
    mail_deliver,
    mail_retry,
    mails_due,
)
from serviceloop.core.models import Event, OutgoingMail
from serviceloop.core.tasks import sweep_once
from serviceloop.core.testing import free_port

pytestmark = pytest.mark.django_db


def _mail(n: int = 1, **fields: Any) -> OutboundEmail:
    return OutboundEmail(to=[f"person{n}@acme.example"], subject=f"Mail {n}", text="Hello.", **fields)


@pytest.fixture
def smtp_down(settings: Any) -> None:
    """Nothing listens on the SMTP port: every attempt is refused at once."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()


def test_a_queued_mail_is_a_row_with_a_stable_message_id(db: Any) -> None:
    mail = email_queue(_mail())
    stored = OutgoingMail.objects.get(pk=mail.pk)
    assert stored.status == OutgoingMail.Status.PENDING
    assert stored.message_id.startswith("<") and stored.message_id.endswith(">")
    assert stored.headers["Message-ID"] == stored.message_id
    assert stored.retry_until - stored.created_at == timedelta(hours=72)


def test_a_rolled_back_change_mails_nobody(db: Any) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        email_queue(_mail())
        raise RuntimeError("the change fails")
    assert not OutgoingMail.objects.exists()


def test_the_same_message_id_queued_twice_is_stored_and_sent_once(smtp_server: Any, db: Any) -> None:
    first = email_queue(_mail(headers={"Message-ID": "<SL-100001.abc@serviceloop.localhost>"}))
    again = email_queue(_mail(headers={"Message-ID": "<SL-100001.abc@serviceloop.localhost>"}))
    assert first.pk == again.pk
    assert mail_deliver(mail_id=first.pk) == OutgoingMail.Status.SENT
    assert mail_deliver(mail_id=first.pk) == OutgoingMail.Status.SENT  # a repeat sends nothing
    assert len(smtp_server.wait_for(1)) == 1
    assert smtp_server.messages[0]["Message-ID"] == "<SL-100001.abc@serviceloop.localhost>"


def test_mail_goes_out_after_commit(smtp_server: Any, transactional_db: Any) -> None:
    with transaction.atomic():
        mail = email_queue(_mail())
        assert smtp_server.messages == []
    smtp_server.wait_for(1)
    assert OutgoingMail.objects.get(pk=mail.pk).status == OutgoingMail.Status.SENT


def test_smtp_down_for_six_minutes_delays_mail_and_loses_none(smtp_down: Any, settings: Any, travel: Any) -> None:
    mails = [email_queue(_mail(n)) for n in range(4)]
    for mail in mails:
        assert mail_deliver(mail_id=mail.pk) == OutgoingMail.Status.PENDING
    for _ in range(6):
        travel.by(minutes=1)
        sweep_once()
    assert OutgoingMail.objects.filter(status=OutgoingMail.Status.PENDING).count() == 4
    stored = OutgoingMail.objects.get(pk=mails[0].pk)
    assert stored.attempts >= 3
    assert "refused" in stored.last_error.lower()

    # The server is back: the next sweep after the back-off sends each mail once.
    from aiosmtpd.controller import Controller

    from serviceloop.core.testing import SmtpSink, _Handler

    sink = SmtpSink(host="127.0.0.1", port=settings.EMAIL_PORT)
    controller = Controller(_Handler(sink), hostname="127.0.0.1", port=settings.EMAIL_PORT)
    controller.start()
    try:
        travel.by(minutes=5)
        sweep_once()
        sink.wait_for(4)
    finally:
        controller.stop()
    assert sorted(m["Subject"] for m in sink.messages) == ["Mail 0", "Mail 1", "Mail 2", "Mail 3"]
    assert OutgoingMail.objects.filter(status=OutgoingMail.Status.SENT).count() == 4


def test_back_off_grows_and_is_never_more_than_five_minutes() -> None:
    gaps = [backoff(attempt) for attempt in range(1, 50)]
    assert gaps[0] == timedelta(seconds=15)
    assert gaps == sorted(gaps)
    assert max(gaps) == timedelta(minutes=5)


def test_a_mail_that_cannot_be_sent_for_three_days_is_marked_failed(smtp_down: Any, travel: Any) -> None:
    mail = email_queue(_mail())
    mail_deliver(mail_id=mail.pk)
    travel.by(hours=71, minutes=55)
    sweep_once()
    assert OutgoingMail.objects.get(pk=mail.pk).status == OutgoingMail.Status.PENDING
    travel.by(minutes=10)
    sweep_once()
    failed = OutgoingMail.objects.get(pk=mail.pk)
    assert failed.status == OutgoingMail.Status.FAILED
    assert mails_due() == []


def test_an_operator_retries_a_failed_mail(smtp_server: Any, ada: Any) -> None:
    mail = email_queue(_mail())
    OutgoingMail.objects.filter(pk=mail.pk).update(status=OutgoingMail.Status.FAILED, last_error="gone")
    mail_retry(mail=OutgoingMail.objects.get(pk=mail.pk), by=ada)
    assert mails_due() == [mail.pk]
    sweep_once()
    smtp_server.wait_for(1)
    assert OutgoingMail.objects.get(pk=mail.pk).status == OutgoingMail.Status.SENT
    assert Event.objects.filter(name="operations.mail_retried", actor_id=ada.pk, subject_id=mail.pk).exists()


def test_a_claim_is_exclusive_until_its_lease_runs_out(smtp_server: Any, travel: Any) -> None:
    mail = email_queue(_mail())
    # A worker took it and died before sending: nobody else may take it inside the lease...
    OutgoingMail.objects.filter(pk=mail.pk).update(status=OutgoingMail.Status.SENDING, claimed_at=travel.now())
    assert mail_deliver(mail_id=mail.pk) == OutgoingMail.Status.SENDING
    assert mails_due() == []
    # ...and after it, the sweep sends it.
    travel.by(seconds=CLAIM_LEASE.total_seconds() + 1)
    assert mails_due() == [mail.pk]
    sweep_once()
    smtp_server.wait_for(1)
    assert OutgoingMail.objects.get(pk=mail.pk).status == OutgoingMail.Status.SENT


def test_a_mail_task_of_the_release_before_the_outbox_is_moved_into_it(smtp_server: Any) -> None:
    from serviceloop.core.tasks import deliver_email

    deliver_email.apply(args=[{"to": ["old@acme.example"], "subject": "Queued before the upgrade", "text": "Hi."}])
    assert OutgoingMail.objects.get().subject == "Queued before the upgrade"


def test_a_mail_that_breaks_the_mail_backend_is_retried_and_reported_not_stuck(settings: Any, travel: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # A newline in a header is refused by Django's mail code itself (BadHeaderError), not by SMTP.
    mail = email_queue(_mail(headers={"X-Broken": "one\ntwo"}))
    assert mail_deliver(mail_id=mail.pk) == OutgoingMail.Status.PENDING
    stored = OutgoingMail.objects.get(pk=mail.pk)
    assert stored.status == OutgoingMail.Status.PENDING and stored.claimed_at is None
    assert "BadHeaderError" in stored.last_error
    travel.by(hours=73)
    sweep_once()
    assert OutgoingMail.objects.get(pk=mail.pk).status == OutgoingMail.Status.FAILED

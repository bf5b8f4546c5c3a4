"""The Django admin for operators: the outbox with a retry action, the event log read-only."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from serviceloop.core.models import Event, OutgoingMail
from serviceloop.core.tests.factories import make_event, make_failed_mail


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_action_retries_the_selected_failed_mails_and_leaves_the_others(ada: Any) -> None:
    failed = make_failed_mail(to="carol@acme.example")
    sent = make_failed_mail(to="dave@acme.example", status=OutgoingMail.Status.SENT)
    response = _client(ada).post(
        reverse("admin:core_outgoingmail_changelist"),
        {"action": "retry_failed_mails", "_selected_action": [failed.pk, sent.pk]},
        follow=True,
    )
    assert response.status_code == 200
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert (failed.status, sent.status) == (OutgoingMail.Status.PENDING, OutgoingMail.Status.SENT)
    assert "1 mail(s) queued again" in response.content.decode()
    assert Event.objects.filter(name="operations.mail_retried").count() == 1


def test_events_are_read_only_in_the_admin(ada: Any) -> None:
    event = make_event("tests.something", by=ada)
    client = _client(ada)
    assert client.get(reverse("admin:core_event_changelist")).status_code == 200
    assert client.get(reverse("admin:core_event_change", args=[event.pk])).status_code == 200
    assert client.post(reverse("admin:core_event_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert Event.objects.filter(pk=event.pk).exists()
    assert client.get(reverse("admin:core_event_add")).status_code == 403


def test_the_outbox_and_idempotency_keys_are_listed_in_the_admin(ada: Any) -> None:
    make_failed_mail()
    client = _client(ada)
    assert client.get(reverse("admin:core_outgoingmail_changelist")).status_code == 200
    assert client.get(reverse("admin:core_eventdelivery_changelist")).status_code == 200
    assert client.get(reverse("admin:core_idempotencykey_changelist")).status_code == 200

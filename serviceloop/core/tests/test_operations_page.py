"""The operations page as administrators use it: outbox health, failed mail and deliveries, Retry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.test import Client
from django.urls import reverse

from serviceloop.core import clock
from serviceloop.core.mail import OutboundEmail, email_queue, mail_deliver
from serviceloop.core.models import Event, EventDelivery, OutgoingMail
from serviceloop.core.tasks import sweep_once
from serviceloop.core.testing import free_port
from serviceloop.core.tests.factories import make_event, make_failed_delivery, make_failed_mail


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _fail_against_a_closed_port(settings: Any, to: str = "carol@acme.example") -> OutgoingMail:
    """A mail sent to an SMTP port nobody listens on, after its retry window has closed."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    mail = email_queue(OutboundEmail(to=[to], subject="Your ticket was resolved", text="Tell us how we did."))
    OutgoingMail.objects.filter(pk=mail.pk).update(retry_until=clock.now() - timedelta(seconds=1))
    assert mail_deliver(mail_id=mail.pk) == OutgoingMail.Status.FAILED
    mail.refresh_from_db()
    return mail


def test_a_mail_that_could_not_be_sent_is_listed_with_its_error(ada: Any, settings: Any) -> None:
    mail = _fail_against_a_closed_port(settings)
    response = _client(ada).get(reverse("core:operations"))
    assert response.status_code == 200
    assert [row.pk for row in response.context["page_obj"]] == [mail.pk]
    page = response.content.decode()
    assert "carol@acme.example" in page
    assert "ConnectionRefusedError" in page
    assert reverse("core:mail_retry", kwargs={"public_id": mail.public_id}) in page


def test_retry_makes_a_failed_mail_pending_again_and_records_who_retried(ada: Any, smtp_server: Any) -> None:
    mail = make_failed_mail()
    response = _client(ada).post(reverse("core:mail_retry", kwargs={"public_id": mail.public_id}), {"show": "mails"})
    assert response.status_code == 302
    mail.refresh_from_db()
    assert mail.status == OutgoingMail.Status.PENDING
    assert mail.retry_until > clock.now() + timedelta(hours=1)
    event = Event.objects.get(name="operations.mail_retried")
    assert (event.subject_type, event.subject_id, event.actor_id) == ("core.outgoingmail", mail.pk, ada.pk)
    # The worker's sweep now sends it, once, to a real SMTP server.
    sweep_once()
    assert [m["Subject"] for m in smtp_server.wait_for(1)] == ["Your ticket was resolved"]
    mail.refresh_from_db()
    assert mail.status == OutgoingMail.Status.SENT


def test_retrying_a_mail_that_was_sent_meanwhile_is_refused_with_a_message(ada: Any) -> None:
    mail = make_failed_mail(status=OutgoingMail.Status.SENT)
    client = _client(ada)
    response = client.post(reverse("core:mail_retry", kwargs={"public_id": mail.public_id}), follow=True)
    assert "Only a failed mail can be retried" in response.content.decode()
    assert not Event.objects.filter(name="operations.mail_retried").exists()


def test_retry_sends_a_failed_delivery_to_its_subscriber_again(ada: Any) -> None:
    delivery = make_failed_delivery()
    url = reverse("core:delivery_retry", kwargs={"public_id": delivery.public_id})
    response = _client(ada).post(url, {"show": "deliveries"})
    assert response["Location"].endswith("?show=deliveries")
    delivery.refresh_from_db()
    assert delivery.status == EventDelivery.Status.PENDING
    assert Event.objects.filter(name="operations.delivery_retried", actor_id=ada.pk).count() == 1


def test_failed_deliveries_are_listed_with_an_expandable_error(ada: Any) -> None:
    delivery = make_failed_delivery(last_error="RuntimeError: " + "the trust model is down " * 20)
    response = _client(ada).get(reverse("core:operations"), {"show": "deliveries"})
    page = response.content.decode()
    assert delivery.subscriber in page
    assert "<details>" in page and "the trust model is down" in page


def test_the_health_summary_counts_waiting_and_failed_work(ada: Any) -> None:
    email_queue(OutboundEmail(to=["dave@acme.example"], subject="Waiting", text="."))
    make_failed_mail()
    make_failed_delivery()
    summary = _client(ada).get(reverse("core:operations")).context["summary"]
    assert (summary.mails_pending, summary.mails_failed, summary.deliveries_failed) == (1, 1, 1)
    assert summary.oldest_pending_mail_at is not None
    assert not summary.healthy


def test_an_outbox_with_nothing_failed_says_so(ada: Any) -> None:
    client = _client(ada)
    mails = client.get(reverse("core:operations")).content.decode()
    deliveries = client.get(reverse("core:operations"), {"show": "deliveries"}).content.decode()
    assert "Nothing failed" in mails and "No failed mail" in mails
    assert "No failed event deliveries" in deliveries


def test_agents_and_managers_are_refused_the_operations_page_and_its_retries(alex: Any, sam: Any) -> None:
    mail = make_failed_mail()
    for user in (alex, sam):
        client = _client(user)
        assert client.get(reverse("core:operations")).status_code == 403
        assert client.post(reverse("core:mail_retry", kwargs={"public_id": mail.public_id})).status_code == 403
    mail.refresh_from_db()
    assert mail.status == OutgoingMail.Status.FAILED


def test_retry_answers_404_for_an_unknown_mail(ada: Any) -> None:
    response = _client(ada).post(reverse("core:mail_retry", kwargs={"public_id": "nosuchmail"}))
    assert response.status_code == 404


def test_only_administrators_see_operations_in_the_navigation(ada: Any, alex: Any) -> None:
    make_event("tests.something")
    assert "Operations" in _client(ada).get(reverse("core:event_log")).content.decode()
    assert ">Operations<" not in _client(alex).get(reverse("core:event_log")).content.decode()

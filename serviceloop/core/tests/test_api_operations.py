"""The event log and the outbox through the API: same rules as the pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from serviceloop.core.mail import OutboundEmail, email_queue
from serviceloop.core.models import Event, OutgoingMail
from serviceloop.core.tests.factories import make_event, make_failed_delivery, make_failed_mail

pytestmark = pytest.mark.usefixtures("only_this_tests_events")


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_staff_list_events_with_filters_and_pagination(alex: Any, sam: Any) -> None:
    for _ in range(3):
        make_event("tests.by_sam", by=sam)
    make_event("tests.other")
    response = _client(alex).get("/api/core/events", {"name": "tests.by_sam", "limit": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [item["actor"] for item in body["items"]] == ["sam@provider.example"] * 2


def test_one_objects_history_through_the_api(alex: Any, carol: Any, bob: Any) -> None:
    make_event("tests.about_carol", subject=carol)
    make_event("tests.about_bob", subject=bob)
    response = _client(alex).get("/api/core/events", {"subject": f"accounts.user:{carol.public_id}"})
    assert [item["name"] for item in response.json()["items"]] == ["tests.about_carol"]


def test_a_malformed_subject_answers_422_with_a_message(alex: Any) -> None:
    response = _client(alex).get("/api/core/events", {"subject": "desk.ticket"})
    assert response.status_code == 422
    assert "<kind>:<public id>" in response.json()["message"]


def test_an_end_date_before_the_start_answers_422(alex: Any) -> None:
    response = _client(alex).get("/api/core/events", {"since": "2026-03-02", "until": "2026-03-01"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_period"


def test_a_customer_is_refused_the_event_log_even_for_their_own_login(carol: Any) -> None:
    make_event("tests.about_carol", subject=carol)
    client = _client(carol)
    assert client.get("/api/core/events").status_code == 403
    # Refused before the subject is looked up: a 404 would tell which ids exist.
    assert client.get("/api/core/events", {"subject": "accounts.user:nosuchid"}).status_code == 403


def test_administrators_read_the_outbox_summary(ada: Any) -> None:
    make_failed_mail()
    response = _client(ada).get("/api/core/outbox")
    assert response.status_code == 200
    assert (response.json()["mails_failed"], response.json()["healthy"]) == (1, False)
    assert response.json()["oldest_pending_mail_age_seconds"] is None  # the one mail failed; none waits


def test_the_outbox_summary_says_how_long_the_oldest_mail_has_waited(ada: Any) -> None:
    email_queue(OutboundEmail(to=["dave@acme.example"], subject="Waiting", text="."))
    body = _client(ada).get("/api/core/outbox").json()
    assert body["mails_pending"] == 1
    assert body["oldest_pending_mail_age_seconds"] >= 0


def test_an_agent_is_refused_the_outbox(alex: Any) -> None:
    assert _client(alex).get("/api/core/outbox").status_code == 403


def test_retrying_a_failed_mail_through_the_api(ada: Any) -> None:
    mail = make_failed_mail()
    response = _client(ada).post(f"/api/core/mails/{mail.public_id}/retry")
    assert response.status_code == 200
    assert response.json()["status"] == OutgoingMail.Status.PENDING
    assert Event.objects.filter(name="operations.mail_retried", subject_id=mail.pk, actor_id=ada.pk).exists()


def test_retrying_twice_answers_409_the_second_time(ada: Any) -> None:
    mail = make_failed_mail()
    client = _client(ada)
    client.post(f"/api/core/mails/{mail.public_id}/retry")
    second = client.post(f"/api/core/mails/{mail.public_id}/retry")
    assert second.status_code == 409
    assert second.json()["code"] == "mail_not_failed"
    assert Event.objects.filter(name="operations.mail_retried").count() == 1


def test_retrying_an_unknown_mail_answers_404(ada: Any) -> None:
    assert _client(ada).post("/api/core/mails/nosuchmail/retry").status_code == 404


def test_retrying_a_failed_delivery_through_the_api(ada: Any) -> None:
    delivery = make_failed_delivery()
    response = _client(ada).post(f"/api/core/deliveries/{delivery.public_id}/retry")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["event"]["name"]) == ("pending", "tests.needs_delivery")


def test_a_customer_cannot_retry_a_mail(carol: Any) -> None:
    mail = make_failed_mail()
    assert _client(carol).post(f"/api/core/mails/{mail.public_id}/retry").status_code == 403
    mail.refresh_from_db()
    assert mail.status == OutgoingMail.Status.FAILED

"""`Idempotency-Key` on API writes: a retried request answers the first answer and writes nothing.

Above the floors: it drives the desk API (floor 4) through core's middleware (floor 0).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connections
from django.test import Client

from serviceloop.accounts.testing import api_client_for
from serviceloop.core.models import IdempotencyKey
from serviceloop.desk.models import Message, Ticket


def _open(client: Client, service: Any, *, key: str | None, subject: str = "VPN drops") -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    body = {"service": service.public_id, "subject": subject, "body": "Every ten minutes."}
    return client.post("/api/desk/tickets", body, content_type="application/json", **headers)


def test_a_retried_create_answers_the_first_answer_and_creates_one_ticket(
    carol: Any, carol_person: Any, service: Any
) -> None:
    client = api_client_for(carol)
    first = _open(client, service, key="create-1")
    again = _open(client, service, key="create-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Ticket.objects.count() == 1


def test_without_a_key_each_request_is_a_new_write(carol: Any, carol_person: Any, service: Any) -> None:
    client = api_client_for(carol)
    _open(client, service, key=None)
    _open(client, service, key=None)
    assert Ticket.objects.count() == 2


def test_the_same_key_with_another_body_is_refused(carol: Any, carol_person: Any, service: Any) -> None:
    client = api_client_for(carol)
    _open(client, service, key="create-2")
    other = _open(client, service, key="create-2", subject="Printer on fire")
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert Ticket.objects.count() == 1


def test_keys_are_per_caller(carol: Any, carol_person: Any, service: Any) -> None:
    # One caller's answer is never replayed to another, even with the same key: each API token is a
    # caller of its own (two tokens of Carol's here, so that both may open tickets on her behalf).
    first = _open(api_client_for(carol), service, key="shared")
    second = _open(api_client_for(carol), service, key="shared")
    assert first.status_code == second.status_code == 201
    assert first.json()["public_id"] != second.json()["public_id"]
    assert "Idempotent-Replayed" not in second
    assert Ticket.objects.count() == 2


def test_a_refused_request_is_remembered_too(carol: Any, carol_person: Any, service: Any) -> None:
    client = api_client_for(carol)
    bad = client.post(
        "/api/desk/tickets",
        {"service": service.public_id, "subject": "", "body": "x"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="bad-1",
    )
    again = client.post(
        "/api/desk/tickets",
        {"service": service.public_id, "subject": "", "body": "x"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="bad-1",
    )
    assert bad.status_code == again.status_code == 422
    assert again["Idempotent-Replayed"] == "true"


def test_a_key_that_is_too_long_is_refused_with_a_message(carol: Any, carol_person: Any, service: Any) -> None:
    response = _open(api_client_for(carol), service, key="k" * 256)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["message"]
    assert Ticket.objects.count() == 0


def test_a_key_is_forgotten_after_the_retention(carol: Any, carol_person: Any, service: Any, travel: Any) -> None:
    client = api_client_for(carol)
    _open(client, service, key="old")
    travel.by(hours=25)
    again = _open(client, service, key="old")
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert Ticket.objects.count() == 2


def test_a_retried_reply_posts_one_message(carol: Any, carol_person: Any, service: Any) -> None:
    client = api_client_for(carol)
    ticket = _open(client, service, key=None).json()["public_id"]
    for _ in range(3):
        response = client.post(
            f"/api/desk/tickets/{ticket}/messages",
            {"body": "Still broken."},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="reply-1",
        )
        assert response.status_code in (200, 201), response.content
    assert Message.objects.filter(ticket__public_id=ticket, body="Still broken.").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_copies_sent_at_once_write_once(carol: Any, carol_person: Any, service: Any) -> None:
    client = api_client_for(carol)
    barrier = threading.Barrier(2)
    answers: list[Any] = []

    def send() -> None:
        barrier.wait()
        try:
            answers.append(_open(client, service, key="race-1"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert Ticket.objects.count() == 1
    assert IdempotencyKey.objects.filter(key="race-1").count() == 1

"""Bad API tokens lock the address that sends them out for a while (429 with Retry-After)."""

from __future__ import annotations

from typing import Any

from django.test import Client, override_settings

from serviceloop.accounts.services import api_token_create

ME = "/api/accounts/me"


def _call(token: str, address: str = "203.0.113.9") -> Any:
    return Client(REMOTE_ADDR=address).get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")


@override_settings(SERVICELOOP_RATE_API_TOKEN_FAILURES_IP="30/5m")
def test_thirty_bad_tokens_lock_the_address_and_a_good_token_waits_too(carol: Any, travel: Any) -> None:
    good = api_token_create(user=carol, name="script").secret
    answers = [_call(f"sl_deadbeef_guess{n}").status_code for n in range(30)]
    assert answers == [401] * 29 + [429]
    refused = _call(good)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "300"
    assert refused.json() == {
        "code": "rate_limited",
        "message": "Too many bad API tokens from this address; try again in 5 minutes.",
    }
    assert _call(good, address="198.51.100.1").status_code == 200
    travel.by(minutes=5)
    assert _call(good).status_code == 200


@override_settings(SERVICELOOP_RATE_API_TOKEN_FAILURES_IP="30/5m")
def test_good_tokens_do_not_count(carol: Any) -> None:
    good = api_token_create(user=carol, name="script").secret
    assert all(_call(good).status_code == 200 for _ in range(40))


def test_the_api_document_declares_429_with_retry_after(db: Any) -> None:
    document = Client().get("/api/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            limited = operation.get("security") or path.endswith(("/ingest", "/ingest/batch", "/posts/webhook"))
            if limited:
                answer = operation["responses"].get("429")
                assert answer is not None, (path, method)
                assert "Retry-After" in answer["headers"], (path, method)

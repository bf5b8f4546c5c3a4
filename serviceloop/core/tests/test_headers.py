"""Response headers every page gets."""

from __future__ import annotations

from typing import Any

from django.test import Client


def test_pages_for_a_signed_in_person_are_not_cached(alex: Any) -> None:
    client = Client()
    client.force_login(alex)
    for path in ("/", "/desk/queue/", "/api/desk/tickets"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"], path


def test_public_answers_to_anonymous_visitors_are_left_alone(db: Any) -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")

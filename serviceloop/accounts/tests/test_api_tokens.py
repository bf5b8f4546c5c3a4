from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from serviceloop.accounts.models import ApiToken, hash_token
from serviceloop.accounts.services import api_token_create, api_token_revoke


def test_token_created_in_the_ui_is_shown_once_and_stored_hashed(carol) -> None:
    client = Client()
    client.force_login(carol)
    response = client.post(reverse("accounts:tokens"), {"name": "export script"})
    html = response.content.decode()
    token = ApiToken.objects.get(user=carol)
    secret = html.split('id="new-token">')[1].split("<")[0]
    assert secret.startswith(f"sl_{token.prefix}_")
    assert token.token_hash == hash_token(secret)
    assert secret not in token.token_hash
    assert secret not in client.get(reverse("accounts:tokens")).content.decode()


def test_token_authenticates_api_calls_and_records_last_use(carol) -> None:
    issued = api_token_create(user=carol, name="script")
    response = Client().get("/api/accounts/me", HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    assert response.status_code == 200
    assert response.json()["email"] == carol.email
    issued.token.refresh_from_db()
    assert issued.token.last_used_at is not None


def test_revoked_token_is_refused_with_401(carol) -> None:
    issued = api_token_create(user=carol, name="script")
    api_token_revoke(token=issued.token, by=carol)
    response = Client().get("/api/accounts/me", HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_a_tampered_token_is_refused(carol) -> None:
    issued = api_token_create(user=carol, name="script")
    response = Client().get("/api/accounts/me", HTTP_AUTHORIZATION=f"Bearer {issued.secret[:-2]}xx")
    assert response.status_code == 401


def test_revoking_from_the_page_marks_the_token_revoked(carol) -> None:
    issued = api_token_create(user=carol, name="script")
    client = Client()
    client.force_login(carol)
    client.post(reverse("accounts:token_revoke", args=[issued.token.public_id]))
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is not None


def test_api_token_create_without_a_name_answers_422_with_the_field(carol) -> None:
    client = Client()
    client.force_login(carol)
    response = client.post("/api/accounts/tokens", {"name": "  "}, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["field"] == "name"


def test_api_token_create_with_a_wrong_body_answers_422_with_field_errors(carol) -> None:
    issued = api_token_create(user=carol, name="script")
    response = Client().post(
        "/api/accounts/tokens",
        {"nom": "x"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {issued.secret}",
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "name"


def test_session_api_calls_that_write_need_the_csrf_token(carol) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(carol)
    response = client.post("/api/accounts/tokens", {"name": "x"}, content_type="application/json")
    assert response.status_code in (401, 403)
    assert not ApiToken.objects.filter(user=carol).exists()


def test_a_write_with_a_bad_token_answers_401_not_a_csrf_refusal(db: Any) -> None:
    for headers in ({"HTTP_AUTHORIZATION": "Bearer not-a-token"}, {}):
        client = Client(enforce_csrf_checks=True)
        client.cookies["sessionid"] = "expired-session"  # a browser's stale cookie beside the token
        response = client.post("/api/desk/tickets", {}, content_type="application/json", **headers)
        assert response.status_code == 401, response.content
        assert response.json()["code"] == "unauthenticated"


def test_a_session_write_without_the_csrf_token_is_still_refused(carol: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(carol)
    response = client.post("/api/desk/tickets", {}, content_type="application/json")
    assert response.status_code == 403

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from serviceloop.accounts.models import ApiToken, User, hash_token
from serviceloop.accounts.services import api_token_create, api_token_revoke
from serviceloop.accounts.testing import PASSWORD
from serviceloop.core import clock
from serviceloop.core.models import Event


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
    assert response.json()["code"] == "token_revoked"
    assert "revoked" in response.json()["message"]


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
    client = Client()
    client.force_login(carol)
    response = client.post("/api/accounts/tokens", {"nom": "x"}, content_type="application/json")
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


# Tokens are made from a signed-in session only, never by another token.


def _session(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _me(secret: str) -> Any:
    return Client().get("/api/accounts/me", HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_a_token_cannot_create_a_token(carol) -> None:
    issued = api_token_create(user=carol, name="script")
    response = Client().post(
        "/api/accounts/tokens",
        {"name": "child"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {issued.secret}",
    )
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "token_cannot_create_tokens"
    assert "signed in" in response.json()["message"]
    assert list(ApiToken.objects.filter(user=carol).values_list("name", flat=True)) == ["script"]


def test_a_signed_in_session_creates_a_token_through_the_api_with_its_expiry(carol) -> None:
    response = _session(carol).post("/api/accounts/tokens", {"name": "ci", "days": 30}, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    token = ApiToken.objects.get(public_id=body["public_id"])
    assert abs((token.expires_at - clock.now()) - timedelta(days=30)) < timedelta(minutes=1)
    assert body["expires_at"] is not None and body["status"] == "active"
    assert _me(body["token"]).status_code == 200


def test_a_token_with_an_expiry_instant_keeps_it(carol) -> None:
    when = (clock.now() + timedelta(days=10)).replace(microsecond=0)
    response = _session(carol).post(
        "/api/accounts/tokens", {"name": "ci", "expires_at": when.isoformat()}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert ApiToken.objects.get(user=carol).expires_at == when


def test_a_token_without_a_chosen_expiry_lives_the_longest_allowed(carol, settings) -> None:
    settings.SERVICELOOP_API_TOKEN_MAX_DAYS = 90
    token = api_token_create(user=carol, name="default").token
    assert abs((token.expires_at - clock.now()) - timedelta(days=90)) < timedelta(minutes=1)
    settings.SERVICELOOP_API_TOKEN_MAX_DAYS = 0
    assert api_token_create(user=carol, name="forever").token.expires_at is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"days": 0}, "days"),
        ({"days": 366}, "days"),
        ({"days": True}, "days"),
        ({"days": "ten"}, "days"),
        ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"expires_at": "2027-01-01T00:00:00"}, "expires_at"),
        ({"expires_at": "2999-01-01T00:00:00Z"}, "expires_at"),
        ({"expires_at": "0001-01-01T00:00:00+14:00"}, "expires_at"),
        ({"expires_at": "not a date"}, "expires_at"),
        ({"days": 5, "expires_at": "2027-01-01T00:00:00Z"}, "expires_at"),
    ],
)
def test_a_bad_expiry_answers_422_naming_the_field(carol, body, field) -> None:
    response = _session(carol).post("/api/accounts/tokens", {"name": "ci", **body}, content_type="application/json")
    assert response.status_code == 422, response.content
    answer = response.json()
    named = answer.get("field") or answer["errors"][0]["field"]
    assert named == field, answer
    assert not ApiToken.objects.filter(user=carol).exists()


def test_an_expired_token_answers_401_saying_it_expired(carol, travel) -> None:
    issued = api_token_create(user=carol, name="script", days=1)
    assert _me(issued.secret).status_code == 200
    travel.by(days=1, minutes=1)
    response = _me(issued.secret)
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"
    assert "expired" in response.json()["message"]


def test_the_token_page_offers_an_expiry_and_shows_it(carol) -> None:
    client = _session(carol)
    response = client.post(reverse("accounts:tokens"), {"name": "export", "days": "7"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=carol)
    assert abs((token.expires_at - clock.now()) - timedelta(days=7)) < timedelta(minutes=1)
    html = client.get(reverse("accounts:tokens")).content.decode()
    assert "Expires" in html and timezone.localtime(token.expires_at).strftime("%-d %b %Y") in html


def test_the_token_page_refuses_a_too_long_expiry_next_to_the_field(carol) -> None:
    response = _session(carol).post(reverse("accounts:tokens"), {"name": "export", "days": "9999"})
    assert response.status_code == 200
    assert "days" in response.context["form"].errors
    assert not ApiToken.objects.filter(user=carol).exists()


# A password change, by any path, and a deactivated login revoke every token of the user.


def test_changing_ones_password_revokes_ones_tokens(carol) -> None:
    issued = api_token_create(user=carol, name="script")
    response = _session(carol).post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "fresh-and-long-secret-7",
            "new_password2": "fresh-and-long-secret-7",
        },
    )
    assert response.status_code == 302
    issued.token.refresh_from_db()
    assert issued.token.revoked_because == ApiToken.RevokedBecause.PASSWORD_CHANGED
    answer = _me(issued.secret)
    assert answer.status_code == 401
    assert "password changed" in answer.json()["message"]


def test_a_password_reset_revokes_the_users_tokens(carol) -> None:
    issued = api_token_create(user=carol, name="script")
    client = Client()
    uid = urlsafe_base64_encode(force_bytes(carol.pk))
    link = reverse("accounts:password_reset_confirm", args=[uid, default_token_generator.make_token(carol)])
    page = client.get(link, follow=True)
    done = client.post(
        page.redirect_chain[-1][0],
        {"new_password1": "fresh-and-long-secret-7", "new_password2": "fresh-and-long-secret-7"},
    )
    assert done.status_code == 302
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is not None
    assert _me(issued.secret).status_code == 401


def test_an_administrator_setting_a_password_in_the_admin_revokes_the_tokens(ada, carol) -> None:
    issued = api_token_create(user=carol, name="script")
    response = _session(ada).post(
        reverse("admin:auth_user_password_change", args=[carol.pk]),
        {"password1": "fresh-and-long-secret-7", "password2": "fresh-and-long-secret-7", "usable_password": "true"},
    )
    assert response.status_code == 302, response.content[:2000]
    issued.token.refresh_from_db()
    assert issued.token.revoked_because == ApiToken.RevokedBecause.PASSWORD_CHANGED
    event = Event.objects.get(name="user.password_changed")
    assert (event.subject_id, event.actor_id, event.data["via"]) == (carol.pk, ada.pk, "admin")
    assert Event.objects.filter(name="api_token.revoked", subject_id=issued.token.pk, actor_id=ada.pk).exists()


def test_a_password_set_outside_the_services_still_stops_the_tokens(carol) -> None:
    # As `manage.py changepassword` or a shell script does: the row changes, no service runs.
    issued = api_token_create(user=carol, name="script")
    user = User.objects.get(pk=carol.pk)
    user.set_password("fresh-and-long-secret-7")
    user.save()
    response = _me(issued.secret)
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"
    issued.token.refresh_from_db()
    assert issued.token.revoked_because == ApiToken.RevokedBecause.PASSWORD_CHANGED


def test_deactivating_a_login_in_the_admin_revokes_its_tokens_for_good(ada, carol) -> None:
    issued = api_token_create(user=carol, name="script")
    client = _session(ada)
    url = reverse("admin:accounts_user_change", args=[carol.pk])
    form = client.get(url).context["adminform"].form
    data = {
        k: v for k, v in form.initial.items() if v is not None and k not in ("groups", "user_permissions", "password")
    }
    data.update({"date_joined_0": "2026-01-01", "date_joined_1": "09:00:00", "organisation": carol.organisation_id})
    data.pop("is_active")  # an unticked checkbox
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    issued.token.refresh_from_db()
    assert issued.token.revoked_because == ApiToken.RevokedBecause.DEACTIVATED
    assert Event.objects.filter(name="user.deactivated", subject_id=carol.pk, actor_id=ada.pk).exists()
    User.objects.filter(pk=carol.pk).update(is_active=True)
    assert _me(issued.secret).status_code == 401


def test_a_login_switched_off_outside_the_admin_cannot_use_its_token(carol) -> None:
    issued = api_token_create(user=carol, name="script")
    User.objects.filter(pk=carol.pk).update(is_active=False)
    assert _me(issued.secret).status_code == 401
    issued.token.refresh_from_db()
    assert issued.token.revoked_because == ApiToken.RevokedBecause.DEACTIVATED


# Administrators see every user's active tokens and may revoke them.


def test_administrators_list_the_active_tokens_of_every_user(ada, carol, bob, travel) -> None:
    kept = api_token_create(user=carol, name="export", days=30)
    api_token_revoke(token=api_token_create(user=carol, name="old").token, by=carol)
    api_token_create(user=bob, name="short", days=1)
    travel.by(days=2)
    response = _session(ada).get("/api/accounts/tokens/active")
    assert response.status_code == 200
    [row] = response.json()["items"]
    assert row["public_id"] == kept.token.public_id
    assert (row["user"], row["user_email"], row["name"]) == (carol.public_id, carol.email, "export")
    assert {"created_at", "last_used_at", "expires_at", "prefix"} <= row.keys()
    assert kept.secret not in response.content.decode()


def test_the_active_tokens_list_narrows_to_one_user(ada, carol, bob) -> None:
    api_token_create(user=carol, name="carol's")
    api_token_create(user=bob, name="bob's")
    client = _session(ada)
    response = client.get(f"/api/accounts/tokens/active?user={bob.public_id}")
    assert [row["name"] for row in response.json()["items"]] == ["bob's"]
    assert client.get("/api/accounts/tokens/active?user=nobody").status_code == 404


@pytest.mark.parametrize("who", ["sam", "alex", "carol"])
def test_only_administrators_see_other_peoples_tokens(request, who) -> None:
    viewer = request.getfixturevalue(who)
    api_token_create(user=viewer, name="mine")
    client = _session(viewer)
    assert client.get("/api/accounts/tokens/active").status_code == 403
    assert client.get(reverse("accounts:tokens_active")).status_code == 403


def test_an_administrator_revokes_a_users_token_from_the_page(ada, carol) -> None:
    issued = api_token_create(user=carol, name="carol-exporter")
    client = _session(ada)
    page = client.get(reverse("accounts:tokens_active")).content.decode()
    assert "carol-exporter" in page and carol.email in page
    response = client.post(reverse("accounts:token_revoke", args=[issued.token.public_id]))
    assert response["Location"] == reverse("accounts:tokens_active")
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is not None
    assert Event.objects.filter(name="api_token.revoked", subject_id=issued.token.pk, actor_id=ada.pk).exists()
    assert f"sl_{issued.token.prefix}_" not in client.get(reverse("accounts:tokens_active")).content.decode()


def test_a_user_cannot_revoke_another_users_token(carol, bob) -> None:
    issued = api_token_create(user=bob, name="bob's")
    assert _session(carol).post(f"/api/accounts/tokens/{issued.token.public_id}/revoke").status_code == 404
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is None


def test_a_password_hashed_anew_at_sign_in_keeps_the_tokens(carol, settings: Any) -> None:
    """An upgrade that strengthens the hasher re-hashes the same password at the next sign-in: that
    is no change of password, and must not revoke the user's tokens."""
    from serviceloop.accounts.testing import PASSWORD

    issued = api_token_create(user=carol, name="script")
    old_hash = User.objects.get(pk=carol.pk).password
    assert old_hash.startswith("md5$")
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    signed_in = Client().post(reverse("accounts:login"), {"username": carol.email, "password": PASSWORD})
    assert signed_in.status_code == 302
    assert User.objects.get(pk=carol.pk).password.startswith("pbkdf2_sha256$")  # re-hashed
    assert _me(issued.secret).status_code == 200

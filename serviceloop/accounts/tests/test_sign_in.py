from __future__ import annotations

from django.test import Client
from django.urls import reverse

from serviceloop.accounts.testing import PASSWORD


def test_staff_sign_in_with_the_right_password_lands_on_the_start_page(alex) -> None:
    client = Client()
    response = client.post(reverse("accounts:login"), {"username": alex.email, "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "Alex Agent" in response.content.decode()


def test_sign_in_is_case_insensitive_on_the_email(alex) -> None:
    response = Client().post(reverse("accounts:login"), {"username": alex.email.upper(), "password": PASSWORD})
    assert response.status_code == 302


def test_wrong_password_is_refused_with_a_message(alex) -> None:
    response = Client().post(reverse("accounts:login"), {"username": alex.email, "password": "nope"})
    assert response.status_code == 422
    assert "do not match an active account" in response.content.decode()
    assert "_auth_user_id" not in Client().session


def test_deactivated_user_cannot_sign_in(alex) -> None:
    alex.is_active = False
    alex.save()
    response = Client().post(reverse("accounts:login"), {"username": alex.email, "password": PASSWORD})
    assert response.status_code == 422
    assert "do not match an active account" in response.content.decode()


def test_a_nul_or_an_endless_email_is_a_form_error_not_a_crash(db) -> None:
    # A NUL is refused at the edge (400) before any form sees it; an endless address by the form (422).
    nul = Client().post(reverse("accounts:login"), {"username": "carol\x00@acme.example", "password": "x"})
    assert nul.status_code == 400
    endless = Client().post(reverse("accounts:login"), {"username": "c" * 10_000 + "@acme.example", "password": "x"})
    assert endless.status_code == 422
    assert Client().post(reverse("accounts:password_reset"), {"email": "c" * 10_000 + "@a.example"}).status_code == 422
    assert Client().post(reverse("accounts:password_reset"), {"email": "carol\x00@acme.example"}).status_code == 400


def test_sign_out_ends_the_session(alex) -> None:
    client = Client()
    client.force_login(alex)
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("home")).status_code == 302


def test_password_change_needs_the_old_password(alex) -> None:
    client = Client()
    client.force_login(alex)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": "wrong",
            "new_password1": "a-much-better-secret-42",
            "new_password2": "a-much-better-secret-42",
        },
    )
    assert response.status_code == 200
    alex.refresh_from_db()
    assert alex.check_password(PASSWORD)


def test_password_change_sets_the_new_password(alex) -> None:
    client = Client()
    client.force_login(alex)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-better-secret-42",
            "new_password2": "a-much-better-secret-42",
        },
    )
    assert response.status_code == 302
    alex.refresh_from_db()
    assert alex.check_password("a-much-better-secret-42")

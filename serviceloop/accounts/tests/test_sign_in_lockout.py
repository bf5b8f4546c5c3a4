"""Sign-in lockouts (accounts.sign_in): repeated failures lock an account and an address for a while."""

from __future__ import annotations

from typing import Any

from django.test import Client, override_settings
from django.urls import reverse

from serviceloop.accounts.testing import PASSWORD
from serviceloop.core.models import RateLimitCounter

LOGIN = reverse("accounts:login")
REALISTIC = {
    "SERVICELOOP_RATE_SIGN_IN_ACCOUNT": "5/15m",
    "SERVICELOOP_RATE_SIGN_IN_ACCOUNT_ALL": "50/1h",
    "SERVICELOOP_RATE_SIGN_IN_IP": "30/15m",
}


def _sign_in(client: Client, email: str, password: str) -> Any:
    return client.post(LOGIN, {"username": email, "password": password})


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@override_settings(**REALISTIC)
def test_five_wrong_passwords_lock_the_account_and_the_right_one_is_refused_too(alex: Any) -> None:
    client = Client()
    answers = [_sign_in(client, alex.email, f"guess-{n}") for n in range(5)]
    assert [answer.status_code for answer in answers] == [422, 422, 422, 422, 429]
    assert answers[-1]["Retry-After"] == "900"
    assert "Too many failed sign-ins" in answers[-1].content.decode()
    right = _sign_in(client, alex.email, PASSWORD)
    assert right.status_code == 429
    assert int(right["Retry-After"]) <= 900
    assert not _signed_in(client)


@override_settings(**REALISTIC)
def test_the_right_password_works_again_once_the_cool_off_has_passed(alex: Any, travel: Any) -> None:
    client = Client()
    for n in range(5):
        _sign_in(client, alex.email, f"guess-{n}")
    travel.by(minutes=14, seconds=59)
    assert _sign_in(client, alex.email, PASSWORD).status_code == 429
    travel.by(seconds=1)
    assert _sign_in(client, alex.email, PASSWORD).status_code == 302
    assert _signed_in(client)


@override_settings(**REALISTIC)
def test_a_successful_sign_in_clears_the_accounts_failures(alex: Any) -> None:
    for n in range(4):
        _sign_in(Client(), alex.email, f"guess-{n}")
    assert _sign_in(Client(), alex.email, PASSWORD).status_code == 302
    answers = [_sign_in(Client(), alex.email, f"again-{n}").status_code for n in range(4)]
    assert answers == [422, 422, 422, 422]


@override_settings(**REALISTIC)
def test_failures_are_counted_across_clients_and_case_of_the_email(alex: Any) -> None:
    # Two browsers on one address (and, in production, two web processes) share one count: a row.
    first, second = Client(REMOTE_ADDR="198.51.100.1"), Client(REMOTE_ADDR="198.51.100.1")
    for n in range(2):
        _sign_in(first, alex.email, f"guess-{n}")
        _sign_in(second, alex.email.upper(), f"other-{n}")
    assert RateLimitCounter.objects.get(rule="sign_in_account").hits == 4
    assert _sign_in(first, alex.email, "last-guess").status_code == 429
    assert _sign_in(second, alex.email, PASSWORD).status_code == 429


@override_settings(**REALISTIC)
def test_a_stranger_guessing_cannot_lock_the_owner_out_from_elsewhere(alex: Any) -> None:
    stranger = Client(REMOTE_ADDR="203.0.113.66")
    assert [_sign_in(stranger, alex.email, f"guess-{n}").status_code for n in range(5)][-1] == 429
    assert _sign_in(stranger, alex.email, PASSWORD).status_code == 429
    owner = Client(REMOTE_ADDR="198.51.100.20")
    assert _sign_in(owner, alex.email, PASSWORD).status_code == 302


@override_settings(**{**REALISTIC, "SERVICELOOP_RATE_SIGN_IN_ACCOUNT_ALL": "8/1h"})
def test_guessing_one_account_from_many_addresses_locks_it_everywhere(alex: Any) -> None:
    answers = [_sign_in(Client(REMOTE_ADDR=f"203.0.113.{n}"), alex.email, f"guess-{n}").status_code for n in range(8)]
    assert answers == [422] * 7 + [429]
    assert _sign_in(Client(REMOTE_ADDR="198.51.100.20"), alex.email, PASSWORD).status_code == 429


@override_settings(**REALISTIC)
def test_an_unknown_email_is_locked_out_the_same_way(db: Any) -> None:
    answers = [_sign_in(Client(), "nobody@nowhere.example", f"guess-{n}").status_code for n in range(6)]
    assert answers == [422, 422, 422, 422, 429, 429]


@override_settings(**REALISTIC)
def test_one_address_guessing_many_accounts_is_locked_out_but_others_are_not(alex: Any, sam: Any) -> None:
    guesser = Client(REMOTE_ADDR="203.0.113.9")
    answers = [_sign_in(guesser, f"user{n}@acme.example", "password1").status_code for n in range(30)]
    assert answers[:29] == [422] * 29 and answers[29] == 429
    assert _sign_in(guesser, sam.email, PASSWORD).status_code == 429
    assert _sign_in(Client(REMOTE_ADDR="198.51.100.1"), alex.email, PASSWORD).status_code == 302


@override_settings(**REALISTIC)
def test_the_admin_sign_in_refuses_a_locked_account(ada: Any) -> None:
    for n in range(5):
        _sign_in(Client(), ada.email, f"guess-{n}")
    client = Client()
    response = client.post(reverse("admin:login"), {"username": ada.email, "password": PASSWORD})
    assert response.status_code == 200  # the admin's own form error
    assert not _signed_in(client)

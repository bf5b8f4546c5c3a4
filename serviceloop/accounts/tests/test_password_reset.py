"""Password reset by email: the mail goes through a real Celery worker to a real SMTP server."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from serviceloop.accounts.models import User
from serviceloop.accounts.testing import make_user


def _reset_link(message) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", body)
    assert match, body
    return match.group(1)


@pytest.mark.worker
def test_reset_mail_is_delivered_by_the_worker_and_the_link_sets_a_new_password(celery_worker, smtp_server) -> None:
    user = make_user("dana@provider.example", User.Role.AGENT)
    client = Client()
    response = client.post(reverse("accounts:password_reset"), {"email": "dana@provider.example"})
    assert response.status_code == 302

    [message] = smtp_server.wait_for(1, timeout=30)
    assert message["To"] == "dana@provider.example"
    assert message["Subject"] == "Reset your serviceloop password"
    assert message["X-Serviceloop-Loop"] == "1"

    page = client.get(_reset_link(message), follow=True)
    assert page.status_code == 200
    confirm_url = page.redirect_chain[-1][0]
    done = client.post(
        confirm_url, {"new_password1": "fresh-and-long-secret-7", "new_password2": "fresh-and-long-secret-7"}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("fresh-and-long-secret-7")


def test_reset_for_an_unknown_address_sends_nothing_and_says_the_same(
    smtp_server, db, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = Client().post(reverse("accounts:password_reset"), {"email": "nobody@nowhere.example"}, follow=True)
    assert callbacks == []
    assert "If an account uses that address" in response.content.decode()
    assert smtp_server.messages == []


def test_a_reset_link_works_only_once(smtp_server, db, django_capture_on_commit_callbacks) -> None:
    make_user("erin@provider.example", User.Role.AGENT)
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password_reset"), {"email": "erin@provider.example"})
    [message] = smtp_server.wait_for(1)
    link = _reset_link(message)
    page = client.get(link, follow=True)
    confirm_url = page.redirect_chain[-1][0]
    client.post(confirm_url, {"new_password1": "fresh-and-long-secret-7", "new_password2": "fresh-and-long-secret-7"})
    again = Client().get(link, follow=True)
    assert "no longer works" in again.content.decode()

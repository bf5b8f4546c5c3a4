"""`make run` loads the whole demo once; every login it prints signs in with the demo password."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from serviceloop.accounts.demo import demo_logins
from serviceloop.core.demo import DEMO_PASSWORD
from serviceloop.demo import demo_is_loaded, load_demo


def test_the_whole_demo_loads_and_every_printed_login_signs_in(db: Any, settings: Any, capsys: Any) -> None:
    from serviceloop.accounts.models import User
    from serviceloop.demo import print_logins

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    assert not demo_is_loaded()
    ctx = load_demo(seed=42)
    assert demo_is_loaded()
    assert len(ctx.objects["services"]) >= 6
    assert len(ctx.objects["organisations"]) >= 10
    assert len(ctx.objects["people"]) >= 100
    logins = demo_logins()
    roles = {role.split(" · ")[0] for role, _ in logins}
    assert {"Administrator", "Service manager", "Agent", "customer"} <= roles
    for role, email in logins:
        client = Client()
        response = client.post(reverse("accounts:login"), {"username": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, f"{role} {email} could not sign in"
        assert client.get(reverse("home"), follow=True).status_code == 200
    # `make run` prints every login of the demo, the customers with their organisation.
    print_logins()
    printed = capsys.readouterr().out
    emails = list(User.objects.filter(is_active=True).values_list("email", flat=True))
    assert len(emails) >= 18
    assert not [email for email in emails if email not in printed], printed
    assert "customer · Acme Logistics" in printed
    # Each printed customer can receive a survey today: the flagship loop is not silent for them.
    from datetime import timedelta

    from django.utils import timezone

    from serviceloop.feedback.models import Invitation
    from serviceloop.feedback.throttle import TRANSACTIONAL, PastInvitation, Policy, decide, lookback_days

    policy, now = Policy(), timezone.now()
    for user in User.objects.filter(role=User.Role.CUSTOMER):
        recent = [
            PastInvitation(row.kind, row.sent_at)
            for row in Invitation.objects.filter(
                person__user=user, sent_at__gt=now - timedelta(days=lookback_days(policy))
            )
        ]
        assert decide(kind=TRANSACTIONAL, now=now, recent=recent, policy=policy).allowed, user.email


def test_the_start_says_where_mail_goes(smtp_server: Any, settings: Any) -> None:
    from serviceloop.core.mail import delivery_summary
    from serviceloop.core.testing import free_port

    assert f"SMTP server at 127.0.0.1:{smtp_server.port}" in delivery_summary()
    assert "does not answer" not in delivery_summary()
    settings.EMAIL_PORT = free_port()
    silent = delivery_summary()
    assert "does not answer" in silent and "waits in the outbox" in silent
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    assert "printed by the worker" in delivery_summary()

"""`make run` loads the whole demo once; every login it prints signs in with the demo password."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from serviceloop.accounts.demo import demo_logins
from serviceloop.core.demo import DEMO_PASSWORD
from serviceloop.demo import demo_is_loaded, load_demo


def test_the_whole_demo_loads_and_every_printed_login_signs_in(db: Any, settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    assert not demo_is_loaded()
    ctx = load_demo(seed=42)
    assert demo_is_loaded()
    assert len(ctx.objects["services"]) >= 6
    assert len(ctx.objects["organisations"]) >= 10
    assert len(ctx.objects["people"]) >= 100
    logins = demo_logins()
    roles = {role.split(" ")[0] for role, _ in logins}
    assert {"administrator", "service_manager", "agent", "customer"} <= roles
    for role, email in logins:
        client = Client()
        response = client.post(reverse("accounts:login"), {"username": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, f"{role} {email} could not sign in"
        assert client.get(reverse("home"), follow=True).status_code == 200

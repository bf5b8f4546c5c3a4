"""Account writes are in the audit trail: who acted, on which row, never a secret."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client
from django.urls import reverse

from serviceloop.accounts.models import User
from serviceloop.accounts.services import api_token_create, api_token_revoke
from serviceloop.accounts.testing import PASSWORD, make_user
from serviceloop.core.models import Event


def test_creating_and_revoking_a_token_is_recorded_without_its_secret(alex: User) -> None:
    issued = api_token_create(user=alex, name="monitoring export")
    api_token_revoke(token=issued.token, by=alex)
    created = Event.objects.get(name="api_token.created")
    assert (created.subject_type, created.subject_id, created.actor_id) == (
        "accounts.apitoken",
        issued.token.pk,
        alex.pk,
    )
    assert Event.objects.filter(name="api_token.revoked", subject_id=issued.token.pk, actor_id=alex.pk).exists()
    recorded = json.dumps(list(Event.objects.values("data", "subject_label", "actor_label")))
    assert issued.secret not in recorded
    assert issued.token.token_hash not in recorded


def test_a_new_login_is_recorded_with_its_role(db: Any) -> None:
    user = make_user("dana@provider.example", User.Role.AGENT)
    event = Event.objects.get(name="user.created")
    assert (event.subject_id, event.data) == (user.pk, {"user_id": user.pk, "role": "agent"})


def test_changing_ones_password_is_recorded_by_its_owner(alex: User) -> None:
    client = Client()
    client.force_login(alex)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "fresh-and-long-secret-7",
            "new_password2": "fresh-and-long-secret-7",
        },
    )
    assert response.status_code == 302
    event = Event.objects.get(name="user.password_changed")
    assert (event.subject_id, event.actor_id, event.data["via"]) == (alex.pk, alex.pk, "change")
    assert "fresh-and-long-secret-7" not in json.dumps(event.data)


def test_asking_for_a_reset_link_is_recorded_against_the_login(alex: User) -> None:
    response = Client().post(reverse("accounts:password_reset"), {"email": alex.email})
    assert response.status_code == 302
    event = Event.objects.get(name="user.password_reset_requested")
    assert (event.subject_id, event.actor_id) == (alex.pk, None)


def test_an_administrator_changing_a_role_in_the_admin_is_recorded(ada: User, alex: User) -> None:
    client = Client()
    client.force_login(ada)
    url = reverse("admin:accounts_user_change", args=[alex.pk])
    form = client.get(url).context["adminform"].form
    data = {
        k: v for k, v in form.initial.items() if v is not None and k not in ("groups", "user_permissions", "password")
    }
    data.update({"role": User.Role.SERVICE_MANAGER, "date_joined_0": "2026-01-01", "date_joined_1": "09:00:00"})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    event = Event.objects.get(name="user.role_changed")
    assert (event.subject_id, event.actor_id) == (alex.pk, ada.pk)
    assert event.data == {"user_id": alex.pk, "role": "service_manager", "previous": "agent"}

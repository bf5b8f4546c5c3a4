"""The main navigation shows each audience its pages, and every entry opens for the one who sees it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _nav(user: Any) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    html = client.get("/", follow=True).content.decode()
    nav = html.split('<nav class="mainnav"')[1].split("</nav>")[0]
    return {label: href for href, label in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)}


def test_administrators_reach_operations_and_the_admin(ada: Any) -> None:
    nav = _nav(ada)
    assert nav.get("Operations") == "/core/operations/"
    assert nav.get("Admin") == "/admin/"
    client = Client()
    client.force_login(ada)
    assert "Site administration" in client.get("/admin/").content.decode()


@pytest.mark.parametrize("name", ["sam", "alex", "carol"])
def test_others_see_no_operator_links_and_every_entry_opens(name: str, request: Any) -> None:
    user = request.getfixturevalue(name)
    nav = _nav(user)
    assert "Admin" not in nav and "Operations" not in nav
    client = Client()
    client.force_login(user)
    for label, href in nav.items():
        assert client.get(href, follow=True).status_code == 200, label

"""Every page and API operation × every role gets exactly what its app's table says.

Rows live in `serviceloop/<app>/tests/authz.py`; a route without a row fails
`test_every_route_has_a_row`, so no new route escapes the matrix.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from serviceloop.accounts.models import User
from serviceloop.accounts.testing import api_client_for, make_organisation, make_user
from serviceloop.api import api
from serviceloop.core.authz_matrix import ROLES, Endpoint, Page, World

# Admin pages are Django's own (one row checks the admin index); API operations are checked as endpoints.
EXCLUDED_NAMESPACES = ("admin", "api")
EXTRA_PAGE_NAMES = ("admin:index", "api:openapi-json", "api:openapi-view")


def _authz_modules() -> list[Any]:
    modules = []
    for config in apps.get_app_configs():
        if not config.name.startswith("serviceloop."):
            continue
        try:
            modules.append(importlib.import_module(f"{config.name}.tests.authz"))
        except ModuleNotFoundError as error:
            if error.name != f"{config.name}.tests.authz":
                raise
    return modules


MODULES = _authz_modules()
PAGES: list[Page] = [row for module in MODULES for row in getattr(module, "PAGES", [])]
ENDPOINTS: list[Endpoint] = [row for module in MODULES for row in getattr(module, "ENDPOINTS", [])]


def _page_names(patterns: list[Any], namespace: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = (
                f"{namespace}:{pattern.namespace}"
                if namespace and pattern.namespace
                else (pattern.namespace or namespace)
            )
            names |= _page_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names


def _routed_pages() -> set[str]:
    names = _page_names(get_resolver().url_patterns)
    kept = {name for name in names if name.split(":")[0] not in EXCLUDED_NAMESPACES}
    return kept | set(EXTRA_PAGE_NAMES)


def _routed_endpoints() -> set[str]:
    schema = api.get_openapi_schema()
    return {f"{method.upper()} {path}" for path, operations in schema["paths"].items() for method in operations}


def test_every_route_has_a_row() -> None:
    pages = {row.key for row in PAGES}
    endpoints = {row.key for row in ENDPOINTS}
    assert not (_routed_pages() - pages), f"pages without a row in an authz table: {sorted(_routed_pages() - pages)}"
    assert not (_routed_endpoints() - endpoints), (
        f"API operations without a row: {sorted(_routed_endpoints() - endpoints)}"
    )
    assert not (pages - _routed_pages()), f"rows for pages that do not exist: {sorted(pages - _routed_pages())}"
    assert not (endpoints - _routed_endpoints()), (
        f"rows for API operations that do not exist: {sorted(endpoints - _routed_endpoints())}"
    )


def _build_world(role: str) -> World:
    world = World()
    world.org_a = make_organisation("Acme Logistics", domain="acme.example")
    world.org_b = make_organisation("Borealis Health", domain="borealis.example")
    world.users = {
        "customer_a": make_user("carol@acme.example", User.Role.CUSTOMER, organisation=world.org_a),
        "customer_b": make_user("bob@borealis.example", User.Role.CUSTOMER, organisation=world.org_b),
        "agent": make_user("alex@provider.example", User.Role.AGENT),
        "manager": make_user("sam@provider.example", User.Role.SERVICE_MANAGER),
        "admin": make_user("ada@provider.example", User.Role.ADMINISTRATOR),
    }
    world.viewer = world.users.get(role)
    for module in MODULES:
        build = getattr(module, "build", None)
        if build is not None:
            build(world)
    return world


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", PAGES, ids=lambda row: row.key)
def test_page(db: Any, row: Page, role: str) -> None:
    world = _build_world(role)
    client = Client()
    if world.viewer is not None:
        client.force_login(world.viewer)
    url = reverse(row.url_name, kwargs=row.kwargs(world)) + (f"?{row.query}" if row.query else "")
    response = client.generic(
        row.method, url, data=_form(row.data(world)), content_type="application/x-www-form-urlencoded"
    )
    expected = row.expected[role]
    assert response.status_code == expected, (
        f"{row.method} {url} as {role}: {response.status_code}, table says {expected}"
    )
    if expected == 302 and role == "anonymous":
        assert "login" in response["Location"], (
            f"anonymous {url} should be sent to sign in, went to {response['Location']}"
        )


def _form(data: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return urlencode(data, doseq=True)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", ENDPOINTS, ids=lambda row: row.key)
def test_endpoint(db: Any, row: Endpoint, role: str) -> None:
    world = _build_world(role)
    client = api_client_for(world.viewer) if world.viewer is not None else Client()
    path = row.path.format(**row.params(world)) + (f"?{row.query}" if row.query else "")
    body = row.body(world)
    payload = json.dumps(body) if body is not None and row.content_type == "application/json" else body
    response = client.generic(row.method, path, data=payload or "", content_type=row.content_type, **row.extra)
    expected = row.expected[role]
    assert response.status_code == expected, (
        f"{row.method} {path} as {role}: {response.status_code} {response.content[:300]!r}, table says {expected}"
    )
    if response.status_code >= 400 and response.get("Content-Type", "").startswith("application/json"):
        error = response.json()
        assert error.get("code") and error.get("message"), f"error body must be {{code, message}}: {error}"

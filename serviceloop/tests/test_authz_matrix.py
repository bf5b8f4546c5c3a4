"""Every page and API operation × every role gets exactly what its app's table says.

Rows live in `serviceloop/<app>/tests/authz.py`. `test_every_route_has_a_row` walks the URL
resolver: a page route (named or not) or a ninja operation without a row fails it, and so does a
method a view branches on without a row of its own, so no new route or method escapes the matrix.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, path, resolve, reverse
from django.views.decorators.http import require_POST
from django.views.generic.edit import ProcessFormView
from ninja.operation import PathView

from serviceloop.accounts.models import User
from serviceloop.accounts.testing import api_client_for, make_organisation, make_user
from serviceloop.core.authz_matrix import ROLES, SIGN_IN, Answer, Endpoint, Page, Redirect, World

# Django's admin site is its own: one row checks its gate (admin:index); its other pages are behind the same gate.
ADMIN_PREFIX = "admin/"
ADMIN_INDEX = "admin/"
# Methods a page row may be for; HEAD and OPTIONS are answered by Django from GET unless a view says otherwise.
FORM_METHODS = ("GET", "POST")


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


@dataclass(frozen=True)
class Route:
    route: str  # the pattern as the resolver joins it, e.g. "catalogue/services/<str:public_id>/"
    name: str | None  # namespaced URL name, None when unnamed
    callback: Callable[..., Any]


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = (
                f"{namespace}:{pattern.namespace}"
                if namespace and pattern.namespace
                else (pattern.namespace or namespace)
            )
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield Route(prefix + str(pattern.pattern), name, pattern.callback)


def _path_view(callback: Callable[..., Any]) -> PathView | None:
    """The ninja PathView behind an API route (its view is a closure over it), or None for a page."""
    for cell in getattr(callback, "__closure__", None) or ():
        if isinstance(cell.cell_contents, PathView):
            return cell.cell_contents
    return None


def _declared_methods(callback: Callable[..., Any]) -> list[str] | None:
    """The methods of `@require_http_methods` (and require_POST, require_GET, require_safe), if any."""
    view: Any = callback
    while view is not None:
        for cell in getattr(view, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            if isinstance(value, list) and value and all(isinstance(m, str) and m.isupper() for m in value):
                return [m for m in value if m != "OPTIONS"]
        view = getattr(view, "__wrapped__", None)
    return None


def _page_methods(callback: Callable[..., Any]) -> list[str]:
    """The methods a page needs a row for: each method the view serves differently."""
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        methods = [m.upper() for m in view_class.http_method_names if m not in ("head", "options")]
        served = [m for m in methods if hasattr(view_class, m.lower())]
        # A form view's PUT is its POST under another name.
        return [m for m in served if not (m == "PUT" and view_class.put is ProcessFormView.put)]
    declared = _declared_methods(callback)
    if declared is not None:
        # require_safe lists HEAD beside GET; it needs a row only when the view itself tells them apart.
        source = _source(callback)
        return [m for m in declared if m != "HEAD" or '"HEAD"' in source]
    source = _source(callback)
    if "request.method" in source or "request.POST" in source:
        return list(FORM_METHODS)
    return ["GET"]


def _source(callback: Callable[..., Any]) -> str:
    """The view's source and that of the functions of its own module it calls (a view may leave
    the branch on the method to a helper, as the QR pages do)."""
    view = inspect.unwrap(callback)
    view = getattr(view, "func", view)  # functools.partial (ninja's docs views)
    module = inspect.getmodule(view)
    sources: list[str] = []
    todo, seen = [view], set()
    while todo:
        function = todo.pop()
        if function in seen:
            continue
        seen.add(function)
        try:
            source = inspect.getsource(function)
        except (OSError, TypeError):
            continue
        sources.append(source)
        for name in re.findall(r"\b(\w+)\(", source):
            helper = getattr(module, name, None)
            if inspect.isfunction(helper) and helper.__module__ == view.__module__:
                todo.append(inspect.unwrap(helper))
    return "\n".join(sources)


def _routes(patterns: list[Any] | None = None) -> list[Route]:
    seen: dict[str, Route] = {}
    for route in _walk(get_resolver().url_patterns if patterns is None else patterns):
        if route.route.startswith(ADMIN_PREFIX) and route.route != ADMIN_INDEX:
            continue
        # ninja adds one URL pattern per operation of a path; they share one view.
        seen.setdefault(route.route, route)
    return list(seen.values())


def _openapi_path(route: str) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def _routed_pages(patterns: list[Any] | None = None) -> dict[str, Route]:
    """`METHOD name-or-route` of every page route and method that needs a row."""
    keys: dict[str, Route] = {}
    for route in _routes(patterns):
        if _path_view(route.callback) is not None:
            continue
        for method in _page_methods(route.callback):
            keys[f"{method} {route.name or route.route}"] = route
    return keys


def _routed_endpoints(patterns: list[Any] | None = None) -> set[str]:
    keys = set()
    for route in _routes(patterns):
        path_view = _path_view(route.callback)
        if path_view is None:
            continue
        for operation in path_view.operations:
            keys |= {f"{method.upper()} {_openapi_path(route.route)}" for method in operation.methods}
    return keys


def test_every_route_has_a_row() -> None:
    names = [route.name for route in _routes() if route.name and _path_view(route.callback) is None]
    twice = sorted({name for name in names if names.count(name) > 1})
    assert not twice, f"URL names that name two page routes (rows could not tell them apart): {twice}"
    routed_pages = set(_routed_pages())
    routed_endpoints = _routed_endpoints()
    pages = {row.key for row in PAGES}
    endpoints = {row.key for row in ENDPOINTS}
    assert not (routed_pages - pages), f"page routes and methods without a row: {sorted(routed_pages - pages)}"
    assert not (routed_endpoints - endpoints), f"API operations without a row: {sorted(routed_endpoints - endpoints)}"
    assert not (pages - routed_pages), f"rows for pages or methods that do not exist: {sorted(pages - routed_pages)}"
    assert not (endpoints - routed_endpoints), (
        f"rows for API operations that do not exist: {sorted(endpoints - routed_endpoints)}"
    )


def _self_test_form(request: Any) -> Any:
    return request.method == "POST"


@require_POST
def _self_test_action(request: Any) -> Any:
    return None


def test_the_walk_finds_unnamed_routes_and_every_method() -> None:
    # The guard itself, on a URL conf of its own: an unnamed form page needs a GET and a POST row, a
    # require_POST action a POST row, and an API operation outside the OpenAPI document still counts.
    from ninja import NinjaAPI, Router

    router = Router()
    router.add_api_operation("/things/{public_id}", ["GET", "DELETE"], lambda request, public_id: {})
    router.add_api_operation("/hidden", ["POST"], lambda request: {}, include_in_schema=False)
    selftest = NinjaAPI(urls_namespace="authz-selftest")
    selftest.add_router("/things/", router)
    patterns = [
        path("x/<str:key>/", _self_test_form),
        path("y/<str:key>/act/", _self_test_action, name="act"),
        path("selftest-api/", selftest.urls),
    ]
    assert set(_routed_pages(patterns)) == {
        "GET x/<str:key>/",
        "POST x/<str:key>/",
        "POST act",
        # The API's own pages are pages too.
        "GET authz-selftest:api-root",
        "GET authz-selftest:openapi-json",
        "GET authz-selftest:openapi-view",
    }
    assert _routed_endpoints(patterns) == {
        "GET /selftest-api/things/things/{public_id}",
        "DELETE /selftest-api/things/things/{public_id}",
        "POST /selftest-api/things/hidden",
    }
    # Two ninja operations share the URL name event_list; both are found.
    assert {"GET /api/desk/tickets/{public_id}/events", "GET /api/core/events"} <= _routed_endpoints()


def _all_rows() -> list[Page | Endpoint]:
    return [*PAGES, *ENDPOINTS]


def test_every_answer_is_a_status_or_a_named_redirect() -> None:
    known = {route.name for route in _walk(get_resolver().url_patterns) if route.name}
    problems = []
    for row in _all_rows():
        for role, answer in row.expected.items():
            if isinstance(answer, int) and 300 <= answer < 400:
                problems.append(f"{row.key} as {role}: a bare {answer}; say where it sends with to('app:page')")
            if isinstance(answer, Redirect) and answer.to not in known:
                problems.append(f"{row.key} as {role}: {answer} names no page")
        # Django's admin sends signed-in non-administrators to its own sign-in page; that gate is Django's.
        refused_by_sign_in = [role for role in ROLES[1:] if row.expected[role] == SIGN_IN]
        if refused_by_sign_in:
            problems.append(
                f"{row.key}: {refused_by_sign_in} are sent to sign in although signed in; "
                "refuse a signed-in person with 403 or 404"
            )
    assert not problems, "\n".join(problems)


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


def _page_url(row: Page, world: World) -> str:
    kwargs = row.kwargs(world)
    if row.url_name is not None:
        url = reverse(row.url_name, kwargs=kwargs)
    else:
        assert row.route is not None, f"{row.key}: a row names its url_name or its route"
        url = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m.group(1)]), row.route)
    return url + (f"?{row.query}" if row.query else "")


def _assert_answer(response: Any, expected: Answer, asked: str) -> None:
    if not isinstance(expected, Redirect):
        assert response.status_code == expected, f"{response.status_code}, table says {expected}"
        return
    assert response.status_code == 302, f"{response.status_code}, table says {expected}"
    location = urlparse(response["Location"])
    assert not location.netloc, f"sent off-site to {response['Location']}, table says {expected}"
    arrived = resolve(location.path).view_name
    back = parse_qs(location.query).get("next")
    assert arrived == expected.to, f"sent to {arrived} ({response['Location']}), table says {expected}"
    if expected.back:
        assert back == [asked], f"sign-in should bring back to {asked}, next is {back}"
    else:
        assert back is None, f"{response['Location']} carries next: a refusal in the guise of {expected}?"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", PAGES, ids=lambda row: row.key)
def test_page(db: Any, row: Page, role: str) -> None:
    world = _build_world(role)
    client = Client()
    if world.viewer is not None:
        client.force_login(world.viewer)
    url = _page_url(row, world)
    response = client.generic(
        row.method,
        url,
        data=urlencode(row.data(world), doseq=True),
        content_type="application/x-www-form-urlencoded",
    )
    try:
        _assert_answer(response, row.expected[role], url)
    except AssertionError as error:
        raise AssertionError(f"{row.method} {url} as {role}: {error}") from None


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
    try:
        _assert_answer(response, expected, path)
    except AssertionError as error:
        raise AssertionError(f"{row.method} {path} as {role}: {error} {response.content[:300]!r}") from None
    if response.status_code >= 400 and response.get("Content-Type", "").startswith("application/json"):
        error = response.json()
        assert error.get("code") and error.get("message"), f"error body must be {{code, message}}: {error}"

"""The vocabulary of the authorisation matrix test.

Each app lists every page and API operation it adds in `<app>/tests/authz.py`:

    def build(world: World) -> None       # create the app's objects, owned by organisation A
    PAGES = [Page("catalogue:service_list", STAFF_PAGE), ...]
    ENDPOINTS = [Endpoint("GET", "/api/catalogue/services", STAFF_API), ...]

`serviceloop/tests/test_authz_matrix.py` requests each row as every role and compares the answer
with the row. It walks the URL resolver, so a route that no row names fails the test, named or
not (`Page(route=...)` names an unnamed one), and so does every method a view branches on
(`@require_http_methods`, a class-based view's handlers, or `request.method` / `request.POST` in
its body) and every method of every ninja operation.

An answer is a status, or a `Redirect` naming where it sends (a URL name): a bare 302 is refused,
because "302" would read the same for a success (sent to the new object) and a refusal (sent to
sign in). `SIGN_IN` is the refusal of anonymous visitors: the test checks that it sends to the
sign-in page with `next` set to the page asked for, and that no signed-in role gets it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

ROLES = ("anonymous", "customer_a", "customer_b", "agent", "manager", "admin")


@dataclass(frozen=True)
class Redirect:
    """A redirect (302) whose Location resolves to the page named `to`; with `back`, its `next`
    is the page that was asked for (a refusal: sign in first), without it there is no `next`."""

    to: str
    back: bool = False

    def __str__(self) -> str:
        return f"302 → {self.to}" + (" ?next=<this page>" if self.back else "")


Answer = int | Redirect

# The refusal of an anonymous visitor. A signed-in person is never refused this way (403 or 404).
SIGN_IN = Redirect("accounts:login", back=True)


def to(url_name: str) -> Redirect:
    return Redirect(url_name)


class World(SimpleNamespace):
    """Objects the rows refer to: `org_a`, `org_b`, a user per role (`users`), `viewer` (the role under test), and whatever each app's `build` adds."""


def expect(
    *,
    anonymous: Answer,
    customer_a: Answer,
    customer_b: Answer | None = None,
    agent: Answer,
    manager: Answer | None = None,
    admin: Answer | None = None,
) -> dict[str, Answer]:
    """The status each role gets; customer B defaults to customer A, manager and admin to agent."""
    return {
        "anonymous": anonymous,
        "customer_a": customer_a,
        "customer_b": customer_a if customer_b is None else customer_b,
        "agent": agent,
        "manager": agent if manager is None else manager,
        "admin": (agent if manager is None else manager) if admin is None else admin,
    }


# Pages: anonymous visitors are sent to sign in; signed-in people who may not see a page get 403.
STAFF_PAGE = expect(anonymous=SIGN_IN, customer_a=403, agent=200)
MANAGER_PAGE = expect(anonymous=SIGN_IN, customer_a=403, agent=403, manager=200)
ANY_USER_PAGE = expect(anonymous=SIGN_IN, customer_a=200, agent=200)
PUBLIC_PAGE = expect(anonymous=200, customer_a=200, agent=200)
# A page about one object of organisation A: B's customer must not learn it exists.
ORG_A_PAGE = expect(anonymous=SIGN_IN, customer_a=200, customer_b=404, agent=200)


def staff_post(success: str) -> dict[str, Answer]:
    """A form any staff member may send; it redirects to the page named `success`."""
    return expect(anonymous=SIGN_IN, customer_a=403, agent=to(success))


def manager_post(success: str) -> dict[str, Answer]:
    """A form only service managers (and administrators) may send; it redirects to `success`."""
    return expect(anonymous=SIGN_IN, customer_a=403, agent=403, manager=to(success))


# API: anonymous callers get 401.
STAFF_API = expect(anonymous=401, customer_a=403, agent=200)
ANY_USER_API = expect(anonymous=401, customer_a=200, agent=200)
ORG_A_API = expect(anonymous=401, customer_a=200, customer_b=404, agent=200)


@dataclass(frozen=True)
class Page:
    """One page route and method. `url_name` names it; an unnamed route gives its `route` instead
    (the pattern as the resolver shows it, e.g. "feedback/w/<str:key>/")."""

    url_name: str | None
    expected: dict[str, Answer]
    kwargs: Callable[[World], dict[str, Any]] = lambda world: {}
    method: str = "GET"
    data: Callable[[World], dict[str, Any]] = lambda world: {}
    query: str = ""
    route: str | None = None

    @property
    def key(self) -> str:
        return f"{self.method} {self.url_name or self.route}"


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # as in the OpenAPI document, e.g. /api/catalogue/services/{public_id}
    expected: dict[str, Answer]
    params: Callable[[World], dict[str, Any]] = lambda world: {}
    body: Callable[[World], Any] = lambda world: None
    query: str = ""
    content_type: str = "application/json"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

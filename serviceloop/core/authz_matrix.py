"""The vocabulary of the authorisation matrix test.

Each app lists every page and API operation it adds in `<app>/tests/authz.py`:

    def build(world: World) -> None       # create the app's objects, owned by organisation A
    PAGES = [Page("catalogue:service_list", STAFF_PAGE), ...]
    ENDPOINTS = [Endpoint("GET", "/api/catalogue/services", STAFF_API), ...]

`serviceloop/tests/test_authz_matrix.py` requests each row as every role and compares the status
with the row; a route that no row names fails the test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

ROLES = ("anonymous", "customer_a", "customer_b", "agent", "manager", "admin")


class World(SimpleNamespace):
    """Objects the rows refer to: `org_a`, `org_b`, a user per role (`users`), `viewer` (the role under test), and whatever each app's `build` adds."""


def expect(
    *,
    anonymous: int,
    customer_a: int,
    customer_b: int | None = None,
    agent: int,
    manager: int | None = None,
    admin: int | None = None,
) -> dict[str, int]:
    """The status each role gets; customer B defaults to customer A, manager and admin to agent."""
    return {
        "anonymous": anonymous,
        "customer_a": customer_a,
        "customer_b": customer_a if customer_b is None else customer_b,
        "agent": agent,
        "manager": agent if manager is None else manager,
        "admin": (agent if manager is None else manager) if admin is None else admin,
    }


# Pages: anonymous visitors are sent to sign in (302).
STAFF_PAGE = expect(anonymous=302, customer_a=403, agent=200)
MANAGER_PAGE = expect(anonymous=302, customer_a=403, agent=403, manager=200)
ANY_USER_PAGE = expect(anonymous=302, customer_a=200, agent=200)
PUBLIC_PAGE = expect(anonymous=200, customer_a=200, agent=200)
# A page about one object of organisation A: B's customer must not learn it exists.
ORG_A_PAGE = expect(anonymous=302, customer_a=200, customer_b=404, agent=200)
# API: anonymous callers get 401.
STAFF_API = expect(anonymous=401, customer_a=403, agent=200)
ANY_USER_API = expect(anonymous=401, customer_a=200, agent=200)
ORG_A_API = expect(anonymous=401, customer_a=200, customer_b=404, agent=200)


@dataclass(frozen=True)
class Page:
    url_name: str
    expected: dict[str, int]
    kwargs: Callable[[World], dict[str, Any]] = lambda world: {}
    method: str = "GET"
    data: Callable[[World], dict[str, Any]] = lambda world: {}
    query: str = ""

    @property
    def key(self) -> str:
        return self.url_name


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # as in the OpenAPI document, e.g. /api/catalogue/services/{public_id}
    expected: dict[str, int]
    params: Callable[[World], dict[str, Any]] = lambda world: {}
    body: Callable[[World], Any] = lambda world: None
    query: str = ""
    content_type: str = "application/json"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

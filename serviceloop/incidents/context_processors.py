"""`{{ outage_banner }}`: the open incident or maintenance in progress that affects a customer's
organisation, shown on every page for customer users only: one query, made only when a page shows
it, and kept on the request so several renders of one request share it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from serviceloop.incidents import queries_pages as queries


def _banner(request: HttpRequest, user: Any) -> Any:
    if not hasattr(request, "_outage_banner"):
        request._outage_banner = queries.banner_incident(user) or False  # type: ignore[attr-defined]
    return request._outage_banner  # type: ignore[attr-defined]


def outage_banner(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(user, "is_staff_member", False):
        return {"outage_banner": None}
    return {"outage_banner": SimpleLazyObject(lambda: _banner(request, user))}

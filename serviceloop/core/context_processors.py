from __future__ import annotations

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from serviceloop.core.navigation import audiences_of, nav_items


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    audiences = audiences_of(user)
    entries = []
    for item in nav_items():
        if item.audience not in audiences:
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        count = item.count(user) if item.count is not None else 0
        entries.append({"label": item.label, "url": url, "active": request.path.startswith(url), "count": count})
    return {"nav": entries}


def csp_nonce(request: HttpRequest) -> dict[str, object]:
    """`{{ csp_nonce }}`: the nonce an inline <script nonce="…"> needs under the Content-Security-Policy
    (core.middleware.ContentSecurityPolicyMiddleware); prefer a static file."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}

"""Page guards: anonymous visitors sign in (302), customers get 403 on staff pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

View = Callable[..., HttpResponse]


def staff_required(view: View) -> View:
    @login_required
    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not getattr(request.user, "is_staff_member", False):
            raise PermissionDenied("This page is for the provider's staff.")
        return view(request, *args, **kwargs)

    return guarded


def manager_required(view: View) -> View:
    """Administrators and service managers only; checked before any lookup, so it reveals nothing."""

    @login_required
    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not getattr(request.user, "can_manage_services", False):
            raise PermissionDenied("Only administrators and service managers may do this.")
        return view(request, *args, **kwargs)

    return guarded


def form_error(form: Any, error: Any) -> None:
    """Show a domain error next to its field, or above the form when it is about no field."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


def local_next(request: HttpRequest, value: str | None, default: str) -> str:
    """Where to go back to after a form: only a path on this site, never another host (open redirect)."""
    from django.shortcuts import resolve_url
    from django.utils.http import url_has_allowed_host_and_scheme

    candidate = (value or "").strip()
    if (
        candidate.startswith("/")
        and not candidate.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(candidate, allowed_hosts=None, require_https=request.is_secure())
    ):
        return candidate
    return resolve_url(default)


def admin_required(view: View) -> View:
    """Administrators only (the operations page); checked before any lookup, so it reveals nothing."""

    @login_required
    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not getattr(request.user, "is_administrator", False):
            raise PermissionDenied("Only administrators may do this.")
        return view(request, *args, **kwargs)

    return guarded

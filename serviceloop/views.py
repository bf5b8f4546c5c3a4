from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import DisallowedHost, PermissionDenied
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from serviceloop.core.errors import InvalidInput
from serviceloop.experience.portfolio_views import portfolio_page


def home(request: HttpRequest) -> HttpResponse:
    """Anonymous visitors sign in; customers land on their portal, staff (agents too) on the portfolio."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not getattr(user, "is_staff_member", False):
        try:
            return redirect(reverse("desk:portal"))
        except NoReverseMatch:
            pass
    try:
        return portfolio_page(request, xla_states=_xla_states(user))
    except InvalidInput as error:
        return _error(request, 400, error.message)


def _xla_states(user: object) -> dict[int, str]:
    """The worst state of each live service's XLAs the viewer may see, as its label (the portfolio's column)."""
    from serviceloop.catalogue.models import Service
    from serviceloop.experience.models import Xla
    from serviceloop.experience.xla_queries import worst_states

    live = list(Service.objects.filter(lifecycle="live").values_list("pk", flat=True))
    return {pk: Xla.State(state).label for pk, state in worst_states(viewer=user, service_ids=live).items()}


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


# Error pages: a person gets a styled page with a way back; an API client gets JSON like every other
# API error (code and message), never an HTML page.
_ERRORS = {
    400: (
        "bad_request",
        "This request could not be understood",
        "Something in the address or the form was not valid. Go back and try again.",
    ),
    403: (
        "forbidden",
        "You may not open this page",
        "Your sign-in does not give access to this page. If you need it, ask an administrator.",
    ),
    404: ("not_found", "There is nothing here", "The page may have moved, or the link may be mistyped or out of date."),
}


def _error(request: HttpRequest, status: int, reason: str = "") -> HttpResponse:
    code, title, explanation = _ERRORS[status]
    explanation = f"{reason} {explanation}" if reason else explanation
    if request.path.startswith("/api/"):
        return JsonResponse({"code": code, "message": f"{title}: {request.path}"}, status=status)
    referer = request.headers.get("Referer", "")
    try:
        host = request.get_host()
    except DisallowedHost:  # the 400 for a Host we do not serve: offer no way back at all
        host = ""
    back = referer if host and url_has_allowed_host_and_scheme(referer, allowed_hosts={host}) else ""
    context = {"status": status, "title": title, "explanation": explanation, "back": back}
    return render(request, "error.html", context, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    reason = str(exception) if isinstance(exception, PermissionDenied) and exception.args else ""
    return _error(request, 403, reason)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": "server_error", "message": "Something went wrong on our side; it has been logged."}, status=500
        )
    try:
        return render(request, "500.html", {}, status=500)
    except Exception:  # the error page must never raise in turn
        return HttpResponse("<h1>Something went wrong on our side</h1>", status=500)

"""The customers' view of incidents and maintenance in the portal: only their organisation's, and the
public ones on services they consume (queries.portal_incidents); staff are sent to the staff list."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from serviceloop.core.pagination import paginate
from serviceloop.incidents import queries_pages as queries

View = Callable[..., HttpResponse]


def customer_page(view: View) -> View:
    """Portal pages: staff are sent to the staff list of incidents."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request.user, "is_staff_member", False):
            return redirect("incidents:list")
        return view(request, *args, **kwargs)

    return wrapper


@customer_page
def portal(request: HttpRequest) -> HttpResponse:
    page = paginate(request, queries.portal_list(request.user))
    return render(request, "incidents/portal.html", {"page_obj": page})


@customer_page
def portal_incident(request: HttpRequest, public_id: str) -> HttpResponse:
    incident = queries.portal_incident_for(request.user, public_id)
    return render(
        request,
        "incidents/portal_incident.html",
        {
            "incident": incident,
            "updates": queries.portal_updates(incident, request.user),
            "steps": queries.portal_steps(incident),
        },
    )

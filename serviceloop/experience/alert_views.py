"""Alert pages for staff: the list (open first by default), one alert with its figures, acknowledge."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from serviceloop.catalogue.models import Service
from serviceloop.core.access import staff_required
from serviceloop.core.pagination import paginate
from serviceloop.experience import alert_queries, alerts
from serviceloop.experience.models import Alert


@staff_required
def alert_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "open")
    state = state if state in alert_queries.STATES else "open"
    kind = request.GET.get("kind", "")
    kind = kind if kind in Alert.Kind.values else ""
    mine = request.GET.get("mine") == "1"
    service_id = request.GET.get("service", "").strip()[:24]
    service = Service.objects.filter(public_id=service_id).first() if service_id else None
    rows = alert_queries.alert_list(
        viewer=request.user, state=state, kind=kind, mine=mine, service=service.public_id if service else ""
    )
    return render(
        request,
        "experience/alert_list.html",
        {
            "page_obj": paginate(request, rows),
            "state": state,
            "kind": kind,
            "mine": mine,
            "kinds": Alert.Kind.choices,
            "service": service,
            "query": urlencode(
                {
                    "state": state,
                    "kind": kind,
                    **({"mine": "1"} if mine else {}),
                    **({"service": service_id} if service else {}),
                }
            ),
            "filtered": state != "open" or bool(kind) or mine or service is not None,
        },
    )


@staff_required
def alert_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    alert = alert_queries.alert_for(viewer=request.user, public_id=public_id)
    return render(
        request,
        "experience/alert_detail.html",
        {
            "alert": alert,
            "lines": alerts.figure_lines(alert.figures),
            "p_value": alerts.format_p(alert.figures.get("p_value")),
            "q_value": alerts.format_p(alert.figures.get("q_value")),
            "recovery_lines": alerts.figure_lines(alert.recovery_figures),
            "history": alert_queries.alert_history(alert),
        },
    )


@require_POST
@staff_required
def alert_acknowledge(request: HttpRequest, public_id: str) -> HttpResponse:
    alert = alert_queries.alert_for(viewer=request.user, public_id=public_id)
    already = alert.acknowledged_at is not None
    alerts.alert_acknowledge(alert, request.user)
    if already:
        messages.info(request, "This alert was already acknowledged.")
    else:
        messages.success(request, "Alert acknowledged.")
    return redirect("experience:alert_detail", public_id=alert.public_id)

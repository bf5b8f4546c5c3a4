"""The public status page and its Statuspage-compatible JSON: no sign-in, GET and HEAD only.

Answers may be kept for a short while (`SERVICELOOP_STATUS_MAX_AGE`) by browsers and proxies, carry
an ETag (a repeat with If-None-Match gets 304), and the JSON is readable from any origin, as
Statuspage's is. An HTML page asked for by someone signed in is left to the site's no-store rule.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from serviceloop.core import clock
from serviceloop.incidents import status, status_documents, status_pages


def _public(request: HttpRequest, response: HttpResponse, *, last_modified: datetime | None = None) -> HttpResponse:
    html = response.get("Content-Type", "").startswith("text/html")
    if html and request.user.is_authenticated:
        return response
    patch_cache_control(response, public=True, max_age=settings.SERVICELOOP_STATUS_MAX_AGE)
    etag = '"' + hashlib.sha256(response.content).hexdigest()[:32] + '"'
    response["ETag"] = etag
    timestamp = int(last_modified.timestamp()) if last_modified else None
    if timestamp is not None:
        response["Last-Modified"] = http_date(timestamp)
    conditional = get_conditional_response(request, etag=etag, last_modified=timestamp, response=response)
    return conditional if conditional is not None else response


def _json(request: HttpRequest, document: dict[str, Any]) -> HttpResponse:
    response = JsonResponse(document, json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"
    updated = document["page"]["updated_at"]
    answered = _public(request, response, last_modified=datetime.fromisoformat(updated) if updated else None)
    answered["Access-Control-Allow-Origin"] = "*"
    return answered


def _document(build: Callable[[], dict[str, Any]]) -> Callable[[HttpRequest], HttpResponse]:
    @require_safe
    def view(request: HttpRequest) -> HttpResponse:
        return _json(request, build())

    return view


summary_json = _document(status_documents.summary_document)
status_json = _document(status_documents.status_document)
components_json = _document(status_documents.components_document)
incidents_json = _document(status_documents.incidents_document)
unresolved_json = _document(lambda: status_documents.incidents_document(unresolved=True))
maintenances_json = _document(status_documents.maintenances_document)
upcoming_json = _document(lambda: status_documents.maintenances_document("upcoming"))
active_json = _document(lambda: status_documents.maintenances_document("active"))


# --- pages ------------------------------------------------------------------------------------


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    context.setdefault("page_name", settings.SERVICELOOP_STATUS_PAGE_NAME)
    context.setdefault("time_zone", settings.SERVICELOOP_STATUS_TIME_ZONE)
    return _public(request, render(request, template, context))


@require_safe
def page(request: HttpRequest) -> HttpResponse:
    return _page(request, "incidents/status/page.html", status_pages.page_context(clock.now()))


@require_safe
def incident(request: HttpRequest, public_id: str) -> HttpResponse:
    row = status.incident_for(public_id)
    if row is None:
        raise Http404("No such incident on the status page.")
    return _page(request, "incidents/status/incident.html", status_pages.incident_context(row))


def _month(value: str | None, today: date) -> date:
    if not value:
        return today.replace(day=1)
    try:
        first = datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise Http404("Give the month as YYYY-MM.") from None
    if first > today or first.year < 2000:
        raise Http404("No history for that month.")
    return first


@require_safe
def history(request: HttpRequest) -> HttpResponse:
    today = clock.now().astimezone(status.page_zone()).date()
    first = _month(request.GET.get("month"), today)
    return _page(request, "incidents/status/history.html", status_pages.history_context(first, today))


@require_safe
def uptime_view(request: HttpRequest) -> HttpResponse:
    return _page(request, "incidents/status/uptime.html", status_pages.uptime_context(clock.now()))

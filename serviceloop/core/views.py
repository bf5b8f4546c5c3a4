"""The event log (staff) and the operations page (administrators). Thin: a form, a query, a service."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from serviceloop.core import queries
from serviceloop.core.access import admin_required, staff_required
from serviceloop.core.errors import DomainError
from serviceloop.core.events import delivery_retry
from serviceloop.core.forms import EventFilterForm
from serviceloop.core.mail import mail_retry
from serviceloop.core.pagination import paginate
from serviceloop.core.subjects import subject_url

TABS = {"mails": "Failed mail", "deliveries": "Failed event deliveries"}


@staff_required
def event_log(request: HttpRequest, subject_type: str | None = None, public_id: str | None = None) -> HttpResponse:
    """The whole log with filters, or (with a subject in the URL) the history of one object."""
    subject_id = None
    if subject_type is not None and public_id is not None:
        subject_id = queries.subject_pk(subject_type=subject_type, public_id=public_id)
    form = EventFilterForm(request.GET or None, names=queries.event_names(), subject_types=queries.subject_types())
    if form.is_bound:
        form.is_valid()  # fills cleaned_data with the fields that parsed; the others show their error
    filters: dict[str, Any] = form.filters()
    if subject_id is not None:
        filters.update(subject_type=subject_type, subject_id=subject_id)
    page = paginate(request, queries.event_log(request.user, **filters))
    links = queries.subject_public_ids(list(page.object_list))
    rows = [
        {
            "event": event,
            "url": subject_url(event.subject_type, links.get((event.subject_type, event.subject_id or 0))),
            "data": _data_summary(event.data),
        }
        for event in page.object_list
    ]
    params = {key: value for key, value in request.GET.items() if key != "page" and value}
    return render(
        request,
        "core/event_log.html",
        {
            "form": form,
            "page_obj": page,
            "rows": rows,
            "subject": {"type": subject_type, "public_id": public_id, "url": subject_url(subject_type or "", public_id)}
            if subject_id is not None
            else None,
            "filtered": any(value for value in filters.values() if value is not None),
            "query": urlencode(params),
        },
    )


def _data_summary(data: Any, limit: int = 6) -> list[tuple[str, str]]:
    """The first few key/value pairs of an event's data, each value cut short, for one table cell."""
    if not isinstance(data, dict):
        return [("", str(data)[:80])]
    return [(str(key), str(value)[:80]) for key, value in list(data.items())[:limit]]


@admin_required
def operations(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("show", "mails")
    if show not in TABS:
        show = "mails"
    rows = queries.failed_mails() if show == "mails" else queries.failed_deliveries()
    return render(
        request,
        "core/operations.html",
        {
            "summary": queries.outbox_summary(),
            "show": show,
            "tabs": TABS,
            "page_obj": paginate(request, rows),
            "query": urlencode({"show": show}),
        },
    )


def _back(request: HttpRequest) -> HttpResponse:
    show = request.POST.get("show", "mails")
    return redirect(reverse("core:operations") + "?" + urlencode({"show": show if show in TABS else "mails"}))


@require_POST
@admin_required
def mail_retry_view(request: HttpRequest, public_id: str) -> HttpResponse:
    mail = queries.mail_for(request.user, public_id=public_id)
    try:
        mail_retry(mail=mail, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"The mail to {', '.join(mail.to)} is queued again; the worker sends it shortly.")
    return _back(request)


@require_POST
@admin_required
def delivery_retry_view(request: HttpRequest, public_id: str) -> HttpResponse:
    delivery = queries.delivery_for(request.user, public_id=public_id)
    try:
        delivery_retry(delivery=delivery, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{delivery.event.name} will be delivered to {delivery.subscriber} again shortly.")
    return _back(request)

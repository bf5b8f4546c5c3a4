"""Staff pages for maintenance windows: the list, the schedule form, a window with its actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from serviceloop.accounts.models import User
from serviceloop.core.access import form_error, staff_required
from serviceloop.core.errors import DomainError
from serviceloop.core.pages import form_page
from serviceloop.core.pagination import paginate
from serviceloop.incidents import maintenance as services
from serviceloop.incidents import maintenance_queries as queries
from serviceloop.incidents.maintenance_forms import MaintenanceForm, RescheduleForm, StepForm, UpdateForm
from serviceloop.incidents.models import Incident

DETAIL = "incidents:maintenance_detail"


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@staff_required
def maintenance_list(request: HttpRequest) -> HttpResponse:
    """Upcoming and active windows in full; past ones (completed and cancelled) a page at a time."""
    viewer = _user(request)
    context = {
        "upcoming": list(queries.maintenance_list(viewer=viewer, when="upcoming")[:100]),
        "active": list(queries.maintenance_list(viewer=viewer, when="active")[:100]),
        "page_obj": paginate(request, queries.maintenance_list(viewer=viewer, when="past")),
    }
    return render(request, "incidents/maintenance/list.html", context)


@staff_required
def maintenance_new(request: HttpRequest) -> HttpResponse:
    form = MaintenanceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["services"], data["offerings"] = list(data["services"]), list(data["offerings"])
        try:
            maintenance = services.maintenance_schedule(by=_user(request), **data)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, f"{maintenance.reference} is scheduled; the affected customers are told.")
            return redirect(DETAIL, maintenance.public_id)
    return form_page(
        request,
        form,
        title="Schedule maintenance",
        submit="Schedule",
        cancel=reverse("incidents:maintenance_list"),
        lead="Times are in your time zone. Customers are mailed in theirs, and reminded before it starts.",
    )


@staff_required
def maintenance_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    maintenance = queries.maintenance_for(viewer=_user(request), public_id=public_id)
    context = {
        "maintenance": maintenance,
        "services": maintenance.affected_services.select_related("service").order_by("service__name"),
        "organisations": maintenance.affected_organisations.select_related("organisation").order_by(
            "organisation__name"
        ),
        "updates": queries.maintenance_updates(viewer=_user(request), maintenance=maintenance)[:200],
        "step_form": StepForm(auto_id="step-%s"),
        "update_form": UpdateForm(auto_id="update-%s"),
        "is_scheduled": maintenance.status == Incident.Status.SCHEDULED,
        "is_active": maintenance.status in Incident.MAINTENANCE_ACTIVE,
    }
    return render(request, "incidents/maintenance/detail.html", context)


@staff_required
def maintenance_reschedule(request: HttpRequest, public_id: str) -> HttpResponse:
    maintenance = queries.maintenance_for(viewer=_user(request), public_id=public_id)
    initial = {
        "scheduled_for": maintenance.scheduled_for,
        "scheduled_until": maintenance.scheduled_until,
        "notice_minutes": maintenance.notice_minutes,
    }
    form = RescheduleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.maintenance_reschedule(maintenance=maintenance, by=_user(request), **form.cleaned_data)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, f"{maintenance.reference} is rescheduled; the affected customers are told.")
            return redirect(DETAIL, maintenance.public_id)
    return form_page(
        request,
        form,
        title=f"Reschedule {maintenance.reference}",
        submit="Reschedule",
        cancel=reverse(DETAIL, args=[maintenance.public_id]),
        lead="Times are in your time zone. Once the window has started only its end can move.",
    )


def _step(action: Callable[..., Any], done: str) -> Callable[[HttpRequest, str], HttpResponse]:
    @staff_required
    @require_POST
    def view(request: HttpRequest, public_id: str) -> HttpResponse:
        maintenance = queries.maintenance_for(viewer=_user(request), public_id=public_id)
        form = StepForm(request.POST)
        body = form.cleaned_data["body"] if form.is_valid() else ""
        try:
            action(maintenance=maintenance, by=_user(request), body=body)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"{maintenance.reference} {done}.")
        return redirect(DETAIL, maintenance.public_id)

    view.__name__ = f"maintenance_{done.split()[-1]}"
    return view


maintenance_start = _step(services.maintenance_start, "is in progress")
maintenance_verify = _step(services.maintenance_verify, "is being verified")
maintenance_complete = _step(services.maintenance_complete, "is completed")
maintenance_cancel = _step(services.maintenance_cancel, "is cancelled")


@staff_required
@require_POST
def maintenance_update(request: HttpRequest, public_id: str) -> HttpResponse:
    maintenance = queries.maintenance_for(viewer=_user(request), public_id=public_id)
    form = UpdateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write the update before posting it.")
        return redirect(DETAIL, maintenance.public_id)
    try:
        services.maintenance_update_post(maintenance=maintenance, by=_user(request), body=form.cleaned_data["body"])
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The update is posted.")
    return redirect(DETAIL, maintenance.public_id)

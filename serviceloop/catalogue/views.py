"""Catalogue pages: browse, create and edit services and offerings; the customer-facing offering page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from serviceloop.accounts.models import User
from serviceloop.catalogue import queries, services
from serviceloop.catalogue.forms import (
    ComponentForm,
    OfferingEditForm,
    OfferingForm,
    ServiceEditForm,
    ServiceForm,
    ValueItemForm,
)
from serviceloop.catalogue.models import OfferingComponent, Service, ValueItem
from serviceloop.core.access import form_error, manager_required, staff_required
from serviceloop.core.errors import DomainError
from serviceloop.core.pages import form_page
from serviceloop.core.pagination import paginate


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# -- services --------------------------------------------------------------------------------------


@staff_required
def service_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").replace("\x00", "").strip()[:200]
    lifecycle = request.GET.get("lifecycle", "")
    lifecycle = lifecycle if lifecycle in Service.Lifecycle.values else ""
    rows = queries.service_list(viewer=_user(request), q=q, lifecycle=lifecycle)
    page_obj = paginate(request, rows)
    return render(
        request,
        "catalogue/service_list.html",
        {
            "page_obj": page_obj,
            "q": q,
            "lifecycle": lifecycle,
            "lifecycles": Service.Lifecycle.choices,
            "query": f"q={q}&lifecycle={lifecycle}",
        },
    )


@manager_required
def service_create(request: HttpRequest) -> HttpResponse:
    form = ServiceForm(request.POST or None, initial={"service_manager": request.user.pk})
    if request.method == "POST" and form.is_valid():
        try:
            service = services.service_create(by=_user(request), **form.cleaned_data)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, f"Service “{service.name}” created. Add its first offering.")
            return redirect("catalogue:service_detail", public_id=service.public_id)
    return form_page(
        request, form, title="New service", submit="Create service", cancel=reverse("catalogue:service_list")
    )


@staff_required
def service_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    service = queries.service_for(viewer=_user(request), public_id=public_id)
    offerings = queries.offering_list(viewer=_user(request), service=service.public_id)
    history = queries.catalogue_changes(viewer=_user(request), service=service.public_id)[:50]
    return render(
        request, "catalogue/service_detail.html", {"service": service, "offerings": offerings, "history": history}
    )


@manager_required
def service_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    service = queries.service_for(viewer=_user(request), public_id=public_id)
    initial = {
        "name": service.name,
        "slug": service.slug,
        "description": service.description,
        "lifecycle": service.lifecycle,
        "criticality": service.criticality,
        "service_manager": service.service_manager_id,
        "version": service.version,
    }
    form = ServiceEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data, expected = form.edit_data()
        try:
            services.service_update(service=service, by=_user(request), expected_version=expected, **data)  # type: ignore[arg-type]
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, "Service saved.")
            return redirect("catalogue:service_detail", public_id=service.public_id)
    return form_page(
        request,
        form,
        title=f"Edit {service.name}",
        submit="Save",
        cancel=reverse("catalogue:service_detail", args=[service.public_id]),
    )


# -- offerings -------------------------------------------------------------------------------------


@manager_required
def offering_create(request: HttpRequest, public_id: str) -> HttpResponse:
    service = queries.service_for(viewer=_user(request), public_id=public_id)
    form = OfferingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            offering = services.offering_create(service=service, by=_user(request), **form.cleaned_data)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, f"Offering “{offering.name}” created. Describe its components and value model.")
            return redirect("catalogue:offering_detail", public_id=offering.public_id)
    return form_page(
        request,
        form,
        title=f"New offering of {service.name}",
        lead="An offering is what a target group gets: goods, access to resources and service actions.",
        submit="Create offering",
        cancel=reverse("catalogue:service_detail", args=[service.public_id]),
    )


@staff_required
def offering_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    offering = queries.offering_for(viewer=_user(request), public_id=public_id)
    return render(
        request,
        "catalogue/offering_detail.html",
        {
            "offering": offering,
            "sides": queries.value_sides(offering),
            "component_form": ComponentForm(),
            "value_item_form": ValueItemForm(),
            "history": queries.catalogue_changes(viewer=_user(request), service=offering.service.public_id)[:20],
        },
    )


@manager_required
def offering_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    offering = queries.offering_for(viewer=_user(request), public_id=public_id)
    initial = {k: getattr(offering, k) for k in ("name", "slug", "target_group", "description", "version")}
    form = OfferingEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data, expected = form.edit_data()
        try:
            services.offering_update(offering=offering, by=_user(request), expected_version=expected, **data)  # type: ignore[arg-type]
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, "Offering saved.")
            return redirect("catalogue:offering_detail", public_id=offering.public_id)
    return form_page(
        request,
        form,
        title=f"Edit {offering.name}",
        submit="Save",
        cancel=reverse("catalogue:offering_detail", args=[offering.public_id]),
    )


@login_required
def offering_public(request: HttpRequest, public_id: str) -> HttpResponse:
    """What the offering gives and what it asks, side by side; customers of consuming organisations and staff."""
    offering = queries.offering_for(viewer=_user(request), public_id=public_id)
    return render(
        request, "catalogue/offering_public.html", {"offering": offering, "sides": queries.value_sides(offering)}
    )


@login_required
def our_services(request: HttpRequest) -> HttpResponse:
    """A customer's offerings (those their organisation consumes); staff see every offering of a live service."""
    rows = queries.offering_list(viewer=_user(request), lifecycle="live" if _user(request).is_staff_member else "")
    return render(request, "catalogue/our_services.html", {"page_obj": paginate(request, rows), "query": ""})


# -- components and value items --------------------------------------------------------------------


@manager_required
def component_create(request: HttpRequest, public_id: str) -> HttpResponse:
    offering = queries.offering_for(viewer=_user(request), public_id=public_id)
    form = ComponentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.component_create(offering=offering, by=_user(request), **form.cleaned_data)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, "Component added.")
            return redirect("catalogue:offering_detail", public_id=offering.public_id)
    return form_page(
        request,
        form,
        title=f"Add a component to {offering.name}",
        submit="Add component",
        cancel=reverse("catalogue:offering_detail", args=[offering.public_id]),
    )


@manager_required
def component_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    component: OfferingComponent = queries.component_for(viewer=_user(request), public_id=public_id)
    initial = {k: getattr(component, k) for k in ("kind", "name", "description", "position")}
    form = ComponentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.component_update(component=component, by=_user(request), **form.cleaned_data)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, "Component saved.")
            return redirect("catalogue:offering_detail", public_id=component.offering.public_id)
    return form_page(
        request,
        form,
        title=f"Edit component {component.name}",
        submit="Save",
        cancel=reverse("catalogue:offering_detail", args=[component.offering.public_id]),
    )


@manager_required
@require_POST
def component_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    component = queries.component_for(viewer=_user(request), public_id=public_id)
    offering_id = component.offering.public_id
    services.component_delete(component=component, by=_user(request))
    messages.success(request, f"Component “{component.name}” removed.")
    return redirect("catalogue:offering_detail", public_id=offering_id)


def _value_item_form_data(form: ValueItemForm) -> dict[str, Any]:
    return dict(form.cleaned_data)


@manager_required
def value_item_create(request: HttpRequest, public_id: str) -> HttpResponse:
    offering = queries.offering_for(viewer=_user(request), public_id=public_id)
    form = ValueItemForm(request.POST or None, initial={"kind": request.GET.get("kind", "")})
    if request.method == "POST" and form.is_valid():
        try:
            services.value_item_create(offering=offering, by=_user(request), **_value_item_form_data(form))
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, "Value item added.")
            return redirect("catalogue:offering_detail", public_id=offering.public_id)
    return form_page(
        request,
        form,
        title=f"Add to the value model of {offering.name}",
        lead="Outcomes, outputs, and the costs and risks the offering removes or imposes.",
        submit="Add value item",
        cancel=reverse("catalogue:offering_detail", args=[offering.public_id]),
    )


@manager_required
def value_item_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    item: ValueItem = queries.value_item_for(viewer=_user(request), public_id=public_id)
    initial = {k: getattr(item, k) for k in ("kind", "description", "financial", "estimate", "unit", "position")}
    form = ValueItemForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.value_item_update(item=item, by=_user(request), **_value_item_form_data(form))
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, "Value item saved.")
            return redirect("catalogue:offering_detail", public_id=item.offering.public_id)
    return form_page(
        request,
        form,
        title="Edit value item",
        submit="Save",
        cancel=reverse("catalogue:offering_detail", args=[item.offering.public_id]),
    )


@manager_required
@require_POST
def value_item_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    item = queries.value_item_for(viewer=_user(request), public_id=public_id)
    offering_id = item.offering.public_id
    services.value_item_delete(item=item, by=_user(request))
    messages.success(request, f"Value item “{item.description}” removed.")
    return redirect("catalogue:offering_detail", public_id=offering_id)

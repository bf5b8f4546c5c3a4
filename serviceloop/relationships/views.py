"""Pages for organisations, their people and their service relationships (with the service history)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from serviceloop.accounts.models import User, currency
from serviceloop.core.access import form_error, manager_required, staff_required
from serviceloop.core.errors import DomainError
from serviceloop.core.pages import form_page
from serviceloop.core.pagination import paginate
from serviceloop.relationships import queries, services
from serviceloop.relationships.forms import (
    OrganisationEditForm,
    OrganisationForm,
    PersonEditForm,
    PersonForm,
    RelationshipForm,
    RoleGrantForm,
    RoleRevokeForm,
    StatusForm,
)
from serviceloop.relationships.models import Person, Relationship


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# -- organisations ---------------------------------------------------------------------------------


@staff_required
def organisation_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").replace("\x00", "").strip()[:200]
    page_obj = paginate(request, queries.organisation_list(viewer=_user(request), q=q))
    return render(request, "relationships/organisation_list.html", {"page_obj": page_obj, "q": q, "query": f"q={q}"})


@staff_required
def person_list(request: HttpRequest) -> HttpResponse:
    """Every contact of every consumer organisation, found by name or email."""
    q = request.GET.get("q", "").replace("\x00", "").strip()[:200]
    rows = queries.person_list(viewer=_user(request), q=q).order_by("organisation__name", "name", "email")
    page_obj = paginate(request, rows)
    return render(request, "relationships/person_list.html", {"page_obj": page_obj, "q": q, "query": f"q={q}"})


@staff_required
def relationship_list(request: HttpRequest) -> HttpResponse:
    """Every service relationship: organisation × offering, by state, found by organisation or service."""
    q = request.GET.get("q", "").replace("\x00", "").strip()[:200]
    status = request.GET.get("status", "")
    status = status if status in Relationship.Status.values else ""
    rows = queries.relationship_list(viewer=_user(request), q=q, status=status)
    context = {
        "page_obj": paginate(request, rows),
        "q": q,
        "status": status,
        "statuses": Relationship.Status.choices,
        "query": urlencode({k: v for k, v in {"q": q, "status": status}.items() if v}),
    }
    return render(request, "relationships/relationship_list.html", context)


@manager_required
def organisation_create(request: HttpRequest) -> HttpResponse:
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organisation = services.organisation_create(by=_user(request), **form.cleaned_data)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, f"Organisation “{organisation.name}” created.")
            return redirect("relationships:organisation_detail", public_id=organisation.public_id)
    return form_page(
        request,
        form,
        title="New organisation",
        submit="Create organisation",
        cancel=reverse("relationships:organisation_list"),
    )


@login_required
def organisation_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    organisation = queries.organisation_for(viewer=_user(request), public_id=public_id)
    people = queries.person_list(viewer=_user(request), organisation=organisation.public_id)
    relationships = queries.relationship_list(viewer=_user(request), organisation=organisation.public_id)
    return render(
        request,
        "relationships/organisation_detail.html",
        {
            "organisation": organisation,
            "page_obj": paginate(request, people),
            "query": "",
            "relationships": relationships,
            "history": queries.organisation_history(organisation=organisation),
            "currency": currency(),
        },
    )


@manager_required
def organisation_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    organisation = queries.organisation_for(viewer=_user(request), public_id=public_id)
    initial = {k: getattr(organisation, k) for k in ("name", "slug", "domain", "notes", "version")}
    initial["hourly_cost"] = "" if organisation.hourly_cost is None else organisation.hourly_cost
    form = OrganisationEditForm(request.POST or None, initial=initial)
    form.fields["slug"].disabled = True
    if request.method == "POST" and form.is_valid():
        cleaned, expected = form.edit_data()
        data = {k: cleaned[k] for k in ("name", "domain", "notes", "hourly_cost")}
        try:
            services.organisation_update(
                organisation=organisation,
                by=_user(request),
                expected_version=expected,
                **data,  # type: ignore[arg-type]
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, "Organisation saved.")
            return redirect("relationships:organisation_detail", public_id=organisation.public_id)
    return form_page(
        request,
        form,
        title=f"Edit {organisation.name}",
        submit="Save",
        cancel=reverse("relationships:organisation_detail", args=[organisation.public_id]),
    )


# -- people ----------------------------------------------------------------------------------------


@manager_required
def person_create(request: HttpRequest, public_id: str) -> HttpResponse:
    organisation = queries.organisation_for(viewer=_user(request), public_id=public_id)
    form = PersonForm(request.POST or None, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.person_create(by=_user(request), organisation=organisation, **form.cleaned_data)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, f"{person} added to {organisation}.")
            return redirect("relationships:person_detail", public_id=person.public_id)
    return form_page(
        request,
        form,
        title=f"Add a person to {organisation.name}",
        submit="Add person",
        cancel=reverse("relationships:organisation_detail", args=[organisation.public_id]),
    )


@login_required
def person_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    person = queries.person_for(viewer=_user(request), public_id=public_id)
    return render(
        request, "relationships/person_detail.html", {"person": person, "roles": queries.roles_of(person=person)}
    )


@manager_required
def person_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    person: Person = queries.person_for(viewer=_user(request), public_id=public_id)
    initial = {k: getattr(person, k) for k in ("name", "email", "time_zone", "survey_opt_out", "version")}
    initial["user"] = person.user_id
    form = PersonEditForm(request.POST or None, initial=initial, organisation=person.organisation)
    if request.method == "POST" and form.is_valid():
        data, expected = form.edit_data()
        try:
            services.person_update(person=person, by=_user(request), expected_version=expected, **data)  # type: ignore[arg-type]
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, f"{person} saved.")
            return redirect("relationships:person_detail", public_id=person.public_id)
    return form_page(
        request,
        form,
        title=f"Edit {person}",
        submit="Save",
        cancel=reverse("relationships:person_detail", args=[person.public_id]),
    )


# -- relationships ---------------------------------------------------------------------------------


@manager_required
def relationship_create(request: HttpRequest, public_id: str) -> HttpResponse:
    organisation = queries.organisation_for(viewer=_user(request), public_id=public_id)
    form = RelationshipForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            relationship = services.relationship_create(
                by=_user(request), organisation=organisation, **form.cleaned_data
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, f"{organisation} now uses {relationship.offering}.")
            return redirect("relationships:relationship_detail", public_id=relationship.public_id)
    return form_page(
        request,
        form,
        title=f"{organisation.name} starts using an offering",
        submit="Start relationship",
        cancel=reverse("relationships:organisation_detail", args=[organisation.public_id]),
    )


@login_required
def relationship_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    relationship: Relationship = queries.relationship_for(viewer=_user(request), public_id=public_id)
    context: dict[str, Any] = {
        "relationship": relationship,
        "events": queries.relationship_events(relationship=relationship)[:200],
    }
    if _user(request).can_manage_services:
        context["status_form"] = StatusForm(initial={"status": relationship.status})
        context["role_form"] = RoleGrantForm(organisation=relationship.organisation)
    return render(request, "relationships/relationship_detail.html", context)


def _back(relationship: Relationship) -> HttpResponse:
    return redirect("relationships:relationship_detail", public_id=relationship.public_id)


def _refuse(
    request: HttpRequest, relationship: Relationship, form: Any, error: DomainError | None = None
) -> HttpResponse:
    if error is not None:
        messages.error(request, error.message)
    else:
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}")
    return _back(relationship)


@manager_required
@require_POST
def relationship_status(request: HttpRequest, public_id: str) -> HttpResponse:
    relationship = queries.relationship_for(viewer=_user(request), public_id=public_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _refuse(request, relationship, form)
    try:
        services.relationship_set_status(relationship=relationship, by=_user(request), **form.cleaned_data)
    except DomainError as error:
        return _refuse(request, relationship, form, error)
    messages.success(request, "Status changed.")
    return _back(relationship)


@manager_required
@require_POST
def role_grant(request: HttpRequest, public_id: str) -> HttpResponse:
    relationship = queries.relationship_for(viewer=_user(request), public_id=public_id)
    form = RoleGrantForm(request.POST)
    if not form.is_valid():
        return _refuse(request, relationship, form)
    try:
        services.role_grant(relationship=relationship, by=_user(request), **form.cleaned_data)
    except DomainError as error:
        return _refuse(request, relationship, form, error)
    messages.success(request, "Role granted.")
    return _back(relationship)


@manager_required
@require_POST
def role_revoke(request: HttpRequest, public_id: str) -> HttpResponse:
    relationship = queries.relationship_for(viewer=_user(request), public_id=public_id)
    form = RoleRevokeForm(request.POST)
    if not form.is_valid():
        return _refuse(request, relationship, form)
    person = Person.objects.filter(public_id=form.cleaned_data["person"]).first()
    if person is None:
        messages.error(request, "No such person.")
        return _back(relationship)
    try:
        services.role_revoke(
            relationship=relationship, person=person, role=form.cleaned_data["role"], by=_user(request)
        )
    except DomainError as error:
        return _refuse(request, relationship, form, error)
    messages.success(request, "Role revoked.")
    return _back(relationship)

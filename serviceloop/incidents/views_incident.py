"""The working page of one incident and its forms: the update composer, the communication plans,
the recovery plan, ETAs, resolution. Each form posts to its own URL; a refusal shows the page again
with that form bound and the message next to its field (422)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from serviceloop.accounts.models import User
from serviceloop.core import clock
from serviceloop.core.access import form_error, staff_required
from serviceloop.core.errors import DomainError
from serviceloop.incidents import queries_pages as queries
from serviceloop.incidents.forms import (
    ChangeForm,
    EtaForm,
    PlanForm,
    ResolveForm,
    StepEditForm,
    StepForm,
    UpdateForm,
)
from serviceloop.incidents.models import Audience, Incident, RecoveryStep
from serviceloop.incidents.services import (
    audience_plan_set,
    compose_body,
    incident_change,
    incident_eta_set,
    incident_resolve,
    incident_update_post,
    recovery_plan_publish,
    recovery_step_add,
    recovery_step_update,
    update_templates,
)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _duration(incident: Incident, now: Any) -> str:
    start = incident.impact_started_at or incident.declared_at or incident.started_at
    if start is None:
        return ""
    end = incident.impact_ended_at or incident.resolved_at or incident.completed_at or now
    minutes = max(int((end - start).total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _templates(incident: Incident) -> list[Any]:
    return list(update_templates(incident=incident))


def _chosen_template(request: HttpRequest, incident: Incident) -> Any:
    """The template `?template=<name>` names (any case), or None."""
    chosen = request.GET.get("template", "").strip().lower()
    if not chosen or not incident.is_open:
        return None
    return next((t for t in _templates(incident) if t.name.lower() == chosen), None)


def _resolve_form(request: HttpRequest, incident: Incident) -> ResolveForm:
    """The resolution notice, prefilled from the "resolved" template when it is chosen."""
    template = _chosen_template(request, incident)
    if template is not None and template.status == Incident.Status.RESOLVED:
        body = compose_body(
            affected=template.affected, impacted=template.impacted, actions=template.actions, next_update_at=None
        )
        return ResolveForm(initial={"body": body})
    return ResolveForm()


def _update_form(request: HttpRequest, incident: Incident) -> UpdateForm:
    """The composer, prefilled from `?template=<name>` when one is chosen (no script needed)."""
    initial: dict[str, Any] = {
        "audiences": [plan.audience for plan in incident.audience_plans.all() if plan.is_active],
        "status": incident.status,
        "deliver_notifications": True,
    }
    template = _chosen_template(request, incident)
    if template is not None and template.status != Incident.Status.RESOLVED:
        initial.update(
            status=template.status,
            affected=template.affected,
            impacted=template.impacted,
            actions=template.actions,
        )
    return UpdateForm(initial=initial, incident=incident)


def _plan_forms(incident: Incident, bound: dict[str, PlanForm]) -> list[dict[str, Any]]:
    now = clock.now()
    rows = []
    for clock_row in queries.clocks_of(incident, now):
        plan = clock_row.plan
        form = bound.get(plan.audience) or PlanForm(
            initial={
                "cadence_minutes": plan.cadence_minutes,
                "channels": plan.channels,
                "owner": plan.owner_id,
                "calendar": plan.calendar_id,
                "is_active": plan.is_active,
            },
            prefix=f"plan-{plan.audience}",
        )
        rows.append({"clock": clock_row, "form": form, "label": Audience(plan.audience).label})
    return rows


def _step_rows(incident: Incident, bound: dict[int, StepEditForm]) -> list[dict[str, Any]]:
    rows = []
    for step in queries.steps_of(incident):
        form = bound.get(step.pk) or StepEditForm(
            initial={
                "title": step.title,
                "detail": step.detail,
                "owner": step.owner_id,
                "eta": timezone.localtime(step.eta) if step.eta else None,
                "eta_confidence": step.eta_confidence,
                "customer_facing": step.customer_facing,
                "status": step.status,
            },
            prefix=f"step-{step.public_id}",
        )
        rows.append({"step": step, "form": form})
    return rows


def _context(request: HttpRequest, incident: Incident, **forms: Any) -> dict[str, Any]:
    now = clock.now()
    return {
        "incident": incident,
        "duration": _duration(incident, now),
        "plans": _plan_forms(incident, forms.get("plan_forms", {})),
        "update_form": forms.get("update_form") or _update_form(request, incident),
        "templates": _templates(incident) if incident.is_open else [],
        "chosen_template": request.GET.get("template", "").strip().lower(),
        "updates": queries.updates_of(incident),
        "steps": _step_rows(incident, forms.get("step_forms", {})),
        "step_form": forms.get("step_form") or StepForm(prefix="new-step"),
        "eta_form": forms.get("eta_form")
        or EtaForm(
            initial={
                "eta": timezone.localtime(incident.eta) if incident.eta else None,
                "confidence": incident.eta_confidence,
            }
        ),
        "eta_history": queries.incident_eta_history(incident),
        "linked": queries.linked_tickets(incident),
        "candidates": queries.candidate_tickets(incident) if incident.is_open else [],
        "organisations": incident.affected_organisations.all(),
        "resolve_form": forms.get("resolve_form") or _resolve_form(request, incident),
        "change_form": forms.get("change_form")
        or ChangeForm(
            initial={
                "title": incident.title,
                "severity": incident.severity,
                "visibility": incident.visibility,
                "owner": incident.owner_id,
                "comms_lead": incident.comms_lead_id,
            }
        ),
        "customer_steps": [step for step in queries.steps_of(incident) if step.customer_facing],
    }


def _page(request: HttpRequest, incident: Incident, status: int = 200, **forms: Any) -> HttpResponse:
    return render(request, "incidents/incident.html", _context(request, incident, **forms), status=status)


def _back(incident: Incident, anchor: str) -> HttpResponse:
    return redirect(reverse("incidents:incident", kwargs={"public_id": incident.public_id}) + f"#{anchor}")


@staff_required
def incident(request: HttpRequest, public_id: str) -> HttpResponse:
    return _page(request, queries.incident_for_staff(public_id))


@staff_required
@require_POST
def update_post(request: HttpRequest, public_id: str) -> HttpResponse:
    item = queries.incident_for_staff(public_id)
    form = UpdateForm(request.POST, incident=item)
    if form.is_valid():
        data = form.cleaned_data
        try:
            update = incident_update_post(
                incident=item,
                by=_user(request),
                audiences=data["audiences"],
                status=data["status"],
                affected=data["affected"],
                impacted=data["impacted"],
                actions=data["actions"],
                body=data["body"],
                next_update_at=data["next_update_at"],
                component_statuses=form.service_statuses(),
                deliver_notifications=data["deliver_notifications"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            audiences = ", ".join(Audience(a).label for a in update.audiences)
            messages.success(request, f"Update posted to {audiences}.")
            return _back(item, "timeline")
    return _page(request, item, status=422, update_form=form)


@staff_required
@require_POST
def plan_set(request: HttpRequest, public_id: str, audience: str) -> HttpResponse:
    item = queries.incident_for_staff(public_id)
    if audience not in Audience.values:
        messages.error(request, "No such audience.")
        return _back(item, "clocks")
    form = PlanForm(request.POST, prefix=f"plan-{audience}")
    if form.is_valid():
        data = form.cleaned_data
        try:
            audience_plan_set(
                incident=item,
                audience=audience,
                by=_user(request),
                cadence_minutes=data["cadence_minutes"],
                channels=data["channels"],
                owner=data["owner"],
                calendar=data["calendar"],
                is_active=data["is_active"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, f"The plan for {Audience(audience).label.lower()} is saved.")
            return _back(item, "clocks")
    return _page(request, item, status=422, plan_forms={audience: form})


@staff_required
@require_POST
def step_add(request: HttpRequest, public_id: str) -> HttpResponse:
    item = queries.incident_for_staff(public_id)
    form = StepForm(request.POST, prefix="new-step")
    if form.is_valid():
        data = form.cleaned_data
        try:
            recovery_step_add(
                incident=item,
                by=_user(request),
                title=data["title"],
                detail=data["detail"],
                owner=data["owner"],
                eta=data["eta"],
                eta_confidence=data["eta_confidence"],
                customer_facing=data["customer_facing"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, "Step added to the recovery plan.")
            return _back(item, "recovery")
    return _page(request, item, status=422, step_form=form)


@staff_required
@require_POST
def step_edit(request: HttpRequest, public_id: str, step_id: str) -> HttpResponse:
    item = queries.incident_for_staff(public_id)
    step = get_object_or_404(RecoveryStep, incident=item, public_id=step_id[:24])
    form = StepEditForm(request.POST, prefix=f"step-{step.public_id}")
    if form.is_valid():
        data = form.cleaned_data
        try:
            recovery_step_update(
                step=step,
                by=_user(request),
                title=data["title"],
                detail=data["detail"],
                owner=data["owner"],
                status=data["status"],
                eta=data["eta"],
                eta_confidence=data["eta_confidence"],
                customer_facing=data["customer_facing"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, f"Step “{data['title']}” saved.")
            return _back(item, "recovery")
    return _page(request, item, status=422, step_forms={step.pk: form})


@staff_required
@require_POST
def eta_set(request: HttpRequest, public_id: str) -> HttpResponse:
    item = queries.incident_for_staff(public_id)
    form = EtaForm(request.POST)
    if form.is_valid():
        try:
            incident_eta_set(
                incident=item,
                by=_user(request),
                eta=form.cleaned_data["eta"],
                confidence=form.cleaned_data["confidence"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, "The recovery ETA is set.")
            return _back(item, "recovery")
    return _page(request, item, status=422, eta_form=form)


@staff_required
@require_POST
def plan_publish(request: HttpRequest, public_id: str) -> HttpResponse:
    item = queries.incident_for_staff(public_id)
    try:
        recovery_plan_publish(incident=item, by=_user(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The customer-facing steps are published with the updates.")
    return _back(item, "recovery")


@staff_required
@require_POST
def resolve(request: HttpRequest, public_id: str) -> HttpResponse:
    item = queries.incident_for_staff(public_id)
    form = ResolveForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            incident_resolve(
                incident=item,
                by=_user(request),
                body=data["body"],
                resolved_at=data["resolved_at"],
                impact_ended_at=data["impact_ended_at"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, f"{item.reference} is resolved; the resolution notice is sent.")
            return _back(item, "top")
    return _page(request, item, status=422, resolve_form=form)


@staff_required
@require_POST
def change(request: HttpRequest, public_id: str) -> HttpResponse:
    item = queries.incident_for_staff(public_id)
    form = ChangeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            incident_change(
                incident=item,
                by=_user(request),
                title=data["title"],
                severity=data["severity"],
                visibility=data["visibility"],
                owner=data["owner"],
                comms_lead=data["comms_lead"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, f"{item.reference} is changed.")
            return _back(item, "top")
    return _page(request, item, status=422, change_form=form)

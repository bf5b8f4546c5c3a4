"""XLA pages: the list (SLA beside each XLA), one XLA with its chart and history, the forms.

Staff read every XLA; service managers and administrators create, edit, evaluate and archive them;
a customer user reads the XLAs of their own organisation's relationships, read-only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from serviceloop.accounts.models import User
from serviceloop.catalogue.models import Service
from serviceloop.core import clock
from serviceloop.core.access import form_error, manager_required
from serviceloop.core.errors import DomainError
from serviceloop.core.pagination import paginate
from serviceloop.core.visibility import is_staff_viewer
from serviceloop.experience import xla_queries, xlas
from serviceloop.experience.charts import Chart, Reference, Series, format_value, line_chart, points_of
from serviceloop.experience.metrics import METRICS
from serviceloop.experience.models import Xla
from serviceloop.experience.recount import day_of
from serviceloop.experience.xla_forms import XlaEditForm, XlaForm

STATE_BADGES = {
    Xla.State.MET: "ok",
    Xla.State.AT_RISK: "warn",
    Xla.State.BREACHED: "bad",
    Xla.State.NOT_ENOUGH_DATA: "",
}
# The chart: the figure by week (by month for month and 90-day windows) over this many periods.
CHART_PERIODS = 12


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


class Row:
    """What the pages show of one XLA: its figure, state and the SLA beside it, formatted once."""

    def __init__(self, xla: Xla) -> None:
        self.xla = xla
        metric = METRICS[xla.metric]
        self.metric = metric
        self.target = f"{xla.get_comparator_display().split()[0]} {format_value(float(xla.target), metric.unit)}"
        self.value = format_value(xla.value, metric.unit)
        self.interval = (
            f"{format_value(xla.interval_low, metric.unit)} – {format_value(xla.interval_high, metric.unit)}"
            if xla.interval_low is not None and xla.interval_high is not None
            else ""
        )
        self.state = xla.get_state_display() if xla.state else "Not evaluated yet"
        self.badge = STATE_BADGES.get(xla.state, "")  # type: ignore[call-overload]
        self.sla_first_response = format_value(xla.sla_first_response, "%")
        self.sla_resolution = format_value(xla.sla_resolution, "%")
        met = xlas.sla_met(xla.sla_first_response, xla.sla_resolution)
        self.sla_state = {True: "SLA met", False: "SLA missed", None: "SLA: not enough data"}[met]
        self.sla_badge = {True: "ok", False: "bad", None: ""}[met]
        self.watermelon = xlas.is_watermelon(xla)
        self.baseline = format_value(float(xla.baseline), metric.unit) if xla.baseline is not None else ""

    @property
    def scope(self) -> str:
        relationship = self.xla.relationship
        if relationship is not None:
            return f"{relationship.organisation.name} × {relationship.offering.name}"
        return f"{self.xla.service.name} (whole service)"


@login_required
def xla_list(request: HttpRequest) -> HttpResponse:
    viewer = _user(request)
    service = request.GET.get("service", "")[:24]
    state = request.GET.get("state", "")
    state = state if state in (*Xla.State.values, "none") else ""
    status = request.GET.get("status", Xla.Status.ACTIVE)
    status = status if status in (*Xla.Status.values, "") else Xla.Status.ACTIVE
    rows = xla_queries.xla_list(viewer=viewer, service=service, state=state, status=status)
    page_obj = paginate(request, rows)
    services = Service.objects.filter(xlas__isnull=False).distinct().order_by("name") if is_staff_viewer(viewer) else []
    return render(
        request,
        "experience/xla_list.html",
        {
            "page_obj": page_obj,
            "rows": [Row(xla) for xla in page_obj],
            "service": service,
            "services": services,
            "state": state,
            "states": [*Xla.State.choices, ("none", "Not evaluated yet")],
            "status": status,
            "statuses": Xla.Status.choices,
            "query": urlencode({"service": service, "state": state, "status": status}),
            "green": xlas.sla_green(),
            "filtered": bool(service or state or status != Xla.Status.ACTIVE),
        },
    )


def _chart(xla: Xla) -> Chart:
    """The figure by week or month over the last periods, with the target (and the baseline) as lines."""
    metric = METRICS[xla.metric]
    today = day_of(clock.now())
    monthly = xla.window in (Xla.Window.MONTH, Xla.Window.ROLLING_90)
    if monthly:
        first = (today.replace(day=1) - timedelta(days=31 * (CHART_PERIODS - 1))).replace(day=1)
    else:
        first = today - timedelta(days=today.weekday() + 7 * (CHART_PERIODS - 1))
    groups = xlas.figures_by(xla, first, today, "month" if monthly else "week")
    references = [Reference(float(xla.target), "Target", source=f"XLA {xla.name}")]
    if xla.baseline is not None:
        references.append(Reference(float(xla.baseline), "Baseline", source="XLA baseline"))
    points = points_of(groups, xla.metric, label=lambda key: str(key.get("month") or key.get("week")))
    period = "month" if monthly else "week"
    return line_chart(
        [Series(metric.label, points)],
        title=f"{metric.label} by {period} (the periods' own figures, not the XLA's window)",
        unit=metric.unit,
        references=references,
    )


@login_required
def xla_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    xla = xla_queries.xla_for(viewer=_user(request), public_id=public_id)
    history = paginate(request, xla_queries.xla_history(xla))
    return render(
        request,
        "experience/xla_detail.html",
        {
            "xla": xla,
            "row": Row(xla),
            "history": history,
            "page_obj": history,
            "changes": [(change, STATE_BADGES.get(change.state, "")) for change in history],  # type: ignore[call-overload]
            "labels": dict(Xla.State.choices),
            "chart": _chart(xla),
            "green": xlas.sla_green(),
            "unit": METRICS[xla.metric].unit,
        },
    )


def _form_page(request: HttpRequest, form: Any, *, title: str, submit: str, cancel: str, lead: str) -> HttpResponse:
    """The XLA form; a refused POST answers 422 so the browser and tests see it failed."""
    status = 422 if request.method == "POST" and form.errors else 200
    context = {"form": form, "title": title, "submit": submit, "cancel": cancel, "lead": lead}
    return render(request, "experience/xla_form.html", context, status=status)


def _initial(xla: Xla) -> dict[str, Any]:
    return {key: getattr(xla, key) for key in xlas.EDITABLE} | {"version": xla.version}


@manager_required
def xla_create(request: HttpRequest) -> HttpResponse:
    form = XlaForm(request.POST or None, initial={"start_date": day_of(clock.now())})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("version", None)
        try:
            xla = xlas.xla_create(by=_user(request), **data)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, f"XLA “{xla.name}” created and evaluated: {Row(xla).state.lower()}.")
            return redirect("experience:xla_detail", public_id=xla.public_id)
    return _form_page(
        request,
        form,
        title="New XLA",
        lead="An experience level agreement: a target on one experience metric over a window, for a service or a relationship.",
        submit="Create XLA",
        cancel=reverse("experience:xla_list"),
    )


@manager_required
def xla_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    xla = xla_queries.xla_for(viewer=_user(request), public_id=public_id)
    form = XlaEditForm(request.POST or None, initial=_initial(xla))
    if request.method == "POST" and form.is_valid():
        data, expected = form.edit_data()
        try:
            xlas.xla_update(xla=xla, by=_user(request), expected_version=expected, **data)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, "XLA saved and evaluated again.")
            return redirect("experience:xla_detail", public_id=xla.public_id)
    return _form_page(
        request,
        form,
        title=f"Edit {xla.name}",
        lead=f"For {Row(xla).scope}. The scope stays; archive this XLA and create another to change it.",
        submit="Save",
        cancel=reverse("experience:xla_detail", args=[xla.public_id]),
    )


@manager_required
@require_POST
def xla_evaluate(request: HttpRequest, public_id: str) -> HttpResponse:
    xla = xla_queries.xla_for(viewer=_user(request), public_id=public_id)
    if xla.status == Xla.Status.ARCHIVED:
        messages.error(request, "This XLA is archived; it is no longer evaluated.")
    else:
        evaluated = xlas.xla_evaluate(xla)
        label = Row(evaluated.xla).state.lower()
        messages.success(request, f"Evaluated: {label}" + (" (the state changed)." if evaluated.change else "."))
    return redirect("experience:xla_detail", public_id=xla.public_id)


@manager_required
@require_POST
def xla_archive(request: HttpRequest, public_id: str) -> HttpResponse:
    xla = xla_queries.xla_for(viewer=_user(request), public_id=public_id)
    xlas.xla_archive(xla=xla, by=_user(request))
    messages.success(request, f"XLA “{xla.name}” archived: it is no longer evaluated; its history stays.")
    return redirect("experience:xla_detail", public_id=xla.public_id)

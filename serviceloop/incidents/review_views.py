"""Pages of post-incident reviews (staff only): the list with the measures over time, and one review."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from serviceloop.accounts.models import User
from serviceloop.core import clock
from serviceloop.core.access import form_error, manager_required, staff_required
from serviceloop.core.errors import DomainError
from serviceloop.core.pagination import paginate
from serviceloop.incidents import review_queries as queries
from serviceloop.incidents.measures import (
    actions_closed_share,
    communication_score,
    incident_measures,
    measures_over_time,
    plan_score,
)
from serviceloop.incidents.models import Incident, Review
from serviceloop.incidents.review_chart import month_chart
from serviceloop.incidents.review_forms import ActionForm, CompleteForm, ReviewForm
from serviceloop.incidents.reviews import (
    review_action_add,
    review_action_close,
    review_complete,
    review_open,
    review_publish,
    review_update,
)
from serviceloop.incidents.timeline import incident_timeline

OVER_TIME_MONTHS = 12


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@staff_required
def reviews_index(request: HttpRequest) -> HttpResponse:
    viewer = _user(request)
    today = clock.now().date()
    back = today.year * 12 + today.month - 1 - (OVER_TIME_MONTHS - 1)
    since = date(back // 12, back % 12 + 1, 1)
    months = measures_over_time(since, today)
    return render(
        request,
        "incidents/review/index.html",
        {
            "overdue": queries.reviews_list(viewer=viewer, state="overdue")[:100],
            "due": queries.reviews_list(viewer=viewer, state="due")[:100],
            "completed": paginate(request, queries.reviews_list(viewer=viewer, state="completed")),
            "months": months,
            "chart": month_chart(months),
            "now": clock.now(),
        },
    )


def _review_context(request: HttpRequest, incident: Incident, review: Review | None, **forms: Any) -> dict[str, Any]:
    measures = incident_measures(incident)
    context: dict[str, Any] = {
        "incident": incident,
        "review": review,
        "measures": measures,
        "cadence": sorted(measures.cadence.values(), key=lambda c: c.audience),
        "communication_score": communication_score(measures),
        "plan_score": plan_score(incident),
        "timeline": incident_timeline(incident),
        "organisations": incident.affected_organisations.select_related("organisation").order_by("organisation__name"),
        "tickets": incident.ticket_links.select_related("ticket").order_by("ticket__opened_at"),
        "now": clock.now(),
    }
    if review is not None:
        context["actions"] = review.actions.select_related("owner", "ticket").all()
        context["actions_share"] = actions_closed_share(review)
        context["review_form"] = forms.get("review_form") or ReviewForm(
            initial={
                "owner": review.owner_id,
                "root_cause_category": review.root_cause_category,
                "root_cause": review.root_cause,
                "contributing_factors": "\n".join(review.contributing_factors or []),
                "resolution": review.resolution,
                "customer_summary": review.customer_summary,
            }
        )
        context["action_form"] = forms.get("action_form") or ActionForm()
        context["complete_form"] = forms.get("complete_form") or CompleteForm()
        context["can_publish"] = getattr(request.user, "can_manage_services", False)
    return context


@staff_required
def review_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    incident = queries.incident_for_review(viewer=_user(request), public_id=public_id)
    review = Review.objects.filter(incident=incident).select_related("owner").first()
    return render(request, "incidents/review/detail.html", _review_context(request, incident, review))


@staff_required
@require_POST
def review_open_view(request: HttpRequest, public_id: str) -> HttpResponse:
    incident = queries.incident_for_review(viewer=_user(request), public_id=public_id)
    try:
        review_open(incident=incident, by=_user(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Review opened.")
    return redirect("incidents:review", public_id=incident.public_id)


def _act(
    request: HttpRequest,
    public_id: str,
    form: Any,
    name: str,
    act: Callable[[Review, Any], object],
    done: str,
) -> HttpResponse:
    review = queries.review_of(viewer=_user(request), incident_public_id=public_id)
    if form.is_valid():
        try:
            act(review, form)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, done)
            return redirect("incidents:review", public_id=public_id)
    review.refresh_from_db()
    context = _review_context(request, review.incident, review, **{name: form})
    return render(request, "incidents/review/detail.html", context, status=422)


@staff_required
@require_POST
def review_edit_view(request: HttpRequest, public_id: str) -> HttpResponse:
    def act(review: Review, form: Any) -> object:
        return review_update(review=review, by=_user(request), **form.changes())

    return _act(request, public_id, ReviewForm(request.POST), "review_form", act, "Review saved.")


@staff_required
@require_POST
def review_complete_view(request: HttpRequest, public_id: str) -> HttpResponse:
    def act(review: Review, form: Any) -> object:
        return review_complete(review=review, by=_user(request), no_actions=form.cleaned_data["no_actions"])

    return _act(request, public_id, CompleteForm(request.POST), "complete_form", act, "Review completed.")


@manager_required
@require_POST
def review_publish_view(request: HttpRequest, public_id: str) -> HttpResponse:
    review = queries.review_of(viewer=_user(request), incident_public_id=public_id)
    try:
        review_publish(review=review, by=_user(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Review published: its summary is on the status page.")
    return redirect("incidents:review", public_id=public_id)


@staff_required
@require_POST
def review_action_add_view(request: HttpRequest, public_id: str) -> HttpResponse:
    def act(review: Review, form: Any) -> object:
        data = form.cleaned_data
        return review_action_add(
            review=review,
            by=_user(request),
            title=data["title"],
            kind=data["kind"],
            due_on=data["due_on"],
            owner=data["owner"],
        )

    return _act(request, public_id, ActionForm(request.POST), "action_form", act, "Action added.")


@staff_required
@require_POST
def review_action_close_view(request: HttpRequest, public_id: str, action_id: str) -> HttpResponse:
    review = queries.review_of(viewer=_user(request), incident_public_id=public_id)
    action = queries.review_action_of(viewer=_user(request), review=review, action_public_id=action_id)
    outcome = "dropped" if request.POST.get("outcome") == "dropped" else "done"
    try:
        review_action_close(action=action, by=_user(request), outcome=outcome)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Action {'dropped' if outcome == 'dropped' else 'done'}: {action.title}")
    return redirect("incidents:review", public_id=public_id)

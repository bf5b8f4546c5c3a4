"""Survey pages: the signed-link pages a customer opens from the email, and the staff pages.

The link pages need no sign-in: the signed token is the credential, and it names one invitation only.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from serviceloop.core.errors import DomainError
from serviceloop.core.pagination import paginate
from serviceloop.feedback import links
from serviceloop.feedback.forms import FollowUpForm, StreamFilterForm, SurveyForm
from serviceloop.feedback.models import Invitation, Response, SurveyVersion
from serviceloop.feedback.queries import (
    LinkRefused,
    ResponseFilters,
    invitation_for_link,
    invitation_rates,
    response_stream,
    service_for_feedback,
    services_with_feedback,
    survey_for,
    surveys_visible,
)
from serviceloop.feedback.questions import SCALE_LABELS, score_band, score_choices
from serviceloop.feedback.services.invitations import (
    invitation_email_context,
    invitation_subject,
    person_opt_out,
)
from serviceloop.feedback.services.responses import (
    response_answer_link,
    response_for_invitation,
    response_update_followups,
)
from serviceloop.feedback.services.surveys import survey_create, survey_current_version, survey_update

View = Callable[..., HttpResponse]


def staff_page(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not getattr(request.user, "is_staff_member", False):
            raise PermissionDenied("Staff only.")
        return view(request, *args, **kwargs)

    return wrapper


def manager_page(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not getattr(request.user, "can_manage_services", False):
            raise PermissionDenied("Service managers and administrators only.")
        return view(request, *args, **kwargs)

    return wrapper


# ---- the pages a customer opens from the invitation email ----------------------------------------


def _refused(request: HttpRequest, refusal: LinkRefused) -> HttpResponse:
    # A friendly page, never a 500 and never another person's data: the token named nothing we show.
    return render(request, "feedback/link_refused.html", {"message": refusal.message}, status=refusal.status)


@require_http_methods(["GET", "HEAD"])
def survey_answer(request: HttpRequest, token: str) -> HttpResponse:
    """A click on a score button in the email records that score at once, then opens the follow-up page.

    Recording on GET is deliberate: mail clients only follow links with GET, and the promise is one
    click. It is idempotent (the same score again changes nothing; another score from the same
    invitation replaces it, as a later click should). Link scanners that only probe with HEAD record
    nothing; a scanner that follows every button leaves the last one, which the follow-up page shows
    with the buttons to correct it.
    """
    try:
        invitation, score = invitation_for_link(token)
    except LinkRefused as refusal:
        return _refused(request, refusal)
    if score is None or request.method == "HEAD":
        return _render_followup(request, invitation)
    try:
        response_answer_link(invitation=invitation, score=score)
    except DomainError as error:
        return _refused(request, LinkRefused(400, error.message))
    # The page itself, not a redirect: one round trip, and a reload only repeats the same answer.
    return _render_followup(request, invitation)


def _render_followup(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    response = Response.objects.filter(invitation=invitation).first()
    version = invitation.survey_version
    score = getattr(response, version.score_kind) if response else None
    form = FollowUpForm(initial=_followup_initial(response), version=version, score=score)
    return render(request, "feedback/survey_page.html", _followup_context(invitation, response, form, False))


def _followup_context(
    invitation: Invitation, response: Response | None, form: FollowUpForm, saved: bool
) -> dict[str, Any]:
    version = invitation.survey_version
    kind = version.score_kind
    score = getattr(response, kind) if response else None
    low, high = SCALE_LABELS.get(kind, ("", ""))
    return {
        "invitation": invitation,
        "service_name": invitation.service.name,
        "ticket": invitation.ticket,
        "question": version.first_question.get("text", ""),
        "score": score,
        "buttons": [(value, links.answer_url(invitation.public_id, value)) for value in score_choices(kind)],
        "low_label": low,
        "high_label": high,
        "form": form,
        "token": links.token_for(invitation.public_id),
        "opt_out_url": links.opt_out_url(invitation.public_id),
        "saved": saved,
        "preview": False,
    }


def _followup_initial(response: Response | None) -> dict[str, Any]:
    if response is None:
        return {}
    return {
        "lost_time_bucket": response.lost_time_bucket or "",
        "drivers": response.drivers,
        "comment": response.comment,
    }


@require_http_methods(["GET", "POST"])
def survey_page(request: HttpRequest, token: str) -> HttpResponse:
    """The follow-up page: each field saves as it is answered (htmx); a normal submit saves them all."""
    try:
        invitation, _ = invitation_for_link(token)
    except LinkRefused as refusal:
        return _refused(request, refusal)
    response = Response.objects.filter(invitation=invitation).first()
    version = invitation.survey_version
    score = getattr(response, version.score_kind) if response else None
    saved = False
    if request.method == "POST":
        form = FollowUpForm(request.POST, version=version, score=score)
        if form.is_valid():
            response = response or response_for_invitation(invitation=invitation)
            fields = {name: form.cleaned_data[name] for name in form.fields}
            if "lost_time_bucket" in fields:
                fields["lost_time_bucket"] = fields["lost_time_bucket"] or None
            response_update_followups(response=response, **fields)
            saved = True
    else:
        form = FollowUpForm(initial=_followup_initial(response), version=version, score=score)
    return render(request, "feedback/survey_page.html", _followup_context(invitation, response, form, saved))


@require_POST
def survey_field(request: HttpRequest, token: str, field: str) -> HttpResponse:
    """One follow-up field, saved as soon as it is answered (htmx). The CSRF token of the page is required too."""
    try:
        invitation, _ = invitation_for_link(token)
    except LinkRefused as refusal:
        return HttpResponse(refusal.message, status=refusal.status)
    if field not in ("lost_time_bucket", "drivers", "comment"):
        return HttpResponse("Unknown question.", status=400)
    version = invitation.survey_version
    response = Response.objects.filter(invitation=invitation).first()
    score = getattr(response, version.score_kind) if response else None
    form = FollowUpForm(request.POST, version=version, score=score)
    if field not in form.fields:
        return HttpResponse("This survey does not ask that.", status=400)
    form.is_valid()
    if field in form.errors:
        return HttpResponse(" ".join(str(e) for e in form.errors[field]), status=422)
    value = form.cleaned_data[field]
    response = response or response_for_invitation(invitation=invitation)
    values: dict[str, Any] = {field: (value or None) if field == "lost_time_bucket" else value}
    response_update_followups(response=response, **values)
    return HttpResponse('<span class="badge ok">Saved</span>')


# RFC 8058 one-click unsubscribe: mail clients POST here without our CSRF token. The signed token is
# the credential, and all it can do is stop invitations to the one person it names.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def survey_opt_out(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation, _ = invitation_for_link(token)
    except LinkRefused as refusal:
        return _refused(request, refusal)
    done = False
    if request.method == "POST":
        person_opt_out(person=invitation.person)
        done = True
    return render(
        request,
        "feedback/opt_out.html",
        {"done": done or invitation.person.survey_opt_out, "token": token, "service_name": invitation.service.name},
    )


# ---- staff pages --------------------------------------------------------------------------------


@staff_page
def home(request: HttpRequest) -> HttpResponse:
    services = services_with_feedback(viewer=request.user)
    return render(request, "feedback/home.html", {"page_obj": paginate(request, services)})


@staff_page
def service_stream(request: HttpRequest, public_id: str) -> HttpResponse:
    service = service_for_feedback(viewer=request.user, public_id=public_id)
    form = StreamFilterForm(request.GET or None)
    filters = ResponseFilters(service=service.public_id)
    if form.is_valid():
        data = form.cleaned_data
        organisation = data.get("organisation")
        filters = ResponseFilters(
            service=service.public_id,
            channel=data.get("channel") or None,
            band=data.get("band") or None,
            sentiment=data.get("sentiment") or None,
            driver=data.get("driver") or None,
            organisation=organisation.public_id if organisation else None,
            period=data.get("period") or None,
        )
    page_obj = paginate(request, response_stream(viewer=request.user, filters=filters))
    query = request.GET.copy()
    query.pop("page", None)
    rows = [
        (response, score_band(response.score_kind or "", response.score), _ticket_url(response))
        for response in page_obj
    ]
    return render(
        request,
        "feedback/service_stream.html",
        {
            "service": service,
            "form": form,
            "page_obj": page_obj,
            "rows": rows,
            "query": query.urlencode(),
            "rates": invitation_rates(service=service),
        },
    )


def _ticket_url(response: Response) -> str | None:
    # The desk's ticket page (desk:ticket_detail, by public id) once the desk app routes it.
    if response.ticket is None:
        return None
    try:
        return reverse("desk:ticket_detail", kwargs={"public_id": response.ticket.public_id})
    except NoReverseMatch:
        return None


@staff_page
def survey_list(request: HttpRequest) -> HttpResponse:
    surveys = surveys_visible(viewer=request.user, service=request.GET.get("service") or None)
    return render(request, "feedback/survey_list.html", {"page_obj": paginate(request, surveys)})


@manager_page
def survey_create_page(request: HttpRequest) -> HttpResponse:
    form = SurveyForm(
        request.POST or None,
        initial={"is_active": True, "ask_lost_time": True, "ask_drivers": True, "ask_comment": True},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            survey = survey_create(
                service=data["service"],
                offering=data["offering"],
                name=data["name"],
                kind=data["kind"],
                is_active=data["is_active"],
                intro=data["intro"],
                questions=form.questions(),
                by=request.user,  # type: ignore[arg-type]
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, f"Survey “{survey.name}” created.")
            return redirect("feedback:survey_detail", public_id=survey.public_id)
    return render(request, "feedback/survey_form.html", {"form": form, "survey": None})


@manager_page
def survey_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    survey = survey_for(viewer=request.user, public_id=public_id)
    version = survey_current_version(survey)
    form = SurveyForm(request.POST or None, initial=SurveyForm.initial_from(version))
    # Where a survey belongs is fixed once it exists; its questions and name may change.
    for name in ("service", "offering", "kind"):
        form.fields[name].disabled = True
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            survey_update(
                survey=survey,
                name=data["name"],
                is_active=data["is_active"],
                intro=data["intro"],
                questions=form.questions(),
                by=request.user,  # type: ignore[arg-type]
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            now_version = survey_current_version(survey)
            note = f" (now version {now_version.number})" if now_version.number != version.number else ""
            messages.success(request, f"Survey saved{note}.")
            return redirect("feedback:survey_detail", public_id=survey.public_id)
    return render(request, "feedback/survey_form.html", {"form": form, "survey": survey})


# What the preview's links carry instead of a signed invitation token.
PREVIEW_LINK = "preview"


def _preview_page_context(version: SurveyVersion) -> dict[str, Any]:
    kind = version.score_kind
    example = score_choices(kind)[-2]
    low, high = SCALE_LABELS.get(kind, ("", ""))
    return {
        "service_name": version.survey.service.name,
        "ticket": None,
        "question": version.first_question.get("text", ""),
        "score": example,
        "buttons": [(value, "#") for value in score_choices(kind)],
        "low_label": low,
        "high_label": high,
        "form": FollowUpForm(version=version, score=example),
        "token": PREVIEW_LINK,
        "opt_out_url": "#",
        "saved": False,
        "preview": True,
    }


@staff_page
def survey_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """The design with a preview of the email and of the follow-up page, as the customer will see them."""
    survey = survey_for(viewer=request.user, public_id=public_id)
    version = survey_current_version(survey)
    email_context = invitation_email_context(None, version, preview=True)
    return render(
        request,
        "feedback/survey_detail.html",
        {
            "survey": survey,
            "version": version,
            "versions": survey.versions.order_by("-number"),
            "email_subject": invitation_subject(None, version),
            "email_text": render_to_string("feedback/email/invitation.txt", email_context),
            "page_html": render_to_string("feedback/_followup.html", _preview_page_context(version), request=request),
        },
    )


@staff_page
@xframe_options_sameorigin
def survey_email_preview(request: HttpRequest, public_id: str) -> HttpResponse:
    """The invitation email's HTML, framed by the survey's page (sandboxed, no script).

    A page of its own because a mail's styles are inline (mail clients need them), which the
    Content-Security-Policy of our pages refuses; this document allows inline styles and nothing else.
    """
    survey = survey_for(viewer=request.user, public_id=public_id)
    version = survey_current_version(survey)
    email_context = invitation_email_context(None, version, preview=True)
    response = HttpResponse(render_to_string("feedback/email/_invitation_body.html", email_context))
    response["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox"
    )
    return response


urlpatterns: list[URLPattern] = [
    path("r/<str:token>/", survey_answer, name="survey_answer"),
    path("s/<str:token>/", survey_page, name="survey_page"),
    path("s/<str:token>/field/<str:field>/", survey_field, name="survey_field"),
    path("s/<str:token>/opt-out/", survey_opt_out, name="survey_opt_out"),
    path("", home, name="home"),
    path("services/<str:public_id>/", service_stream, name="service_stream"),
    path("surveys/", survey_list, name="survey_list"),
    path("surveys/new/", survey_create_page, name="survey_create"),
    path("surveys/<str:public_id>/", survey_detail, name="survey_detail"),
    path("surveys/<str:public_id>/edit/", survey_edit, name="survey_edit"),
    path("surveys/<str:public_id>/email-preview/", survey_email_preview, name="survey_email_preview"),
]

"""Survey pages: the signed-link pages a customer opens from the email, and the staff pages.

The link pages need no sign-in: the signed token is the credential, and it names one invitation only.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import URLPattern, path, reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from serviceloop.core.errors import DomainError
from serviceloop.core.pagination import paginate
from serviceloop.core.ratelimit import by_ip, client_ip, rate_limit
from serviceloop.feedback import links
from serviceloop.feedback.forms import FollowUpForm, StreamFilterForm, SurveyForm
from serviceloop.feedback.models import Channel, Invitation, Response, SentimentLabel, SurveyKind, SurveyVersion
from serviceloop.feedback.queries import (
    LinkAnswer,
    LinkRefused,
    ResponseFilters,
    invitation_for_link,
    invitation_rates,
    link_answer_shown,
    response_stream,
    responses_by_channel,
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
from serviceloop.feedback.services.link_clicks import (
    link_click_confirm,
    link_click_confirm_pending,
    link_click_record,
)
from serviceloop.feedback.services.responses import (
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


# Headers with which browsers and mail clients announce a fetch no person asked for.
_PREFETCH_HEADERS = ("Purpose", "Sec-Purpose", "X-Purpose", "X-Moz")


def _is_prefetch(request: HttpRequest) -> bool:
    values = " ".join(request.headers.get(name, "") for name in _PREFETCH_HEADERS).lower()
    return "prefetch" in values or "preview" in values or "prerender" in values


def _by_ip_and_link(request: HttpRequest, token: str) -> str:
    # Per link and address: a mail gateway fetching every button of many invitations for its users
    # spends one small count per link, not one shared count that would refuse the people behind it.
    return f"{client_ip(request)}|{token[:300]}"


@require_http_methods(["GET", "HEAD"])
@rate_limit(("survey_link", _by_ip_and_link), ("survey_link_ip", by_ip))
def survey_answer(request: HttpRequest, token: str) -> HttpResponse:
    """A click on a score button in the email: the score is taken, then the follow-up page opens.

    Taking it on GET is deliberate: mail clients only follow links with GET, and the promise is one
    click. The click is provisional for SERVICELOOP_SURVEY_SCANNER_SECONDS and then counts (see
    services/link_clicks.py); when another button of the invitation is fetched within that window
    (a link scanner fetches them all), nothing counts until a person confirms on the page. HEAD
    requests and prefetches (Purpose/Sec-Purpose headers) take nothing.
    """
    try:
        invitation, score = invitation_for_link(token)
    except LinkRefused as refusal:
        return _refused(request, refusal)
    if score is None or request.method == "HEAD" or _is_prefetch(request):
        return _render_followup(request, invitation)
    try:
        outcome = link_click_record(invitation=invitation, score=score)
    except DomainError as error:
        return _refused(request, LinkRefused(400, error.message))
    # The page itself, not a redirect: one round trip, and a reload only repeats the same click.
    shown = LinkAnswer(score=outcome.score, needs_confirmation=outcome.needs_confirmation)
    return _render_followup(request, invitation, shown=shown)


def _render_followup(
    request: HttpRequest, invitation: Invitation, *, shown: LinkAnswer | None = None, status: int = 200
) -> HttpResponse:
    response = Response.objects.filter(invitation=invitation).first()
    shown = shown or link_answer_shown(invitation, response)
    form = FollowUpForm(initial=_followup_initial(response), version=invitation.survey_version, score=shown.score)
    context = _followup_context(invitation, shown, form, False)
    return render(request, "feedback/survey_page.html", context, status=status)


def _followup_context(invitation: Invitation, shown: LinkAnswer, form: FollowUpForm, saved: bool) -> dict[str, Any]:
    version = invitation.survey_version
    kind = version.score_kind
    low, high = SCALE_LABELS.get(kind, ("", ""))
    token = links.token_for(invitation.public_id)
    return {
        "invitation": invitation,
        "service_name": invitation.service.name,
        "ticket": invitation.ticket,
        "question": version.first_question.get("text", ""),
        "score": None if shown.needs_confirmation else shown.score,
        "to_confirm": shown.score if shown.needs_confirmation else None,
        "needs_confirmation": shown.needs_confirmation,
        "scale": score_choices(kind),
        "confirm_url": reverse("feedback:survey_confirm", kwargs={"token": token}),
        "low_label": low,
        "high_label": high,
        "form": form,
        "token": token,
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


@require_POST
def survey_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """A score chosen on the page (POST with the page's CSRF token): a person, so it is recorded at once.

    The page's own buttons post here, and so does "Confirm" when a scanner's fetches held the answer.
    """
    try:
        invitation, _ = invitation_for_link(token)
    except LinkRefused as refusal:
        return _refused(request, refusal)
    scale = score_choices(invitation.survey_version.score_kind)
    raw = request.POST.get("score", "")
    # ASCII digits only, and short: "²".isdigit() is true, and int() of 5,000 digits raises.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3) or int(raw) not in scale:
        return _refused(request, LinkRefused(422, f"Choose a score from {scale[0]} to {scale[-1]}."))
    try:
        response = link_click_confirm(invitation=invitation, score=int(raw))
    except DomainError as error:
        return _refused(request, LinkRefused(error.status, error.message))
    shown = LinkAnswer(score=getattr(response, invitation.survey_version.score_kind), needs_confirmation=False)
    return _render_followup(request, invitation, shown=shown)


@require_http_methods(["GET", "POST"])
def survey_page(request: HttpRequest, token: str) -> HttpResponse:
    """The follow-up page: each field saves as it is answered (htmx); a normal submit saves them all."""
    try:
        invitation, _ = invitation_for_link(token)
    except LinkRefused as refusal:
        return _refused(request, refusal)
    if request.method == "POST":
        # A person answering on the page that showed their click: the click counts now.
        link_click_confirm_pending(invitation=invitation)
    response = Response.objects.filter(invitation=invitation).first()
    shown = link_answer_shown(invitation, response)
    version = invitation.survey_version
    saved = False
    if request.method == "POST":
        form = FollowUpForm(request.POST, version=version, score=shown.score)
        if form.is_valid():
            response = response or response_for_invitation(invitation=invitation)
            fields = {name: form.cleaned_data[name] for name in form.fields}
            if "lost_time_bucket" in fields:
                fields["lost_time_bucket"] = fields["lost_time_bucket"] or None
            response_update_followups(response=response, **fields)
            saved = True
    else:
        form = FollowUpForm(initial=_followup_initial(response), version=version, score=shown.score)
    return render(request, "feedback/survey_page.html", _followup_context(invitation, shown, form, saved))


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
    link_click_confirm_pending(invitation=invitation)
    response = Response.objects.filter(invitation=invitation).first()
    score = link_answer_shown(invitation, response).score
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
    page_obj = paginate(request, services_with_feedback(viewer=request.user))
    rows = [(service, [getattr(service, f"channel_{value}") for value in Channel.values]) for service in page_obj]
    return render(
        request,
        "feedback/home.html",
        {"page_obj": page_obj, "rows": rows, "channels": responses_by_channel(viewer=request.user)},
    )


@staff_page
def service_stream(request: HttpRequest, public_id: str) -> HttpResponse:
    service = service_for_feedback(viewer=request.user, public_id=public_id)
    form = StreamFilterForm(request.GET or None, service=service)
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
            since=data.get("since"),
            until=data.get("until"),
            offering=offering.public_id if (offering := data.get("offering")) else None,
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
            "correction_labels": SentimentLabel.choices,
        },
    )


def _ticket_url(response: Response) -> str | None:
    """The desk's ticket page: the stream is a staff page, and staff may open every ticket."""
    if response.ticket is None:
        return None
    return reverse("desk:ticket", kwargs={"public_id": response.ticket.public_id})


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
        "to_confirm": None,
        "needs_confirmation": False,
        "scale": score_choices(kind),
        "confirm_url": "#",
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
            # After a resolve the desk's notice carries the survey (one mail): say so beside the preview.
            "inside_notice": survey.kind == SurveyKind.TRANSACTIONAL and settings.SERVICELOOP_MAIL_NOTIFY,
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
    path("s/<str:token>/confirm/", survey_confirm, name="survey_confirm"),
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

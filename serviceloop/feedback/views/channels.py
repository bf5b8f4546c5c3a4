"""Pages of the channels: the widget frame, the public "How was it?" page and its QR code, posts,
the inbox of unmatched posts, matching rules, webhook sources, sentiment corrections and calibration.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

import segno
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from serviceloop.catalogue.models import Offering, Service
from serviceloop.core.access import local_next, staff_required
from serviceloop.core.errors import ConflictError, DomainError
from serviceloop.core.pagination import paginate
from serviceloop.core.ratelimit import by_ip, by_url, client_ip, rate_limit
from serviceloop.feedback.channel_forms import (
    AssignForm,
    CorrectionForm,
    MatchRuleForm,
    PostSourceForm,
    PublicAnswerForm,
    WidgetSiteForm,
)
from serviceloop.feedback.channel_guards import TicketRefused, qr_client_key, ticket_issue, ticket_read
from serviceloop.feedback.channel_queries import (
    corrections_by_label,
    match_rule_for,
    match_rules_of,
    post_for,
    post_inbox,
    post_source_for,
    post_sources,
    posts_of,
    public_service,
    public_widget_site,
    response_for_correction,
    sentiment_corrections,
    service_for,
    services_for_choice,
    widget_site_for,
    widget_sites,
)
from serviceloop.feedback.models import QuestionKind, SentimentLabel, SentimentSettings, WidgetSite
from serviceloop.feedback.services.channels import (
    PUBLIC_KINDS,
    normalise_origin,
    qr_response_record,
    widget_response_record,
    widget_site_create,
    widget_site_update,
)
from serviceloop.feedback.services.posts import (
    match_rule_create,
    match_rule_delete,
    post_assign,
    post_dismiss,
    post_source_delete,
    post_source_set,
)
from serviceloop.feedback.services.sentiment_labels import (
    CALIBRATION_MINIMUM,
    current_thresholds,
    sentiment_calibrate,
    sentiment_correct,
)

View = Callable[..., HttpResponse]
LABEL_CHOICES = SentimentLabel.choices


def _scale(kind: str) -> list[int]:
    return list(range(0, 11)) if kind == QuestionKind.HAPPINESS else list(range(1, 6))


# ---- the widget --------------------------------------------------------------------------------


def _origin_of(url: str) -> str | None:
    try:
        return normalise_origin(url) if url else None
    except DomainError:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else None


def _well_formed(origin: str) -> bool:
    try:
        return normalise_origin(origin) == origin
    except DomainError:
        return False


def _own_origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}".lower()


def _frame_headers(response: HttpResponse, site: WidgetSite) -> HttpResponse:
    # Only well-formed origins reach the header (rows written before host names were checked included).
    ancestors = " ".join(origin for origin in site.allowed_origins if _well_formed(origin)) or "'none'"
    response["Content-Security-Policy"] = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        f"form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}"
    )
    response["Referrer-Policy"] = "same-origin"
    return response


def _submit_refusal(request: HttpRequest, site: WidgetSite) -> str | None:
    """Why this POST may not answer for the site (None: it may), from the Origin and Referer the browser sent.

    The sender is the Origin header (or the Referer's origin when a browser sends no Origin); when
    both are sent they must agree. It must be our own origin — the widget's frame, and then the
    frame of this very site — or one of the site's allowed origins. Nothing in the form names an
    origin: what a client writes into a body is never taken for where it came from.
    """
    origin = _origin_of(request.headers.get("Origin", ""))
    if origin is None and request.headers.get("Origin"):
        # `Origin: null` (a sandboxed or privacy-stripped context) names no site, whatever the Referer says.
        return "This page may not send answers to this widget."
    referer = request.headers.get("Referer", "")
    referer_origin = _origin_of(referer)
    if origin is not None and referer_origin is not None and origin != referer_origin:
        return "The request's Origin and Referer name different sites."
    sender = origin or referer_origin
    if sender is None:
        return "This page may not send answers to this widget."
    if sender == _own_origin(request):
        if referer and urlsplit(referer).path != reverse("feedback:widget_frame", args=[site.key]):
            return "This form belongs to another feedback widget."
        return None
    if sender not in site.allowed_origins:
        return "This page may not send answers to this widget."
    return None


def _widget_submit(request: HttpRequest, site: WidgetSite) -> HttpResponse | PublicAnswerForm:
    """Check and store a widget answer; the refusal's page, or the bound form when its input was refused."""
    refusal = _submit_refusal(request, site)
    if refusal is not None:
        return _frame_headers(HttpResponseForbidden(refusal), site)
    try:
        ticket = ticket_read(request.POST.get("ticket", ""), site_key=site.key, origins=site.allowed_origins)
    except TicketRefused as error:
        return _frame_headers(HttpResponseForbidden(error.message), site)
    sender = _origin_of(request.headers.get("Origin", "")) or _origin_of(request.headers.get("Referer", ""))
    if ticket.embedder and sender not in (ticket.embedder, _own_origin(request)):
        return _frame_headers(HttpResponseForbidden("This form was shown on another page."), site)
    form = PublicAnswerForm(request.POST)
    if not form.is_valid():
        return form
    try:
        widget_response_record(
            site=site, score=form.cleaned_data["score"], comment=form.cleaned_data["comment"], ticket_nonce=ticket.nonce
        )
    except ConflictError as error:
        context = {"site": site, "thanks": True, "repeat": error.message}
        return _frame_headers(render(request, "feedback/channels/widget_frame.html", context, status=409), site)
    except DomainError as error:
        form.add_error("score" if error.field == "score" else None, error.message)
        return form
    return _frame_headers(render(request, "feedback/channels/widget_frame.html", {"site": site, "thanks": True}), site)


@csrf_exempt
@xframe_options_exempt
@rate_limit(("widget_ip", by_ip), ("widget_site", by_url("key")), methods=["POST"])
def widget_frame(request: HttpRequest, key: str) -> HttpResponse:
    """The page inside the widget's iframe, on a host page of one of the site's allowed origins.

    Why no CSRF token: the frame is a third-party context in the host page, where browsers do not
    send our (SameSite) CSRF cookie. The credential is instead the site key plus the origin: the
    iframe may only be framed by the site's allowed origins (its own frame-ancestors, enforced by the
    browser), the page is refused when the Referer of the framing page names another origin, and the
    POST must come from this site's frame (Origin = serviceloop) or straight from an allowed origin,
    carrying a signed ticket issued with the form: bound to this site and its origins, used once
    (channel_guards.py). The answer is anonymous feedback, as on the public QR page; nothing is
    changed on anybody's behalf.
    """
    site = public_widget_site(key=key)
    allowed = set(site.allowed_origins)
    if request.method == "POST":
        outcome = _widget_submit(request, site)
        if isinstance(outcome, HttpResponse):
            return outcome
        form = outcome
    else:
        referer_origin = _origin_of(request.headers.get("Referer", ""))
        if referer_origin is not None and referer_origin not in allowed | {_own_origin(request)}:
            return _frame_headers(HttpResponseForbidden("This page may not show this widget."), site)
        form = PublicAnswerForm()
    embedder = _origin_of(request.headers.get("Referer", ""))
    context = {
        "site": site,
        "form": form,
        "scale": _scale(site.question),
        "ticket": ticket_issue(
            site_key=site.key, origins=site.allowed_origins, embedder=embedder if embedder in allowed else None
        ),
        "question": "How satisfied are you with {}?" if site.question == QuestionKind.CSAT else "How was {}?",
    }
    return _frame_headers(
        render(
            request,
            "feedback/channels/widget_frame.html",
            context,
            status=200 if form.is_bound is False or form.is_valid() else 422,
        ),
        site,
    )


@staff_required
def widget_site_list(request: HttpRequest) -> HttpResponse:
    form = WidgetSiteForm(request.POST or None)
    if request.method == "POST":
        if not request.user.can_manage_services:  # type: ignore[union-attr]
            raise PermissionDenied("Only service managers may add widget sites.")
        if form.is_valid():
            try:
                site = widget_site_create(
                    name=form.cleaned_data["name"],
                    service=form.cleaned_data["service"],
                    offering=form.cleaned_data["offering"],
                    allowed_origins=form.origins(),
                    question=form.cleaned_data["question"],
                    by=request.user,  # type: ignore[arg-type]
                )
                messages.success(request, f"Widget site “{site.name}” added; paste the snippet into its pages.")
                return redirect("feedback:widget_site", key=site.key)
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
    page = paginate(request, widget_sites(viewer=request.user))
    return render(request, "feedback/channels/widget_sites.html", {"form": form, "page_obj": page})


@staff_required
def widget_site_detail(request: HttpRequest, key: str) -> HttpResponse:
    site = widget_site_for(viewer=request.user, key=key)
    initial = {
        "name": site.name,
        "service": site.service.public_id,
        "offering": site.offering.public_id if site.offering else None,
        "allowed_origins": "\n".join(site.allowed_origins),
        "question": site.question,
        "is_active": site.is_active,
    }
    form = WidgetSiteForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not request.user.can_manage_services:  # type: ignore[union-attr]
            raise PermissionDenied("Only service managers may change widget sites.")
        if form.is_valid():
            try:
                widget_site_update(
                    site=site,
                    name=form.cleaned_data["name"],
                    allowed_origins=form.origins(),
                    question=form.cleaned_data["question"],
                    is_active=form.cleaned_data["is_active"],
                    by=request.user,  # type: ignore[arg-type]
                )
                messages.success(request, "Widget site saved.")
                return redirect("feedback:widget_site", key=site.key)
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
    script = f"{settings.SITE_URL}{settings.STATIC_URL}feedback/widget.js"
    snippet = f'<script src="{script}" data-site="{site.key}" async></script>'
    return render(request, "feedback/channels/widget_site.html", {"site": site, "form": form, "snippet": snippet})


# ---- the public "How was it?" page and its QR code ------------------------------------------


def _public_kind(request: HttpRequest) -> str:
    kind = request.GET.get("scale", QuestionKind.HAPPINESS)
    return kind if kind in PUBLIC_KINDS else QuestionKind.HAPPINESS


def _qr_client(request: HttpRequest, service: Service, offering: Offering | None) -> str:
    # The page is the QR code (service and offering), not its scale: ?scale= must not open a second door.
    page = service.public_id + (f"/{offering.public_id}" if offering else "")
    return qr_client_key(address=client_ip(request), user_agent=request.headers.get("User-Agent", ""), page=page)


def _qr_page(request: HttpRequest, service: Service, offering: Offering | None) -> HttpResponse:
    kind = _public_kind(request)
    form = PublicAnswerForm(request.POST or None)
    context: dict[str, Any] = {"service": service, "offering": offering, "scale": _scale(kind), "kind": kind}
    if request.method == "POST":
        if form.is_valid():
            try:
                qr_response_record(
                    service=service,
                    offering=offering,
                    kind=kind,
                    score=form.cleaned_data["score"],
                    comment=form.cleaned_data["comment"],
                    client=_qr_client(request, service, offering),
                )
                return render(request, "feedback/channels/qr_public.html", {**context, "thanks": True})
            except ConflictError:
                # One answer per client per page within SERVICELOOP_QR_REPEAT_SECONDS; the repeat is not stored.
                return render(
                    request,
                    "feedback/channels/qr_public.html",
                    {**context, "thanks": True, "repeat": True},
                    status=409,
                )
            except DomainError as error:
                form.add_error("score" if error.field == "score" else None, error.message)
        return render(request, "feedback/channels/qr_public.html", {**context, "form": form}, status=422)
    return render(request, "feedback/channels/qr_public.html", {**context, "form": form})


_qr_limits = rate_limit(("qr_ip", by_ip), ("qr_page", by_url("service_id", "offering_id")), methods=["POST"])


@_qr_limits
def qr_public(request: HttpRequest, service_id: str) -> HttpResponse:
    service, _ = public_service(public_id=service_id)
    return _qr_page(request, service, None)


@_qr_limits
def qr_public_offering(request: HttpRequest, service_id: str, offering_id: str) -> HttpResponse:
    service, offering = public_service(public_id=service_id, offering_public_id=offering_id)
    return _qr_page(request, service, offering)


def _public_url(service: Service, offering: Offering | None, kind: str) -> str:
    if offering is None:
        url = reverse("feedback:qr_public", kwargs={"service_id": service.public_id})
    else:
        url = reverse(
            "feedback:qr_public_offering", kwargs={"service_id": service.public_id, "offering_id": offering.public_id}
        )
    query = "" if kind == QuestionKind.HAPPINESS else "?" + urlencode({"scale": kind})
    return f"{settings.SITE_URL}{url}{query}"


@staff_required
def service_qr(request: HttpRequest, public_id: str) -> HttpResponse:
    """The printable QR code of a service's (or offering's) public page, as SVG."""
    service = service_for(viewer=request.user, public_id=public_id)
    offering = None
    if request.GET.get("offering"):
        offering = Offering.objects.filter(service=service, public_id=request.GET["offering"]).first()
    kind = _public_kind(request)
    url = _public_url(service, offering, kind)
    qr = segno.make(url, error="m")
    if request.GET.get("download"):
        response = HttpResponse(qr.svg_inline(scale=10, border=4), content_type="image/svg+xml")
        response["Content-Disposition"] = f'attachment; filename="how-was-it-{service.slug}.svg"'
        return response
    context = {
        "service": service,
        "offering": offering,
        "offerings": service.offerings.all(),
        "kind": kind,
        "url": url,
        "svg": qr.svg_inline(scale=8, border=4, title=f"How was {service.name}?"),
    }
    return render(request, "feedback/channels/service_qr.html", context)


# ---- posts, the inbox, rules ----------------------------------------------------------------


@staff_required
def posts_inbox(request: HttpRequest) -> HttpResponse:
    page = paginate(request, post_inbox(viewer=request.user))
    return render(
        request,
        "feedback/channels/inbox.html",
        {
            "page_obj": page,
            "services": services_for_choice(),
            "correction_labels": LABEL_CHOICES,
        },  # type: ignore[attr-defined]
    )


@staff_required
@require_POST
def post_assign_view(request: HttpRequest, public_id: str) -> HttpResponse:
    post = post_for(viewer=request.user, public_id=public_id)
    form = AssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the service this post is about.")
        return redirect("feedback:posts_inbox")
    post_assign(post=post, service=form.cleaned_data["service"], by=request.user)  # type: ignore[arg-type]
    messages.success(request, f"Post assigned to {form.cleaned_data['service'].name}.")
    return redirect("feedback:posts_inbox")


@staff_required
@require_POST
def post_dismiss_view(request: HttpRequest, public_id: str) -> HttpResponse:
    post = post_for(viewer=request.user, public_id=public_id)
    try:
        post_dismiss(post=post, by=request.user)  # type: ignore[arg-type]
        messages.success(request, "Post dismissed.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("feedback:posts_inbox")


@staff_required
def service_posts(request: HttpRequest, public_id: str) -> HttpResponse:
    """A service's posts and its matching rules (rules are added by service managers)."""
    service = service_for(viewer=request.user, public_id=public_id)
    form = MatchRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            match_rule_create(
                service=service,
                kind=form.cleaned_data["kind"],
                pattern=form.cleaned_data["pattern"],
                case_sensitive=form.cleaned_data["case_sensitive"],
                by=request.user,  # type: ignore[arg-type]
            )
            messages.success(request, "Rule added; waiting posts it matches left the inbox.")
            return redirect("feedback:service_posts", public_id=service.public_id)
        except DomainError as error:
            if error.status == 403:
                raise PermissionDenied(error.message)
            form.add_error(error.field if error.field in form.fields else None, error.message)
    page = paginate(request, posts_of(viewer=request.user, service=service))
    context = {
        "service": service,
        "page_obj": page,
        "rules": match_rules_of(viewer=request.user, service=service),
        "form": form,
        "correction_labels": LABEL_CHOICES,
    }
    return render(request, "feedback/channels/service_posts.html", context, status=422 if form.errors else 200)


@staff_required
@require_POST
def match_rule_delete_view(request: HttpRequest, public_id: str, pk: int) -> HttpResponse:
    service = service_for(viewer=request.user, public_id=public_id)
    rule = match_rule_for(viewer=request.user, service=service, pk=pk)
    try:
        match_rule_delete(rule=rule, by=request.user)  # type: ignore[arg-type]
    except DomainError as error:
        raise PermissionDenied(error.message)
    messages.success(request, f"Rule {rule.pattern} removed.")
    return redirect("feedback:service_posts", public_id=service.public_id)


@staff_required
def post_source_list(request: HttpRequest) -> HttpResponse:
    form = PostSourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            post_source_set(
                name=form.cleaned_data["name"],
                secret=form.cleaned_data["secret"],
                by=request.user,  # type: ignore[arg-type]
            )
            messages.success(request, f"Source {form.cleaned_data['name']} saved.")
            return redirect("feedback:post_sources")
        except DomainError as error:
            if error.status == 403:
                raise PermissionDenied(error.message)
            form.add_error(error.field if error.field in form.fields else None, error.message)
    context = {
        "form": form,
        "sources": post_sources(viewer=request.user),
        "webhook_url": f"{settings.SITE_URL}/api/feedback/posts/webhook",
        "env_secret": bool(settings.SERVICELOOP_POST_WEBHOOK_SECRET),
    }
    return render(request, "feedback/channels/post_sources.html", context, status=422 if form.errors else 200)


@staff_required
@require_POST
def post_source_delete_view(request: HttpRequest, name: str) -> HttpResponse:
    source = post_source_for(viewer=request.user, name=name)
    try:
        post_source_delete(source=source, by=request.user)  # type: ignore[arg-type]
    except DomainError as error:
        raise PermissionDenied(error.message)
    messages.success(request, f"Source {name} removed; its webhook calls are refused from now on.")
    return redirect("feedback:post_sources")


# ---- sentiment: corrections and calibration -------------------------------------------------


@staff_required
@require_POST
def sentiment_correct_view(request: HttpRequest, subject: str, public_id: str) -> HttpResponse:
    """Correct the label of a response's comment or a post; htmx swaps the label in place."""
    form = CorrectionForm(request.POST)
    if subject not in ("post", "response"):
        raise Http404("No such kind of row.")
    row: Any = (
        post_for(viewer=request.user, public_id=public_id)
        if subject == "post"
        else response_for_correction(viewer=request.user, public_id=public_id)
    )
    if not form.is_valid():
        return HttpResponse("Choose positive, neutral or negative.", status=422)
    try:
        kwargs = {"post": row} if subject == "post" else {"response": row}
        sentiment_correct(by=request.user, label=form.cleaned_data["label"], **kwargs)  # type: ignore[arg-type]
    except DomainError as error:
        return HttpResponse(error.message, status=error.status)
    row.refresh_from_db()
    if request.headers.get("HX-Request"):
        return render(
            request,
            "feedback/channels/_sentiment.html",
            {"row": row, "subject": subject, "correction_labels": LABEL_CHOICES, "corrected": True},
        )
    messages.success(request, f"Label corrected to {form.cleaned_data['label']}.")
    return redirect(local_next(request, request.POST.get("next"), "feedback:posts_inbox"))


@staff_required
def sentiment_overview(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if not request.user.can_manage_services:  # type: ignore[union-attr]
            raise PermissionDenied("Only service managers may recalibrate sentiment.")
        result = sentiment_calibrate(by=request.user)  # type: ignore[arg-type]
        if result.enough:
            messages.success(
                request,
                f"Calibrated on {result.examples} corrections: positive ≥ {result.thresholds.positive}, "
                f"negative ≤ {result.thresholds.negative}.",
            )
        else:
            messages.warning(
                request,
                f"Only {result.examples} corrections so far; the defaults stay until there are {CALIBRATION_MINIMUM}.",
            )
        return redirect("feedback:sentiment")
    from serviceloop.feedback.sentiment import ANALYSER_VERSION

    context = {
        "thresholds": current_thresholds(),
        "settings_row": SentimentSettings.objects.filter(singleton=True).first(),
        "page_obj": paginate(request, sentiment_corrections(viewer=request.user)),
        "by_label": sorted(corrections_by_label(viewer=request.user).items()),
        "version": ANALYSER_VERSION,
        "minimum": CALIBRATION_MINIMUM,
    }
    return render(request, "feedback/channels/sentiment.html", context)


urlpatterns: list[URLPattern] = [
    path("w/<str:key>/", widget_frame, name="widget_frame"),
    path("q/<str:service_id>/", qr_public, name="qr_public"),
    path("q/<str:service_id>/<str:offering_id>/", qr_public_offering, name="qr_public_offering"),
    path("widgets/", widget_site_list, name="widget_sites"),
    path("widgets/<str:key>/", widget_site_detail, name="widget_site"),
    path("services/<str:public_id>/qr/", service_qr, name="service_qr"),
    path("services/<str:public_id>/posts/", service_posts, name="service_posts"),
    path("services/<str:public_id>/rules/<int:pk>/delete/", match_rule_delete_view, name="match_rule_delete"),
    path("posts/inbox/", posts_inbox, name="posts_inbox"),
    path("posts/sources/", post_source_list, name="post_sources"),
    path("posts/sources/<str:name>/delete/", post_source_delete_view, name="post_source_delete"),
    path("posts/<str:public_id>/assign/", post_assign_view, name="post_assign"),
    path("posts/<str:public_id>/dismiss/", post_dismiss_view, name="post_dismiss"),
    path("sentiment/", sentiment_overview, name="sentiment"),
    path("sentiment/correct/<str:subject>/<str:public_id>/", sentiment_correct_view, name="sentiment_correct"),
]

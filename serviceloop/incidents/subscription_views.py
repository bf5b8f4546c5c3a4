"""Public pages of status subscriptions: sign up, confirm, choose services, leave; the webhook guide.

No login: the signed confirmation link and the subscription's random token are the credentials. A
GET never changes anything (mail scanners fetch links); the buttons POST. The unsubscribe address
also takes the RFC 8058 one-click POST of mail clients, which carries no CSRF token.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from serviceloop.core.access import form_error
from serviceloop.core.errors import DomainError
from serviceloop.core.ratelimit import by_ip, rate_limit
from serviceloop.incidents.models import Subscription
from serviceloop.incidents.subscription_forms import ServicesForm, SubscribeForm, WebhookForm
from serviceloop.incidents.subscriptions import (
    email_subscribe,
    subscription_confirm,
    subscription_for_confirm_token,
    subscription_for_token,
    subscription_services_set,
    subscription_unsubscribe,
    webhook_request,
)
from serviceloop.incidents.webhooks import REPLAY_TOLERANCE_SECONDS, SIGNATURE_HEADER, TIMESTAMP_HEADER


def _refused(request: HttpRequest) -> HttpResponse:
    return render(request, "incidents/subscribe/link_refused.html", status=404)


@rate_limit(("status_subscribe_ip", by_ip), methods=["POST"])
@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    form = SubscribeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            email_subscribe(email=form.cleaned_data["email"], services=form.chosen())
        except DomainError as error:
            form_error(form, error)
        else:
            return redirect("status_subscribe:sent")
    return render(request, "incidents/subscribe/subscribe.html", {"form": form})


@rate_limit(("status_subscribe_ip", by_ip), methods=["POST"])
@require_http_methods(["GET", "POST"])
def webhook_subscribe(request: HttpRequest) -> HttpResponse:
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            webhook_request(
                url=form.cleaned_data["url"], owner_email=form.cleaned_data["owner_email"], services=form.chosen()
            )
        except DomainError as error:
            form_error(form, error)
        else:
            return redirect("status_subscribe:sent")
    return render(request, "incidents/subscribe/webhook_subscribe.html", {"form": form})


@require_GET
def sent(request: HttpRequest) -> HttpResponse:
    return render(request, "incidents/subscribe/sent.html")


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, signed: str) -> HttpResponse:
    subscription = subscription_for_confirm_token(signed)
    if subscription is None:
        return _refused(request)
    shown: str | None = None
    if request.method == "POST":
        first = subscription.confirmed_at is None
        subscription = subscription_confirm(subscription=subscription)
        # A webhook's secret is shown once, to whoever confirms it from the owner's mailbox.
        if first and subscription.kind == Subscription.Kind.WEBHOOK:
            shown = subscription.secret
    return render(
        request,
        "incidents/subscribe/confirm.html",
        {
            "subscription": subscription,
            "signed": signed,
            "done": subscription.confirmed_at is not None,
            "secret": shown,
        },
    )


def _manageable(token: str) -> Subscription | None:
    subscription = subscription_for_token(token)
    if subscription is None or subscription.kind != Subscription.Kind.EMAIL:
        return None
    if subscription.confirmed_at is None or subscription.unsubscribed_at is not None:
        return None
    return subscription


@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    subscription = _manageable(token)
    if subscription is None:
        return _refused(request)
    chosen = list(subscription.services.all())
    initial = {"scope": "some" if chosen else "all", "services": chosen}
    form = ServicesForm(request.POST or None, initial=initial)
    saved = False
    if request.method == "POST" and form.is_valid():
        try:
            subscription = subscription_services_set(subscription=subscription, services=form.chosen())
        except DomainError as error:
            form_error(form, error)
        else:
            saved = True
    return render(
        request, "incidents/subscribe/manage.html", {"subscription": subscription, "form": form, "saved": saved}
    )


# RFC 8058: mail clients POST here without our CSRF token. The random token is the credential, and
# all it can do is end the one subscription it names.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    subscription = subscription_for_token(token)
    if subscription is None:
        return _refused(request)
    if request.method == "POST":
        subscription = subscription_unsubscribe(subscription=subscription)
    return render(
        request,
        "incidents/subscribe/unsubscribe.html",
        {"subscription": subscription, "token": token, "done": subscription.unsubscribed_at is not None},
    )


@require_GET
def webhooks(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "incidents/subscribe/webhooks.html",
        {
            "signature_header": SIGNATURE_HEADER,
            "timestamp_header": TIMESTAMP_HEADER,
            "tolerance_minutes": REPLAY_TOLERANCE_SECONDS // 60,
        },
    )

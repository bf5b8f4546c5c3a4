"""Subscriptions to the public status page: every write (DOMAIN §6, docs/status-subscriptions.md).

Email: a sign-up on the public form mails a signed confirmation link and does nothing else; the
subscription counts from the click (double opt-in). The form answers the same whatever the address
(new, waiting for its confirmation, already subscribed), so it tells nobody who follows the page;
sign-ups are limited per client address (the view) and per email (here: past the limit nothing is
mailed, and the page still says the same). Every mail carries the subscription's token link to
leave (one click, RFC 8058) or choose other services.

Webhooks: created by staff (confirmed at once), disabled by the worker after repeated failures,
enabled again by staff; their deliveries are retried by staff when they failed for good.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse

from serviceloop.accounts.models import User
from serviceloop.catalogue.models import Service
from serviceloop.core import clock, ratelimit
from serviceloop.core.errors import ConflictError, InvalidInput
from serviceloop.core.events import event_record
from serviceloop.core.mail import OutboundEmail, email_queue
from serviceloop.incidents import events
from serviceloop.incidents.models import Component, Subscription, WebhookDelivery
from serviceloop.incidents.webhooks import kick, webhook_url_check

CONFIRM_SALT = "serviceloop.incidents.subscription-confirm"
# A confirmation link works this long; after it the address signs up again.
CONFIRM_DAYS = 7


def mail_domain() -> str:
    address = str(getattr(settings, "SERVICELOOP_MAIL_ADDRESS", "") or settings.DEFAULT_FROM_EMAIL)
    return address.rpartition("@")[2].strip(" >").lower() or "serviceloop.localhost"


def public_components() -> QuerySet[Component]:
    """The components a visitor may follow: the public ones, in the page's order."""
    return Component.objects.filter(is_public=True).select_related("service", "group")


def _public_services(services: Iterable[Service]) -> list[Service]:
    chosen = list(services)
    allowed = set(public_components().values_list("service_id", flat=True))
    refused = [service for service in chosen if service.pk not in allowed]
    if refused:
        raise InvalidInput("not_public", "Only services shown on the status page can be followed.", field="services")
    return chosen


# ---- links ----------------------------------------------------------------------------------------


def confirm_token(subscription: Subscription) -> str:
    # The issue time is ours (core.clock), so the week is counted on the clock every test moves.
    return signing.dumps({"t": subscription.token, "at": int(clock.now().timestamp())}, salt=CONFIRM_SALT)


def subscription_for_confirm_token(signed: str) -> Subscription | None:
    """The subscription a confirmation link names, None when forged, expired or gone."""
    try:
        payload = signing.loads(signed, salt=CONFIRM_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict):
        return None
    token, issued = payload.get("t"), payload.get("at")
    if not isinstance(token, str) or not isinstance(issued, int):
        return None
    if clock.now().timestamp() - issued > CONFIRM_DAYS * 86400:
        return None
    return Subscription.objects.filter(token=token, unsubscribed_at__isnull=True).first()


def subscription_for_token(token: str) -> Subscription | None:
    """The subscription of a manage or unsubscribe link (its random token), None when unknown."""
    if not token or len(token) > 64:
        return None
    return Subscription.objects.filter(token=token).prefetch_related("services").first()


def _absolute(name: str, **kwargs: str) -> str:
    return settings.SITE_URL + reverse(f"status_subscribe:{name}", kwargs=kwargs)


def manage_url(subscription: Subscription) -> str:
    return _absolute("manage", token=subscription.token)


def unsubscribe_url(subscription: Subscription) -> str:
    return _absolute("unsubscribe", token=subscription.token)


def unsubscribe_headers(subscription: Subscription) -> dict[str, str]:
    """List-Unsubscribe for every status mail: one POST to the link ends the subscription (RFC 8058)."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(subscription)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


# ---- email sign-up --------------------------------------------------------------------------------


def _mail(subscription: Subscription, template: str, subject: str, **context: object) -> OutboundEmail:
    context = {
        "subscription": subscription,
        "services": list(subscription.services.order_by("name")),
        "manage_url": manage_url(subscription),
        "unsubscribe_url": unsubscribe_url(subscription),
        "site_url": settings.SITE_URL,
        **context,
    }
    return OutboundEmail(
        to=[subscription.email or subscription.owner_email],
        subject=subject,
        text=render_to_string(f"incidents/email/{template}.txt", context),
        html=render_to_string(f"incidents/email/{template}.html", context),
        headers=unsubscribe_headers(subscription),
    )


def email_subscribe(*, email: str, services: Iterable[Service] = ()) -> None:
    """Someone asked to follow the status page at `email` (all services, or those given).

    Returns nothing on purpose: the page must answer alike for every address. A new or unconfirmed
    address is mailed a confirmation link (its choice of services replaces an earlier one); a
    confirmed one is mailed its manage link instead, and its choice is not changed by a stranger.
    """
    address = email.strip().lower()
    if not address or "@" not in address or len(address) > 254:
        raise InvalidInput("email", "Enter an email address.", field="email")
    chosen = _public_services(services)
    # Counted for every address, known or not: the same work and the same answer for all.
    if ratelimit.hit("status_subscribe_email", address).refused:
        return
    with transaction.atomic():
        subscription = _current(address)
        if subscription is None:
            try:
                with transaction.atomic():
                    subscription = Subscription.objects.create(kind=Subscription.Kind.EMAIL, email=address)
            except IntegrityError:
                # The same address signed up at the same moment in another request.
                subscription = _current(address)
                if subscription is None:
                    raise ConflictError("busy", "Please try again in a moment.") from None
        if subscription.confirmed_at is not None:
            email_queue(_mail(subscription, "already_subscribed", "You already follow our status page"))
            return
        subscription.services.set(chosen)
        email_queue(
            _mail(
                subscription,
                "confirm",
                "Confirm your status page subscription",
                confirm_url=_absolute("confirm", signed=confirm_token(subscription)),
                confirm_days=CONFIRM_DAYS,
            )
        )


def _current(address: str) -> Subscription | None:
    return (
        Subscription.objects.select_for_update()
        .filter(kind=Subscription.Kind.EMAIL, email=address, unsubscribed_at__isnull=True)
        .first()
    )


def subscription_confirm(*, subscription: Subscription) -> Subscription:
    """The address owner followed the confirmation link: the subscription counts from now (once)."""
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if subscription.unsubscribed_at is not None:
            raise ConflictError("unsubscribed", "This subscription was ended; sign up again to follow the page.")
        if subscription.confirmed_at is None:
            subscription.confirmed_at = clock.now()
            subscription.save(update_fields=["confirmed_at", "updated_at"])
            event_record(
                events.SUBSCRIPTION_CONFIRMED,
                subject=subscription,
                by_label=subscription.email,
                subscription_id=subscription.pk,
            )
    return subscription


def subscription_services_set(*, subscription: Subscription, services: Iterable[Service]) -> Subscription:
    """The subscriber chose what to follow on the manage page (none: every service)."""
    chosen = _public_services(services)
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if subscription.unsubscribed_at is not None:
            raise ConflictError("unsubscribed", "This subscription was ended; sign up again to follow the page.")
        subscription.services.set(chosen)
        subscription.save(update_fields=["updated_at"])
    return subscription


def subscription_unsubscribe(*, subscription: Subscription) -> Subscription:
    """The one-click link (or its page): no more mail or POSTs. Doing it twice changes nothing."""
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if subscription.unsubscribed_at is None:
            subscription.unsubscribed_at = clock.now()
            subscription.save(update_fields=["unsubscribed_at", "updated_at"])
            event_record(
                events.SUBSCRIPTION_ENDED,
                subject=subscription,
                by_label=subscription.email or subscription.owner_email,
                subscription_id=subscription.pk,
                kind=subscription.kind,
            )
    return subscription


# ---- webhooks -------------------------------------------------------------------------------------


def webhook_request(*, url: str, owner_email: str, services: Iterable[Service] = ()) -> None:
    """Someone asked on the public form for a webhook: its owner's address confirms it (as an email
    subscription's does), and the confirmation page shows the secret once. Limited like sign-ups."""
    checked = webhook_url_check(url)
    owner = owner_email.strip().lower()
    if not owner or "@" not in owner or len(owner) > 254:
        raise InvalidInput("owner_email", "Enter the address of the webhook's owner.", field="owner_email")
    chosen = _public_services(services)
    if ratelimit.hit("status_subscribe_email", owner).refused:
        return
    with transaction.atomic():
        subscription = Subscription.objects.create(kind=Subscription.Kind.WEBHOOK, url=checked, owner_email=owner)
        subscription.services.set(chosen)
        email_queue(
            _mail(
                subscription,
                "webhook_confirm",
                "Confirm your status webhook",
                confirm_url=_absolute("confirm", signed=confirm_token(subscription)),
                confirm_days=CONFIRM_DAYS,
            )
        )


def webhook_create(*, url: str, owner_email: str, services: Iterable[Service] = (), by: User) -> Subscription:
    """Staff add a webhook; it is confirmed at once (staff vouch for it). Its secret signs each POST."""
    checked = webhook_url_check(url)
    owner = owner_email.strip().lower()
    if not owner or "@" not in owner:
        raise InvalidInput("owner_email", "A webhook has an owner's email address, told when it is disabled.")
    chosen = _public_services(services)
    with transaction.atomic():
        subscription = Subscription.objects.create(
            kind=Subscription.Kind.WEBHOOK, url=checked, owner_email=owner, confirmed_at=clock.now()
        )
        subscription.services.set(chosen)
        event_record(events.WEBHOOK_CREATED, subject=subscription, by=by, subscription_id=subscription.pk)
    return subscription


def webhook_enable(*, subscription: Subscription, by: User) -> Subscription:
    """A disabled webhook takes deliveries again; the ones that waited are sent now."""
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if subscription.kind != Subscription.Kind.WEBHOOK:
            raise ConflictError("not_webhook", "Only a webhook can be enabled.")
        if subscription.unsubscribed_at is not None:
            raise ConflictError("unsubscribed", "This webhook was unsubscribed; create it again.")
        if subscription.disabled_at is None:
            raise ConflictError("not_disabled", "This webhook is not disabled.")
        subscription.disabled_at = None
        subscription.consecutive_failures = 0
        subscription.save(update_fields=["disabled_at", "consecutive_failures", "updated_at"])
        now = clock.now()
        waiting = list(
            subscription.deliveries.filter(status=WebhookDelivery.Status.PENDING).values_list("pk", flat=True)
        )
        WebhookDelivery.objects.filter(pk__in=waiting).update(next_attempt_at=now)
        event_record(events.WEBHOOK_ENABLED, subject=subscription, by=by, subscription_id=subscription.pk)
        transaction.on_commit(lambda: kick(waiting))
    return subscription


def subscription_delete(*, subscription: Subscription, by: User) -> None:
    """Staff remove a subscription and its delivery log (the address is forgotten)."""
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        event_record(events.SUBSCRIPTION_DELETED, by=by, subscription_id=subscription.pk, kind=subscription.kind)
        subscription.delete()


def webhook_delivery_retry(*, delivery: WebhookDelivery, by: User) -> WebhookDelivery:
    """Staff send a failed delivery again: due now, with a fresh run of attempts."""
    with transaction.atomic():
        current = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        if current.status != WebhookDelivery.Status.FAILED:
            raise ConflictError(
                "delivery_not_failed",
                f"Only a failed delivery can be retried; this one is {current.get_status_display()}.",
            )
        WebhookDelivery.objects.filter(pk=current.pk).update(
            status=WebhookDelivery.Status.PENDING, attempts=0, next_attempt_at=clock.now()
        )
        event_record(
            events.WEBHOOK_DELIVERY_RETRIED,
            subject=current.subscription,
            by=by,
            subscription_id=current.subscription_id,
            delivery_id=current.pk,
        )
        delivery_id = current.pk
        transaction.on_commit(lambda: kick([delivery_id]))
    delivery.refresh_from_db()
    return delivery

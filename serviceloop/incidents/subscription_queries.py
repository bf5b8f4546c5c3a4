"""Reads of status subscriptions for staff: the list, one subscription, its delivery log."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from serviceloop.core.visibility import require_staff
from serviceloop.incidents.models import Subscription, WebhookDelivery


def subscription_list(*, viewer: object, kind: str = "", state: str = "") -> QuerySet[Subscription]:
    """Every subscription, newest first (staff only: the addresses are personal data)."""
    require_staff(viewer)
    rows = Subscription.objects.prefetch_related("services").order_by("-created_at", "-pk")
    if kind:
        rows = rows.filter(kind=kind)
    if state == "active":
        rows = rows.filter(confirmed_at__isnull=False, unsubscribed_at__isnull=True, disabled_at__isnull=True)
    elif state == "unconfirmed":
        rows = rows.filter(confirmed_at__isnull=True, unsubscribed_at__isnull=True)
    elif state == "disabled":
        rows = rows.filter(disabled_at__isnull=False, unsubscribed_at__isnull=True)
    elif state == "unsubscribed":
        rows = rows.filter(unsubscribed_at__isnull=False)
    return rows


def subscription_for(*, viewer: object, public_id: str) -> Subscription:
    require_staff(viewer)
    found = Subscription.objects.prefetch_related("services").filter(public_id=public_id).first()
    if found is None:
        raise Http404("No such subscription.")
    return found


def delivery_log(*, viewer: object, subscription: Subscription, status: str = "") -> QuerySet[WebhookDelivery]:
    """A subscription's deliveries, newest first, each with its attempts (index: subscription FK)."""
    require_staff(viewer)
    rows = subscription.deliveries.prefetch_related("attempt_log").order_by("-created_at", "-pk")
    return rows.filter(status=status) if status else rows


def delivery_for(*, viewer: object, public_id: str) -> WebhookDelivery:
    require_staff(viewer)
    found = WebhookDelivery.objects.select_related("subscription").filter(public_id=public_id).first()
    if found is None:
        raise Http404("No such delivery.")
    return found

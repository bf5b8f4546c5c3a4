"""Reads of alerts for the pages: the list (filtered, paged by the view), one alert, the open count."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from serviceloop.experience.models import Alert

STATES = ("open", "recovered", "all")


def _visible(viewer: Any) -> QuerySet[Alert]:
    # Alerts are the provider's: a customer sees none (the views answer 403 before asking).
    if not getattr(viewer, "is_staff_member", False):
        return Alert.objects.none()
    return Alert.objects.all()


def alert_list(
    *, viewer: Any, state: str = "open", kind: str = "", mine: bool = False, service: str = ""
) -> QuerySet[Alert]:
    """Alerts newest first; `service` is a service's public id (the service page links here with it)."""
    rows = _visible(viewer).select_related("service", "addressed_to", "acknowledged_by")
    if service:
        rows = rows.filter(service__public_id=service)
    if state in ("open", "recovered"):
        rows = rows.filter(state=state)
    if kind in Alert.Kind.values:
        rows = rows.filter(kind=kind)
    if mine:
        rows = rows.filter(addressed_to=viewer)
    return rows.order_by("-opened_at", "-pk")


def alert_for(*, viewer: Any, public_id: str) -> Alert:
    alert = (
        _visible(viewer)
        .select_related("service", "addressed_to", "acknowledged_by")
        .filter(public_id=public_id)
        .first()
    )
    if alert is None:
        raise Http404("No such alert.")
    return alert


def alert_history(alert: Alert, *, limit: int = 20) -> list[Alert]:
    """Earlier and later alerts of the same cause (re-armed after recovery), newest first."""
    return list(Alert.objects.filter(cause=alert.cause).exclude(pk=alert.pk).order_by("-opened_at")[:limit])


def open_alert_count(viewer: Any) -> int:
    """Open alerts nobody has acknowledged yet (the navigation's badge): one count on an indexed column."""
    if not getattr(viewer, "is_staff_member", False):
        return 0
    return Alert.objects.filter(state=Alert.State.OPEN, acknowledged_at__isnull=True).count()

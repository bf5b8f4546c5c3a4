"""Alerts to service managers: raise (idempotent per open cause), recover (re-arms the cause), acknowledge.

Every write here owns its transaction and records an event (the audit trail). A new alert mails the
service manager through the outbox (core.mail.email_queue) in the same transaction: a rolled-back
alert mails nobody, a committed one is sent even if the worker or SMTP server is down at that moment.
Who raises them: drop detection (experience/drops.py) and XLA state changes (`alert_on_xla_change`).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse

from serviceloop.catalogue.models import Service
from serviceloop.core import clock
from serviceloop.core.errors import InvalidInput, NotAllowed
from serviceloop.core.events import event_record
from serviceloop.core.mail import OutboundEmail, email_queue
from serviceloop.experience.models import Alert

logger = logging.getLogger(__name__)

# XLA states (the XLA engineer's `xla.state_changed` event): which ones open an alert, which close it.
XLA_RAISING = ("at_risk", "breached")
XLA_RECOVERING = ("met",)
XLA_STATE_LABELS = {"met": "met", "at_risk": "at risk", "breached": "breached"}


def alert_raise(*, service: Service, kind: str, cause: str, title: str, figures: dict[str, Any]) -> Alert:
    """The open alert of `cause`, opened now (and mailed to the service manager) unless one is open already.

    Idempotent per open cause: while an alert of the cause is open, raising it again returns that
    alert unchanged (its figures stay those that triggered it) and mails nobody.
    """
    if kind not in Alert.Kind.values:
        raise InvalidInput("invalid", f"kind: {kind!r} is not one of {', '.join(Alert.Kind.values)}.", field="kind")
    cause = cause.strip()
    if not cause or len(cause) > 200:
        raise InvalidInput("invalid", "cause: between 1 and 200 characters.", field="cause")
    existing = Alert.objects.filter(cause=cause, state=Alert.State.OPEN).first()
    if existing is not None:
        return existing
    manager = service.service_manager
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                service=service,
                kind=kind,
                cause=cause,
                title=title[:300],
                figures=figures,
                addressed_to=manager,
                opened_at=clock.now(),
            )
            event_record(
                "alert.raised",
                subject=alert,
                alert_id=alert.pk,
                service_id=service.pk,
                kind=kind,
                cause=cause,
            )
            if manager.email:
                email_queue(_mail(alert, service))
    except IntegrityError:
        # Opened by a concurrent run between the look-up and the insert: one alert, one mail.
        return Alert.objects.get(cause=cause, state=Alert.State.OPEN)
    logger.info("alert raised: %s (%s)", alert.title, cause)
    return alert


def alert_recover(cause: str, *, figures: dict[str, Any] | None = None) -> Alert | None:
    """Mark the open alert of `cause` recovered (re-arming the cause); None when none is open."""
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(cause=cause, state=Alert.State.OPEN).first()
        if alert is None:
            return None
        alert.state = Alert.State.RECOVERED
        alert.recovered_at = clock.now()
        alert.recovery_figures = figures or {}
        alert.save(update_fields=["state", "recovered_at", "recovery_figures", "updated_at"])
        event_record("alert.recovered", subject=alert, alert_id=alert.pk, cause=cause)
    logger.info("alert recovered: %s (%s)", alert.title, cause)
    return alert


def alert_acknowledge(alert: Alert, by: Any) -> Alert:
    """A staff member says they have seen the alert; the first acknowledgement is kept."""
    if not getattr(by, "is_staff_member", False):
        raise NotAllowed("not_allowed", "Only the provider's staff acknowledge alerts.")
    with transaction.atomic():
        current = Alert.objects.select_for_update().get(pk=alert.pk)
        if current.acknowledged_at is None:
            current.acknowledged_by = by
            current.acknowledged_at = clock.now()
            current.save(update_fields=["acknowledged_by", "acknowledged_at", "updated_at"])
            event_record("alert.acknowledged", subject=current, by=by, alert_id=current.pk)
    return current


def alert_on_xla_change(
    *,
    service: Service,
    xla_label: str,
    cause: str,
    from_state: str,
    to_state: str,
    figures: dict[str, Any],
) -> Alert | None:
    """React to an XLA's state change: at risk or breached opens (or keeps) its alert, met recovers it.

    Any other state (e.g. not enough data) changes nothing. A change from at risk to breached while
    the alert is open keeps that one alert (one alert per cause; the XLA page shows the state).
    """
    shown = {**figures, "from": from_state, "to": to_state}
    if to_state in XLA_RAISING:
        label = XLA_STATE_LABELS[to_state]
        title = f"XLA {xla_label} on {service.name} is {label}"
        return alert_raise(service=service, kind=Alert.Kind.XLA, cause=cause, title=title, figures=shown)
    if to_state in XLA_RECOVERING:
        return alert_recover(cause, figures=shown)
    return None


# ------------------------------------------------------------------------------------------- mail


def _figure_line(name: str, part: Any, unit: str) -> str:
    if not isinstance(part, dict):
        return ""
    interval = part.get("interval")
    shown = f" [{interval[0]}, {interval[1]}]" if interval else ""
    period = f", {part['from']} to {part['to']}" if part.get("from") else ""
    return f"{name}: {part.get('value')}{f' {unit}' if unit else ''}{shown} (n = {part.get('n')}{period})"


def format_p(value: Any) -> str:
    """A p- or q-value as people read it: four decimals, "< 0.0001" below that."""
    if not isinstance(value, int | float):
        return str(value)
    return "< 0.0001" if value < 0.0001 else f"{value:.4f}"


def _shown_p(value: Any) -> str:
    shown = format_p(value)
    return shown if shown.startswith("<") else f"= {shown}"


def figure_lines(figures: dict[str, Any]) -> list[str]:
    """The figures of an alert as plain lines (the mail; the page shows the same in a table)."""
    unit = str(figures.get("unit") or "")
    lines = [
        line
        for line in (
            _figure_line("Recent", figures.get("recent"), unit),
            _figure_line("Baseline", figures.get("baseline"), unit),
        )
        if line
    ]
    if "z" in figures:
        lines.append(
            f"Test: {figures.get('test', '')}, z = {figures['z']}, one-sided p {_shown_p(figures.get('p_value'))}, "
            f"q (Benjamini–Hochberg) {_shown_p(figures.get('q_value'))} at a false-discovery rate of "
            f"{figures.get('fdr')}"
        )
    if not lines and figures.get("kind") == "trust":
        # A trust alert (trust_states.py formats its figures; imported here: it imports this module).
        from serviceloop.experience.trust_states import trust_figure_lines

        lines += trust_figure_lines(figures)
    if not lines and "to" in figures:
        lines.append(f"State: {figures.get('from')} → {figures['to']}")
        lines += [f"{key}: {figures[key]}" for key in ("value", "n", "target") if key in figures]
    return lines


def _mail(alert: Alert, service: Service) -> OutboundEmail:
    from django.conf import settings

    url = f"{settings.SITE_URL}{reverse('experience:alert_detail', args=[alert.public_id])}"
    manager = service.service_manager
    greeting = f"Hello {getattr(manager, 'display_name', '') or manager.email},"
    body = "\n".join(
        [
            greeting,
            "",
            f"{alert.title}.",
            "",
            *figure_lines(alert.figures),
            "",
            f"See the alert and acknowledge it: {url}",
            "",
            "You receive this because you are the service manager of "
            f"{service.name}. One mail per alert: the next one for the same cause comes only after this one "
            "has recovered.",
        ]
    )
    return OutboundEmail(
        to=[manager.email],
        subject=f"[serviceloop] Alert: {alert.title}"[:300],
        text=body,
        headers={"X-Serviceloop-Alert": alert.public_id},
    )

"""Status webhooks: the receiver's address checked, each POST signed, sent by the worker, logged.

A `WebhookDelivery` row is the outbox and the log: written in the transaction of the subscriber
that heard the event, POSTed by the worker (kicked after commit, and `webhook_sweep` every 30 s on
beat for anything due), retried with back-off from 30 s, doubling, at most an hour apart, until
SERVICELOOP_WEBHOOK_MAX_ATTEMPTS; every attempt is a `WebhookAttempt` row. A subscription whose
deliveries failed SERVICELOOP_WEBHOOK_DISABLE_AFTER times in a row is disabled and its owner mailed.

Signature: `X-Serviceloop-Signature: v1=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>` with the
Unix time in `X-Serviceloop-Timestamp`; a receiver recomputes it over the raw body and refuses a
timestamp more than five minutes away from its clock (`verify_signature`), so a captured POST cannot
be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from serviceloop.core import clock
from serviceloop.core.errors import InvalidInput
from serviceloop.core.events import event_record
from serviceloop.core.mail import OutboundEmail, email_queue
from serviceloop.incidents import events
from serviceloop.incidents.models import Subscription, WebhookAttempt, WebhookDelivery

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Serviceloop-Signature"
TIMESTAMP_HEADER = "X-Serviceloop-Timestamp"
# A receiver refuses a signature whose timestamp is further than this from its own clock.
REPLAY_TOLERANCE_SECONDS = 300
BACKOFF_FIRST_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
# A worker holds a claimed delivery this long (the timeout plus margin) before another may try it.
CLAIM_LEASE = timedelta(minutes=2)
# What is kept of a receiver's answer or error in the log.
ERROR_CHARS = 500


# ---- the receiver's address ---------------------------------------------------------------------


def _allow_private() -> bool:
    return bool(getattr(settings, "SERVICELOOP_WEBHOOK_ALLOW_PRIVATE", False))


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _addresses(host: str, port: int) -> list[str]:
    try:
        return [str(info[4][0]) for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)]
    except (socket.gaierror, UnicodeError) as error:
        raise InvalidInput("webhook_unresolvable", f"The host {host} cannot be resolved.", field="url") from error


def webhook_url_check(url: str) -> str:
    """The URL as stored, or InvalidInput: http or https, a host, no credentials, and (unless
    SERVICELOOP_WEBHOOK_ALLOW_PRIVATE) only public addresses, so nobody points us at the intranet."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise InvalidInput("webhook_url", "The URL is not valid.", field="url") from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            "webhook_url", "A webhook URL starts with http:// or https:// and names a host.", field="url"
        )
    if parts.username or parts.password:
        raise InvalidInput("webhook_url", "A webhook URL carries no user name or password.", field="url")
    if len(url) > 500:
        raise InvalidInput("webhook_url", "A webhook URL has at most 500 characters.", field="url")
    if not _allow_private():
        host = parts.hostname
        addresses = _addresses(host, port or (443 if parts.scheme == "https" else 80))
        if not addresses or not all(_is_public(address) for address in addresses):
            raise InvalidInput(
                "webhook_private",
                f"{host} is a private, loopback or reserved address; webhooks go to public addresses only.",
                field="url",
            )
    return url


# ---- signing --------------------------------------------------------------------------------------


def _as_bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def signature(secret: str, timestamp: str, body: bytes | str) -> str:
    """`v1=` and the hex HMAC-SHA256 of `f"{timestamp}.{body}"` under the subscription's secret."""
    message = _as_bytes(timestamp) + b"." + _as_bytes(body)
    return "v1=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes | str,
    header: str,
    now: datetime | float | None = None,
    *,
    tolerance: int = REPLAY_TOLERANCE_SECONDS,
) -> bool:
    """For receivers written in Python: True when `header` signs this raw `body` at `timestamp` with
    `secret` and the timestamp is within `tolerance` seconds of `now` (a replayed POST is refused).

    `header` may list several signatures separated by commas (`v1=…,v1=…`); one that matches is enough.
    """
    try:
        sent = int(str(timestamp).strip())
    except ValueError:
        return False
    instant = now if now is not None else time.time()
    current = instant.timestamp() if isinstance(instant, datetime) else float(instant)
    if abs(current - sent) > tolerance:
        return False
    expected = signature(secret, str(timestamp).strip(), body)
    return any(hmac.compare_digest(expected, part.strip()) for part in header.split(",") if part.strip())


def body_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode("utf-8")


# ---- delivery ---------------------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """After the n-th failed attempt: 30 s, 1 min, 2 min … never more than an hour."""
    return timedelta(seconds=min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** max(0, attempts - 1)))


def max_attempts() -> int:
    return max(1, int(settings.SERVICELOOP_WEBHOOK_MAX_ATTEMPTS))


def disable_after() -> int:
    return max(1, int(settings.SERVICELOOP_WEBHOOK_DISABLE_AFTER))


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None
    duration_ms: int
    error: str


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect is an answer that is not 2xx: following it could lead to an address we refused.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def _post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        if not _allow_private():
            webhook_url_check(url)  # again at sending: the name may resolve elsewhere now
    except InvalidInput as refusal:
        return Outcome(False, None, took(), refusal.message)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310  # http(s) only, checked
    try:
        with _OPENER.open(request, timeout=float(settings.SERVICELOOP_WEBHOOK_TIMEOUT)) as answer:  # nosec B310
            code = int(answer.status)
            answer.read(1024)
    except urllib.error.HTTPError as error:
        text = error.read(ERROR_CHARS).decode("utf-8", "replace") if error.fp else ""
        return Outcome(False, int(error.code), took(), f"HTTP {error.code}: {text}".strip()[:ERROR_CHARS])
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return Outcome(False, None, took(), f"{type(reason).__name__}: {reason}"[:ERROR_CHARS])
    if 200 <= code < 300:
        return Outcome(True, code, took(), "")
    return Outcome(False, code, took(), f"HTTP {code}: the receiver must answer 2xx")


def _claim(delivery_id: int) -> WebhookDelivery | None:
    """Take a due delivery of an active subscription for this worker: one UPDATE, so two workers
    never both POST it; the lease lets another worker retake it if this one dies mid-request."""
    now = clock.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id,
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at__lte=now,
        subscription__disabled_at__isnull=True,
        subscription__unsubscribed_at__isnull=True,
        subscription__confirmed_at__isnull=False,
    ).update(next_attempt_at=now + CLAIM_LEASE, attempts=F("attempts") + 1, last_attempt_at=now)
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)


def webhook_deliver(*, delivery_id: int) -> str:
    """POST one delivery if it is due; returns its status afterwards (idempotent, safe in parallel)."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return WebhookDelivery.objects.filter(pk=delivery_id).values_list("status", flat=True).first() or "missing"
    subscription = delivery.subscription
    body = body_bytes(delivery.payload)
    timestamp = str(int(clock.now().timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "serviceloop-webhooks/1",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(subscription.secret, timestamp, body),
        "X-Serviceloop-Event": delivery.event_name,
        "X-Serviceloop-Delivery": delivery.public_id,
    }
    outcome = _post(subscription.url, body, headers)
    return _record(delivery, outcome)


def _record(delivery: WebhookDelivery, outcome: Outcome) -> str:
    now = clock.now()
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().filter(pk=delivery.subscription_id).first()
        if subscription is None:
            return "missing"  # deleted by staff while the POST was under way (its log went with it)
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=WebhookAttempt.objects.filter(delivery=delivery).count() + 1,
            attempted_at=now,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            error=outcome.error,
            succeeded=outcome.ok,
        )
        fields: dict[str, Any] = {
            "last_status_code": outcome.status_code,
            "last_duration_ms": outcome.duration_ms,
            "last_error": outcome.error,
        }
        if outcome.ok:
            status = WebhookDelivery.Status.DELIVERED
            fields.update(status=status, delivered_at=now, next_attempt_at=None)
            Subscription.objects.filter(pk=subscription.pk).update(consecutive_failures=0)
        elif delivery.attempts >= max_attempts():
            status = WebhookDelivery.Status.FAILED
            fields.update(status=status, next_attempt_at=None)
            _count_failure(subscription)
        else:
            status = WebhookDelivery.Status.PENDING
            fields.update(next_attempt_at=now + backoff(delivery.attempts))
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    log = logger.info if outcome.ok else logger.warning
    log(
        "webhook %s to %s attempt %s: %s",
        delivery.public_id,
        delivery.subscription.url,
        delivery.attempts,
        outcome.status_code or outcome.error,
    )
    return str(status)


def _count_failure(subscription: Subscription) -> None:
    """A delivery failed for good: the subscription's run of failures grows; at the limit it stops."""
    failures = subscription.consecutive_failures + 1
    Subscription.objects.filter(pk=subscription.pk).update(consecutive_failures=failures)
    if failures < disable_after() or subscription.disabled_at is not None:
        return
    subscription.consecutive_failures = failures
    subscription.disabled_at = clock.now()
    Subscription.objects.filter(pk=subscription.pk).update(disabled_at=subscription.disabled_at)
    event_record(events.WEBHOOK_DISABLED, subject=subscription, subscription_id=subscription.pk)
    if subscription.owner_email:
        email_queue(disabled_notice(subscription))


def disabled_notice(subscription: Subscription) -> OutboundEmail:
    from django.template.loader import render_to_string

    last = subscription.deliveries.order_by("-last_attempt_at", "-pk").first()
    context = {
        "subscription": subscription,
        "failures": subscription.consecutive_failures,
        "last_error": (last.last_error if last else "") or "",
        "last_status_code": last.last_status_code if last else None,
        "site_url": settings.SITE_URL,
    }
    return OutboundEmail(
        to=[subscription.owner_email],
        subject=f"Status webhook disabled: {subscription.url}"[:200],
        text=render_to_string("incidents/email/webhook_disabled.txt", context),
        headers={"Message-ID": _disabled_message_id(subscription)},
    )


def _disabled_message_id(subscription: Subscription) -> str:
    from serviceloop.incidents.subscriptions import mail_domain

    stamp = int(subscription.disabled_at.timestamp()) if subscription.disabled_at else 0
    return f"<webhook-disabled.{subscription.public_id}.{stamp}@{mail_domain()}>"


def deliveries_due(*, limit: int = 200) -> list[int]:
    """Pending deliveries whose time has come, of subscriptions that still take them."""
    return list(
        WebhookDelivery.objects.filter(
            Q(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=clock.now()),
            subscription__disabled_at__isnull=True,
            subscription__unsubscribed_at__isnull=True,
            subscription__confirmed_at__isnull=False,
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def kick(delivery_ids: list[int]) -> None:
    """After commit: ask the worker to POST these now; the sweep does it later if the broker is down."""
    from serviceloop.core.tasks import enqueue
    from serviceloop.incidents.tasks import deliver_webhook

    for delivery_id in delivery_ids:
        enqueue(deliver_webhook, delivery_id)

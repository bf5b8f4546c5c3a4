"""Authorisation rows for status subscriptions: public pages (the token is the credential) and the
staff API (see serviceloop/core/authz_matrix.py).

`build(world)` adds `world.status_component` (world.service on the public page), `world.follower`
(a confirmed email subscription), `world.newcomer` (one awaiting confirmation), `world.webhook`
(an active webhook with a failed delivery, `world.failed_webhook_delivery`) and `world.disabled_webhook`.
"""

from __future__ import annotations

from typing import Any

from serviceloop.core import clock
from serviceloop.core.authz_matrix import PUBLIC_PAGE, STAFF_API, Endpoint, Page, World, expect, to
from serviceloop.incidents.models import Component, Subscription, WebhookDelivery
from serviceloop.incidents.subscriptions import confirm_token

STAFF_CREATE_API = expect(anonymous=401, customer_a=403, agent=201)
STAFF_DELETE_API = expect(anonymous=401, customer_a=403, agent=204)
TO_SENT = expect(
    anonymous=to("status_subscribe:sent"), customer_a=to("status_subscribe:sent"), agent=to("status_subscribe:sent")
)


def build(world: World) -> None:
    now = clock.now()
    world.status_component = Component.objects.create(service=world.service, name="Email")
    world.follower = Subscription.objects.create(kind="email", email="pat@example.org", confirmed_at=now)
    world.newcomer = Subscription.objects.create(kind="email", email="new@example.org")
    world.webhook = Subscription.objects.create(
        kind="webhook", url="https://hooks.example.com/status", owner_email="ops@example.org", confirmed_at=now
    )
    world.disabled_webhook = Subscription.objects.create(
        kind="webhook",
        url="https://hooks.example.com/old",
        owner_email="ops@example.org",
        confirmed_at=now,
        disabled_at=now,
    )
    world.failed_webhook_delivery = WebhookDelivery.objects.create(
        subscription=world.webhook,
        event_name="incident.update_posted",
        payload={"incident": {}},
        status=WebhookDelivery.Status.FAILED,
        attempts=8,
        created_at=now,
        source_event_id=1,
    )


def _token(attribute: str) -> Any:
    return lambda w: {"token": getattr(w, attribute).token}


PAGES = [
    Page("status_subscribe:subscribe", PUBLIC_PAGE),
    Page(
        "status_subscribe:subscribe",
        TO_SENT,
        method="POST",
        data=lambda w: {"email": "someone@example.org", "scope": "all"},
    ),
    Page("status_subscribe:webhook_subscribe", PUBLIC_PAGE),
    Page(
        "status_subscribe:webhook_subscribe",
        TO_SENT,
        method="POST",
        data=lambda w: {"url": "https://93.184.216.34/hooks", "owner_email": "ops@example.org", "scope": "all"},
    ),
    Page("status_subscribe:sent", PUBLIC_PAGE),
    Page("status_subscribe:confirm", PUBLIC_PAGE, kwargs=lambda w: {"signed": confirm_token(w.newcomer)}),
    Page(
        "status_subscribe:confirm", PUBLIC_PAGE, method="POST", kwargs=lambda w: {"signed": confirm_token(w.newcomer)}
    ),
    Page("status_subscribe:manage", PUBLIC_PAGE, kwargs=_token("follower")),
    Page(
        "status_subscribe:manage",
        PUBLIC_PAGE,
        method="POST",
        kwargs=_token("follower"),
        data=lambda w: {"scope": "all"},
    ),
    Page("status_subscribe:unsubscribe", PUBLIC_PAGE, kwargs=_token("follower")),
    Page("status_subscribe:unsubscribe", PUBLIC_PAGE, method="POST", kwargs=_token("follower")),
    Page("status_subscribe:webhooks", PUBLIC_PAGE),
]


def _webhook(w: World) -> dict[str, str]:
    return {"public_id": w.webhook.public_id}


BASE = "/api/incidents/subscriptions"

ENDPOINTS = [
    Endpoint("GET", BASE, STAFF_API),
    Endpoint(
        "POST",
        f"{BASE}/webhooks",
        STAFF_CREATE_API,
        body=lambda w: {"url": "https://93.184.216.34/hooks", "owner_email": "ops@example.org"},
    ),
    Endpoint("GET", BASE + "/{public_id}", STAFF_API, params=_webhook),
    Endpoint("DELETE", BASE + "/{public_id}", STAFF_DELETE_API, params=_webhook),
    Endpoint(
        "POST", BASE + "/{public_id}/enable", STAFF_API, params=lambda w: {"public_id": w.disabled_webhook.public_id}
    ),
    Endpoint("GET", BASE + "/{public_id}/deliveries", STAFF_API, params=_webhook),
    Endpoint(
        "POST",
        BASE + "/deliveries/{public_id}/retry",
        STAFF_API,
        params=lambda w: {"public_id": w.failed_webhook_delivery.public_id},
    ),
]

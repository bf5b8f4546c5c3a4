"""Authorisation rows for the event log and the operations page (see serviceloop/core/authz_matrix.py).

`build(world)` runs first (core is floor 0) and adds only core rows:

- `world.event`: an event done by the agent about customer A's login (a row with a public id)
- `world.failed_mail`: a mail whose retry window closed
- `world.failed_delivery`: a failed delivery of `world.event` to a subscriber
"""

from __future__ import annotations

from serviceloop.core import clock
from serviceloop.core.authz_matrix import SIGN_IN, STAFF_API, STAFF_PAGE, Endpoint, Page, World, expect, to
from serviceloop.core.events import event_record
from serviceloop.core.models import EventDelivery, OutgoingMail

ADMIN_PAGE = expect(anonymous=SIGN_IN, customer_a=403, agent=403, manager=403, admin=200)
# A retry sends the administrator back to the operations page.
ADMIN_POST = expect(anonymous=SIGN_IN, customer_a=403, agent=403, manager=403, admin=to("core:operations"))
ADMIN_API = expect(anonymous=401, customer_a=403, agent=403, manager=403, admin=200)


def build(world: World) -> None:
    world.event = event_record("tests.recorded", subject=world.users["customer_a"], by=world.users["agent"], note="x")
    world.failed_mail = OutgoingMail.objects.create(
        message_id="<authz-failed@serviceloop.localhost>",
        to=["carol@acme.example"],
        subject="Your ticket was resolved",
        text="Tell us how we did.",
        status=OutgoingMail.Status.FAILED,
        retry_until=clock.now(),
        last_error="ConnectionRefusedError: [Errno 111] Connection refused",
    )
    world.failed_delivery = EventDelivery.objects.create(
        event=world.event, subscriber="tests.failing", status=EventDelivery.Status.FAILED, attempts=9
    )


def _subject(w: World) -> dict[str, str]:
    return {"subject_type": "accounts.user", "public_id": w.users["customer_a"].public_id}


PAGES = [
    Page("core:event_log", STAFF_PAGE),
    Page("core:event_log", STAFF_PAGE, query="name=tests.recorded&since=2020-01-01"),
    Page("core:object_history", STAFF_PAGE, kwargs=_subject),
    Page("core:operations", ADMIN_PAGE),
    Page("core:mail_retry", ADMIN_POST, method="POST", kwargs=lambda w: {"public_id": w.failed_mail.public_id}),
    Page(
        "core:delivery_retry",
        ADMIN_POST,
        method="POST",
        kwargs=lambda w: {"public_id": w.failed_delivery.public_id},
    ),
]

ENDPOINTS = [
    Endpoint("GET", "/api/core/events", STAFF_API),
    Endpoint("GET", "/api/core/outbox", ADMIN_API),
    Endpoint(
        "POST",
        "/api/core/mails/{public_id}/retry",
        ADMIN_API,
        params=lambda w: {"public_id": w.failed_mail.public_id},
    ),
    Endpoint(
        "POST",
        "/api/core/deliveries/{public_id}/retry",
        ADMIN_API,
        params=lambda w: {"public_id": w.failed_delivery.public_id},
    ),
]

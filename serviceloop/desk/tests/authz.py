"""Authorisation rows for the desk's pages and API (see serviceloop/core/authz_matrix.py).

`build(world)` runs after catalogue's and relationships' and adds, all of organisation A:

- `world.ticket_a`: a new ticket of Otto (`world.person_a2`, no login) on `world.service`; customer A
  sees it because their person holds the customer role in `world.relationship_a`
- `world.ticket_resolved_a`: a resolved ticket of the same organisation (for reopen rows)
- `world.attachment_a`: a file on the opening message of `world.ticket_a`
- `world.team`: the "Service desk" team
- `world.mail_route`: an address route to `world.service`
"""

from __future__ import annotations

from datetime import timedelta

from serviceloop.catalogue.models import Offering, Service
from serviceloop.core import clock
from serviceloop.core.authz_matrix import (
    ANY_USER_API,
    MANAGER_PAGE,
    ORG_A_API,
    SIGN_IN,
    STAFF_API,
    STAFF_PAGE,
    Endpoint,
    Page,
    World,
    expect,
    staff_post,
    to,
)
from serviceloop.desk.models import InboundMail, MailRoute, Team, Ticket
from serviceloop.desk.services import NewAttachment, ticket_create, ticket_resolve
from serviceloop.relationships.models import Person, Relationship, RelationshipRole

# The portal is for customers: staff are sent to their queue.
TO_QUEUE = to("desk:queue")
PORTAL_PAGE = expect(anonymous=SIGN_IN, customer_a=200, agent=TO_QUEUE)
PORTAL_TICKET_PAGE = expect(anonymous=SIGN_IN, customer_a=200, customer_b=404, agent=TO_QUEUE)
PORTAL_POST = expect(anonymous=SIGN_IN, customer_a=to("desk:portal_ticket"), customer_b=404, agent=TO_QUEUE)
STAFF_POST_PAGE = staff_post("desk:ticket")
STAFF_ON_ORG_A_API = expect(anonymous=401, customer_a=403, customer_b=404, agent=200)
CUSTOMER_API = expect(anonymous=401, customer_a=200, agent=403)


def _ensure_catalogue(world: World) -> None:
    """Earlier builders normally made these; create the few we need when they did not."""
    manager = world.users["manager"]
    if getattr(world, "service", None) is None:
        world.service = Service.objects.create(name="Email", slug="email", service_manager=manager, lifecycle="live")
        world.offering = Offering.objects.create(service=world.service, name="Mailbox", slug="mailbox")
    if getattr(world, "relationship_a", None) is None:
        world.relationship_a = Relationship.objects.create(
            organisation=world.org_a, offering=world.offering, started_on=clock.now().date() - timedelta(days=400)
        )
    if getattr(world, "person_a", None) is None:
        world.person_a = Person.objects.create(
            organisation=world.org_a, email="petra@acme.example", user=world.users["customer_a"]
        )
        RelationshipRole.objects.create(relationship=world.relationship_a, person=world.person_a, role="customer")
    if getattr(world, "person_a2", None) is None:
        world.person_a2 = Person.objects.create(organisation=world.org_a, email="otto@acme.example", name="Otto")


def build(world: World) -> None:
    _ensure_catalogue(world)
    agent = world.users["agent"]
    world.team = Team.objects.create(name="Service desk")
    world.ticket_a = ticket_create(
        requester=world.person_a2,
        service=world.service,
        offering=world.offering,
        type=Ticket.Type.INCIDENT,
        subject="Mailbox full",
        body="Cannot receive mail since this morning.",
        channel=Ticket.Channel.STAFF,
        by=agent,
        attachments=[NewAttachment(filename="error.txt", content=b"Mailbox quota exceeded")],
    )
    world.attachment_a = world.ticket_a.attachments.get()
    # A mail held for review: a stranger wrote into Otto's ticket.
    world.held_mail = InboundMail.objects.create(
        source=InboundMail.Source.WEBHOOK,
        raw=(
            f"From: stranger@acme.example\r\nTo: desk@serviceloop.localhost\r\nSubject: Re: [{world.ticket_a.reference}] "
            "Mailbox full\r\nMessage-ID: <authz-held@acme.example>\r\n\r\nLet me in.\r\n"
        ).encode(),
        from_email="stranger@acme.example",
        outcome=InboundMail.Outcome.HELD,
        reason="not_a_participant: held for review.",
        ticket=world.ticket_a,
        received_at=clock.now(),
    )
    resolved = ticket_create(
        requester=world.person_a2,
        service=world.service,
        type=Ticket.Type.QUESTION,
        subject="How do I share a calendar?",
        body="Asking for the team.",
        channel=Ticket.Channel.STAFF,
        by=agent,
    )
    world.ticket_resolved_a = ticket_resolve(ticket=resolved, by=agent, resolution="Sent the guide.")
    world.mail_route = MailRoute.objects.create(service=world.service, address="email@desk.example")


def _ticket(w: World) -> dict[str, str]:
    return {"public_id": w.ticket_a.public_id}


def _resolved(w: World) -> dict[str, str]:
    return {"public_id": w.ticket_resolved_a.public_id}


PAGES = [
    Page("desk:portal", PORTAL_PAGE),
    Page("desk:portal_new", PORTAL_PAGE),
    # Organisation B does not consume the offering: its customer sees the form again.
    Page(
        "desk:portal_new",
        expect(anonymous=SIGN_IN, customer_a=to("desk:portal_ticket"), customer_b=200, agent=TO_QUEUE),
        method="POST",
        data=lambda w: {
            "offering": w.offering.pk,
            "type": "incident",
            "subject": "Cannot send",
            "body": "Outbox stuck.",
            "urgency": "medium",
            "impact": "medium",
        },
    ),
    Page("desk:portal_ticket", PORTAL_TICKET_PAGE, kwargs=_ticket),
    Page("desk:portal_reply", PORTAL_POST, kwargs=_ticket, method="POST", data=lambda w: {"body": "Any news?"}),
    Page("desk:portal_reopen", PORTAL_POST, kwargs=_resolved, method="POST", data=lambda w: {"reason": "Still broken"}),
    Page(
        "desk:attachment",
        expect(anonymous=SIGN_IN, customer_a=200, customer_b=404, agent=200),
        kwargs=lambda w: {"public_id": w.attachment_a.public_id},
    ),
    Page("desk:queue", STAFF_PAGE),
    Page(
        "desk:bulk",
        staff_post("desk:queue"),
        method="POST",
        data=lambda w: {"tickets": [w.ticket_a.public_id], "action": "status", "status": "waiting_third_party"},
    ),
    Page("desk:ticket_new", STAFF_PAGE),
    Page(
        "desk:ticket_new",
        staff_post("desk:ticket"),
        method="POST",
        data=lambda w: {
            "requester": "otto@acme.example",
            "service": w.service.pk,
            "type": "request",
            "subject": "Called about a new laptop",
            "body": "Otto phoned the desk.",
            "urgency": "medium",
            "impact": "low",
        },
    ),
    Page("desk:ticket", STAFF_PAGE, kwargs=_ticket),
    Page("desk:ticket_reply", STAFF_POST_PAGE, kwargs=_ticket, method="POST", data=lambda w: {"body": "Checking."}),
    Page(
        "desk:ticket_assign",
        STAFF_POST_PAGE,
        kwargs=_ticket,
        method="POST",
        data=lambda w: {"assignee": w.users["agent"].pk, "team": w.team.pk},
    ),
    Page("desk:ticket_status", STAFF_POST_PAGE, kwargs=_ticket, method="POST", data=lambda w: {"status": "open"}),
    Page(
        "desk:ticket_priority",
        STAFF_POST_PAGE,
        kwargs=_ticket,
        method="POST",
        data=lambda w: {"impact": "high", "urgency": "high"},
    ),
    Page(
        "desk:ticket_move", STAFF_POST_PAGE, kwargs=_ticket, method="POST", data=lambda w: {"offering": w.offering.pk}
    ),
    Page("desk:mail_routes", STAFF_PAGE),
    Page(
        "desk:mail_routes",
        expect(anonymous=SIGN_IN, customer_a=403, agent=403, manager=to("desk:mail_routes")),
        method="POST",
        data=lambda w: {"service": w.service.pk, "keywords": "mailbox", "position": 10, "is_active": "on"},
    ),
    Page("desk:mail_route_edit", MANAGER_PAGE, kwargs=lambda w: {"public_id": w.mail_route.public_id}),
    Page(
        "desk:mail_route_edit",
        expect(anonymous=SIGN_IN, customer_a=403, agent=403, manager=to("desk:mail_routes")),
        kwargs=lambda w: {"public_id": w.mail_route.public_id},
        method="POST",
        data=lambda w: {"service": w.service.pk, "address": "mail@desk.example", "position": 100},
    ),
    Page(
        "desk:mail_route_delete",
        expect(anonymous=SIGN_IN, customer_a=403, agent=403, manager=to("desk:mail_routes")),
        kwargs=lambda w: {"public_id": w.mail_route.public_id},
        method="POST",
    ),
]

T = "/api/desk/tickets/{public_id}"

ENDPOINTS = [
    Endpoint("GET", "/api/desk/tickets", ANY_USER_API),
    Endpoint(
        "POST",
        "/api/desk/tickets",
        # Organisation B does not consume the service: 422 for its customer.
        expect(anonymous=401, customer_a=201, customer_b=422, agent=201),
        body=lambda w: {
            "service": w.service.public_id,
            "requester": w.person_a2.public_id,
            "subject": "Cannot log in",
            "body": "Password rejected.",
        },
    ),
    Endpoint("GET", T, ORG_A_API, params=_ticket),
    Endpoint("GET", T + "/messages", ORG_A_API, params=_ticket),
    Endpoint(
        "POST",
        T + "/messages",
        expect(anonymous=401, customer_a=201, customer_b=404, agent=201),
        params=_ticket,
        body=lambda w: {"body": "Any news?"},
    ),
    Endpoint("GET", T + "/events", STAFF_ON_ORG_A_API, params=_ticket),
    Endpoint("POST", T + "/status", STAFF_ON_ORG_A_API, params=_ticket, body=lambda w: {"status": "open"}),
    Endpoint("POST", T + "/assign", STAFF_ON_ORG_A_API, params=_ticket, body=lambda w: {"team": w.team.public_id}),
    Endpoint(
        "POST", T + "/priority", STAFF_ON_ORG_A_API, params=_ticket, body=lambda w: {"impact": "low", "urgency": "low"}
    ),
    Endpoint("POST", T + "/resolve", STAFF_ON_ORG_A_API, params=_ticket, body=lambda w: {"resolution": "Fixed"}),
    Endpoint("POST", T + "/reopen", ORG_A_API, params=_resolved, body=lambda w: {"reason": "Still broken"}),
    Endpoint("POST", T + "/close", STAFF_ON_ORG_A_API, params=_ticket, body=lambda w: {}),
    Endpoint("POST", T + "/move", STAFF_ON_ORG_A_API, params=_ticket, body=lambda w: {"service": w.service.public_id}),
    Endpoint(
        "POST",
        "/api/desk/bulk",
        expect(anonymous=401, customer_a=403, agent=200),
        body=lambda w: {"tickets": [w.ticket_a.public_id], "action": "status", "status": "waiting_third_party"},
    ),
    Endpoint(
        "GET", "/api/desk/attachments/{public_id}", ORG_A_API, params=lambda w: {"public_id": w.attachment_a.public_id}
    ),
    Endpoint("GET", "/api/desk/sla-events", STAFF_API),
    Endpoint("GET", "/api/desk/teams", STAFF_API),
    Endpoint("GET", "/api/desk/offerings", CUSTOMER_API),
]


def _inbound_mail(w: World) -> bytes:
    # Otto answers on his ticket by email: stored (202) for staff tokens; customers get 403.
    return (
        f"From: otto@acme.example\r\nTo: desk@serviceloop.localhost\r\nSubject: Re: [{w.ticket_a.reference}] "
        "Mailbox full\r\nMessage-ID: <authz-reply@acme.example>\r\n\r\nStill full.\r\n"
    ).encode()


ENDPOINTS.append(
    Endpoint(
        "POST",
        "/api/desk/mail/inbound",
        expect(anonymous=401, customer_a=403, agent=202),
        body=_inbound_mail,
        content_type="message/rfc822",
    )
)


def _held(w: World) -> dict[str, str]:
    return {"public_id": w.held_mail.public_id}


STAFF_ON_MAIL_API = expect(anonymous=401, customer_a=403, agent=200)
ENDPOINTS += [
    Endpoint("GET", "/api/desk/mail/inbound", STAFF_ON_MAIL_API),
    Endpoint("GET", "/api/desk/mail/inbound/{public_id}", STAFF_ON_MAIL_API, params=_held),
    Endpoint("POST", "/api/desk/mail/inbound/{public_id}/release", STAFF_ON_MAIL_API, params=_held),
    Endpoint("POST", "/api/desk/mail/inbound/{public_id}/discard", STAFF_ON_MAIL_API, params=_held),
]


def _route(w: World) -> dict[str, str]:
    return {"public_id": w.mail_route.public_id}


MANAGER_ON_MAIL_API = expect(anonymous=401, customer_a=403, agent=403, manager=200)
ENDPOINTS += [
    Endpoint("GET", "/api/desk/mail/routes", STAFF_ON_MAIL_API),
    Endpoint(
        "POST",
        "/api/desk/mail/routes",
        expect(anonymous=401, customer_a=403, agent=403, manager=201),
        body=lambda w: {"service": w.service.public_id, "keywords": ["mailbox"]},
    ),
    Endpoint("GET", "/api/desk/mail/routes/{public_id}", STAFF_ON_MAIL_API, params=_route),
    Endpoint(
        "PATCH", "/api/desk/mail/routes/{public_id}", MANAGER_ON_MAIL_API, params=_route, body=lambda w: {"note": "x"}
    ),
    Endpoint(
        "DELETE",
        "/api/desk/mail/routes/{public_id}",
        expect(anonymous=401, customer_a=403, agent=403, manager=204),
        params=_route,
    ),
]

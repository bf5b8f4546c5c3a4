"""Test rows for the experience metrics: responses, invitations, suppressed invitations, posts, tickets.

The rows are written directly (a test states the exact label, day and organisation it needs), and each
factory records the event the product's own service records with such a row (`response.recorded`,
`invitation.sent`, `invitation.suppressed`, `posts.recorded`). `deliver()` then hands every pending
event to its subscribers, as the worker does after commit: the rollups — what the API and the pages
read — count the rows. Call it after making the rows, e.g. at the end of a fixture that seeds them.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from serviceloop.accounts.models import Organisation
from serviceloop.catalogue.models import Service
from serviceloop.core.events import event_dispatch, event_record
from serviceloop.core.models import Event
from serviceloop.desk.models import Ticket
from serviceloop.desk.services.business_minutes import business_minutes_refresh
from serviceloop.feedback.models import Invitation, Post, Response, SuppressedInvitation
from serviceloop.feedback.tests.survey_factories import make_person, make_service, past_invitation
from serviceloop.feedback.tests.survey_factories import make_ticket as _make_ticket
from serviceloop.relationships.models import Person

_numbers = itertools.count(1)

__all__ = [
    "at",
    "deliver",
    "invite",
    "make_person",
    "make_service",
    "make_ticket",
    "post",
    "respond",
    "suppress",
]


def deliver() -> int:
    """Deliver every pending event to its subscribers, as the worker does after commit; how many."""
    pending = list(Event.objects.filter(completed_at__isnull=True).order_by("pk").values_list("pk", flat=True))
    for event_id in pending:
        event_dispatch(event_id=event_id)
    return len(pending)


def at(text: str) -> datetime:
    """An instant in UTC from "2026-06-30 23:30"."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def respond(service: Service, when: str, **fields: Any) -> Response:
    response = Response.objects.create(service=service, responded_at=at(when), **fields)
    event_record("response.recorded", subject=response, response_id=response.pk)
    return response


def invite(person: Person, service: Service, when: str, *, answered: bool = False) -> Invitation:
    invitation = past_invitation(person, service, at(when))
    event_record("invitation.sent", subject=invitation, invitation_id=invitation.pk)
    if answered:
        response = Response.objects.create(
            service=service,
            organisation=person.organisation,
            invitation=invitation,
            responded_at=at(when) + timedelta(hours=1),
            happiness=9,
        )
        event_record("response.recorded", subject=response, response_id=response.pk)
    return invitation


def suppress(service: Service, organisation: Organisation | None, when: str, reason: str = "throttled") -> Any:
    row = SuppressedInvitation.objects.create(service=service, organisation=organisation, trigger="api", reason=reason)
    SuppressedInvitation.objects.filter(pk=row.pk).update(created_at=at(when))
    event_record("invitation.suppressed", subject=row, suppressed_id=row.pk, reason=reason, service_id=service.pk)
    return row


def post(services: list[Service], when: str, label: str | None) -> Post:
    row = Post.objects.create(
        source="mastodon",
        external_id=f"p{next(_numbers)}",
        text="about the service",
        posted_at=at(when),
        matched=bool(services),
        sentiment_label=label,
        sentiment_score={"positive": 0.5, "negative": -0.5}.get(label or "", 0.0) if label else None,
    )
    row.services.set(services)
    event_record("posts.recorded", subject=row, post_ids=[row.pk])
    return row


def make_ticket(service: Service, person: Person, **fields: Any) -> Ticket:
    """A ticket row as given, with its business minutes stored as the desk's services store them."""
    row = _make_ticket(service, person, **fields)
    business_minutes_refresh([row.pk])
    row.refresh_from_db()
    return row


def ticket(service: Service, person: Person, **fields: Any) -> Ticket:
    return make_ticket(service, person, **fields)

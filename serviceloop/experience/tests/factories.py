"""Test rows for the experience metrics: responses, invitations, suppressed invitations, posts, tickets."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from serviceloop.accounts.models import Organisation
from serviceloop.catalogue.models import Service
from serviceloop.desk.models import Ticket
from serviceloop.desk.services.business_minutes import business_minutes_refresh
from serviceloop.feedback.models import Invitation, Post, Response, SuppressedInvitation
from serviceloop.feedback.tests.survey_factories import make_person, make_service, past_invitation
from serviceloop.feedback.tests.survey_factories import make_ticket as _make_ticket
from serviceloop.relationships.models import Person

_numbers = itertools.count(1)

__all__ = ["at", "invite", "make_person", "make_service", "make_ticket", "post", "respond", "suppress"]


def at(text: str) -> datetime:
    """An instant in UTC from "2026-06-30 23:30"."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def respond(service: Service, when: str, **fields: Any) -> Response:
    return Response.objects.create(service=service, responded_at=at(when), **fields)


def invite(person: Person, service: Service, when: str, *, answered: bool = False) -> Invitation:
    invitation = past_invitation(person, service, at(when))
    if answered:
        Response.objects.create(
            service=service,
            organisation=person.organisation,
            invitation=invitation,
            responded_at=at(when) + timedelta(hours=1),
            happiness=9,
        )
    return invitation


def suppress(service: Service, organisation: Organisation | None, when: str, reason: str = "throttled") -> Any:
    row = SuppressedInvitation.objects.create(service=service, organisation=organisation, trigger="api", reason=reason)
    SuppressedInvitation.objects.filter(pk=row.pk).update(created_at=at(when))
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
    return row


def make_ticket(service: Service, person: Person, **fields: Any) -> Ticket:
    """A ticket row as given, with its business minutes stored as the desk's services store them."""
    row = _make_ticket(service, person, **fields)
    business_minutes_refresh([row.pk])
    row.refresh_from_db()
    return row


def ticket(service: Service, person: Person, **fields: Any) -> Ticket:
    return make_ticket(service, person, **fields)

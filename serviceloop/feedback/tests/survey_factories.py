"""Test data for the surveys side of feedback: services, people, tickets, and a resolve as the desk does it."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Service
from serviceloop.core.events import event_dispatch, event_record
from serviceloop.desk.models import Ticket
from serviceloop.feedback.models import Invitation, SurveyKind, Trigger
from serviceloop.feedback.services.surveys import survey_create, survey_current_version
from serviceloop.relationships.models import Person

_numbers = itertools.count(104230)


def make_service(name: str = "Payroll", manager: User | None = None) -> Service:
    if manager is None:
        manager = User.objects.filter(role=User.Role.SERVICE_MANAGER).first() or User.objects.create_user(
            f"manager-{slugify(name)}@provider.example", role=User.Role.SERVICE_MANAGER
        )
    return Service.objects.create(name=name, slug=slugify(name), service_manager=manager, lifecycle="live")


def make_person(organisation: Organisation, email: str = "pat@acme.example", **fields: Any) -> Person:
    return Person.objects.create(
        organisation=organisation, email=email, name=fields.pop("name", "Pat Person"), **fields
    )


def make_ticket(service: Service, requester: Person, **fields: Any) -> Ticket:
    number = next(_numbers)
    defaults: dict[str, Any] = {
        "reference": f"SL-{number}",
        "organisation": requester.organisation,
        "requester": requester,
        "service": service,
        "subject": fields.pop("subject", "Payslip missing"),
        "opened_at": timezone.now() - timedelta(hours=3),
        "status": Ticket.Status.OPEN,
    }
    defaults.update(fields)
    return Ticket.objects.create(**defaults)


def resolve(ticket: Ticket) -> Ticket:
    """Resolve as the desk does (the row changes and `ticket.resolved` is recorded with it), then
    deliver the event as the worker does after commit."""
    with transaction.atomic():
        ticket.status = Ticket.Status.RESOLVED
        ticket.resolved_at = timezone.now()
        ticket.save()
        event = event_record("ticket.resolved", subject=ticket, ticket_id=ticket.pk)
    event_dispatch(event_id=event.pk)
    return ticket


def past_invitation(
    person: Person, service: Service, sent_at: datetime, kind: str = SurveyKind.TRANSACTIONAL
) -> Invitation:
    """An invitation sent earlier, as the throttle will find it in the person's history."""
    from serviceloop.feedback.services.invitations import _survey_or_default

    survey = _survey_or_default(service=service, offering=None, kind=kind)
    return Invitation.objects.create(
        survey_version=survey_current_version(survey),
        kind=kind,
        person=person,
        organisation=person.organisation,
        service=service,
        trigger=Trigger.RELATIONSHIP_SCHEDULE if kind == SurveyKind.RELATIONSHIP else Trigger.API,
        sent_at=sent_at,
        expires_at=sent_at + timedelta(days=14),
    )


def happiness_survey(service: Service, by: User | None = None) -> Any:
    return survey_create(service=service, name=f"{service.name} after a ticket", by=by)

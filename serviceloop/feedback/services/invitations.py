"""Invitations: the throttle decides, then either an invitation and its email, or a suppressed row with the reason."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from serviceloop.accounts.models import User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core import clock
from serviceloop.core.errors import InvalidInput
from serviceloop.core.events import event_record
from serviceloop.core.mail import OutboundEmail, email_queue
from serviceloop.desk.models import Ticket
from serviceloop.feedback import links
from serviceloop.feedback.models import (
    Invitation,
    SuppressedInvitation,
    Survey,
    SurveyKind,
    SurveyVersion,
    Trigger,
)
from serviceloop.feedback.questions import SCALE_LABELS, score_choices
from serviceloop.feedback.services.surveys import survey_create, survey_current_version, throttle_policy_of
from serviceloop.feedback.throttle import PastInvitation, decide, lookback_days
from serviceloop.incidents.models import Incident
from serviceloop.relationships.models import Person, Relationship

logger = logging.getLogger(__name__)

Reason = SuppressedInvitation.Reason


@dataclass(frozen=True)
class InvitationOutcome:
    """What a trigger led to: an invitation sent, or a suppressed row with its reason."""

    invitation: Invitation | None = None
    suppressed: SuppressedInvitation | None = None


def _kind_of(trigger: str) -> str:
    return SurveyKind.RELATIONSHIP if trigger == Trigger.RELATIONSHIP_SCHEDULE else SurveyKind.TRANSACTIONAL


def active_survey(*, service: Service, offering: Offering | None, kind: str) -> Survey | None:
    """The offering's own active survey of that kind, else the service's."""
    surveys = Survey.objects.filter(service=service, kind=kind, is_active=True)
    if offering is not None:
        own = surveys.filter(offering=offering).first()
        if own is not None:
            return own
    return surveys.filter(offering__isnull=True).first()


def _survey_or_default(*, service: Service, offering: Offering | None, kind: str) -> Survey:
    # A service nobody designed a survey for still asks the DOMAIN default questions, so feedback
    # starts flowing on day one; the manager can edit the design it created.
    survey = active_survey(service=service, offering=offering, kind=kind)
    if survey is not None:
        return survey
    label = "Relationship survey" if kind == SurveyKind.RELATIONSHIP else "After a ticket"
    return survey_create(service=service, name=f"{service.name} — {label}", kind=kind, by=None)


def _suppress(
    *,
    person: Person | None,
    service: Service,
    survey: Survey | None,
    trigger: str,
    ticket: Ticket | None,
    reason: str,
    detail: str,
) -> InvitationOutcome:
    with transaction.atomic():
        row = SuppressedInvitation.objects.create(
            person=person,
            organisation_id=person.organisation_id if person else (ticket.organisation_id if ticket else None),
            service=service,
            survey=survey,
            trigger=trigger,
            ticket=ticket,
            reason=reason,
            detail=detail[:300],
        )
        # The response rate counts it apart (experience's rollups); written with the row.
        event_record("invitation.suppressed", subject=row, suppressed_id=row.pk, reason=reason, service_id=service.pk)
    return InvitationOutcome(suppressed=row)


def invitation_create(
    *,
    person: Person,
    service: Service,
    trigger: str,
    offering: Offering | None = None,
    ticket: Ticket | None = None,
    relationship: Relationship | None = None,
    incident: Incident | None = None,
    by: User | None = None,
    send: bool = True,
) -> InvitationOutcome:
    """Ask the throttle; invite (and queue the email) or record why not. Safe to call for any trigger.

    `send=False`: the invitation rides in another mail (the desk's resolution notice), which the
    caller queues in this same transaction; no mail of its own."""
    if trigger not in Trigger.values:
        raise InvalidInput("unknown_trigger", f"Trigger is one of {', '.join(Trigger.values)}.", field="trigger")
    if offering is not None and offering.service_id != service.pk:
        raise InvalidInput("offering_of_other_service", "The offering belongs to another service.", field="offering")
    kind = _kind_of(trigger)
    now = clock.now()
    with transaction.atomic():
        # Lock the person: two tickets resolved at the same moment must not both pass the throttle.
        person = Person.objects.select_for_update().get(pk=person.pk)
        survey = _survey_or_default(service=service, offering=offering, kind=kind)
        policy = throttle_policy_of(service)
        since = now - timedelta(days=lookback_days(policy))
        recent = [
            PastInvitation(kind=row.kind, sent_at=row.sent_at)
            for row in Invitation.objects.filter(person=person, sent_at__gt=since).only("kind", "sent_at")
        ]
        sample_key = f"{service.public_id}:{ticket.public_id if ticket else person.public_id}:{now.date()}"
        decision = decide(
            kind=kind, now=now, recent=recent, policy=policy, opted_out=person.survey_opt_out, sample_key=sample_key
        )
        if not decision.allowed:
            return _suppress(
                person=person,
                service=service,
                survey=survey,
                trigger=trigger,
                ticket=ticket,
                reason=decision.reason or Reason.THROTTLED,
                detail=decision.detail,
            )
        invitation = Invitation.objects.create(
            survey_version=survey_current_version(survey),
            kind=kind,
            person=person,
            organisation_id=person.organisation_id,
            service=service,
            offering=offering,
            ticket=ticket,
            relationship=relationship,
            incident=incident,
            trigger=trigger,
            sent_at=now,
            expires_at=now + timedelta(days=links.link_days()),
        )
        event_record("invitation.sent", subject=invitation, by=by, invitation_id=invitation.pk)
        if send:
            email_queue(invitation_email(invitation))
    return InvitationOutcome(invitation=invitation)


def invitation_for_resolved_ticket(*, ticket_id: int, send: bool = True) -> InvitationOutcome | None:
    """The desk resolved a ticket: one transactional invitation per ticket, none for duplicates or auto-closed.

    `send=False` when the desk's resolution notice carries the survey (`mail_parts.resolution_survey`)."""
    ticket = Ticket.objects.select_related("requester", "service", "offering").filter(pk=ticket_id).first()
    if ticket is None:
        return None
    common: dict[str, Any] = {
        "person": ticket.requester,
        "service": ticket.service,
        "survey": None,
        "trigger": Trigger.TICKET_RESOLVED,
        "ticket": ticket,
    }
    if ticket.is_duplicate or ticket.closed_automatically:
        why = "The ticket is a duplicate." if ticket.is_duplicate else "The ticket was closed automatically."
        with transaction.atomic():
            return _suppress(**common, reason=Reason.DUPLICATE, detail=why)
    if Invitation.objects.filter(ticket=ticket, trigger=Trigger.TICKET_RESOLVED).exists():
        with transaction.atomic():
            return _suppress(**common, reason=Reason.DUPLICATE, detail="This ticket already had its invitation.")
    try:
        return invitation_create(
            person=ticket.requester,
            service=ticket.service,
            offering=ticket.offering,
            ticket=ticket,
            trigger=Trigger.TICKET_RESOLVED,
            send=send,
        )
    except IntegrityError:
        # A concurrent resolve of the same ticket invited first (feedback_invitation_one_per_ticket).
        with transaction.atomic():
            return _suppress(**common, reason=Reason.DUPLICATE, detail="This ticket already had its invitation.")


def relationship_invitations_send(*, now: datetime | None = None) -> int:
    """Periodic NPS: invite customer and sponsor roles of active relationships that are due. Returns invitations sent."""
    now = now or clock.now()
    sent = 0
    roles = (
        Relationship.objects.filter(status=Relationship.Status.ACTIVE)
        .select_related("offering__service")
        .prefetch_related("roles__person")
    )
    for relationship in roles:
        service = relationship.offering.service
        policy = throttle_policy_of(service)
        for role in relationship.roles.all():
            if role.role not in ("customer", "sponsor"):
                continue
            if not _relationship_due(person=role.person, service=service, days=policy.relationship_days, now=now):
                continue
            outcome = invitation_create(
                person=role.person,
                service=service,
                offering=relationship.offering,
                relationship=relationship,
                trigger=Trigger.RELATIONSHIP_SCHEDULE,
            )
            sent += outcome.invitation is not None
    return sent


def _relationship_due(*, person: Person, service: Service, days: int, now: datetime) -> bool:
    # Not due while the last relationship invitation is inside its window; a suppressed attempt waits a
    # week before the next try, so the daily schedule does not fill the log with the same reason.
    asked = Invitation.objects.filter(
        person=person, service=service, kind=SurveyKind.RELATIONSHIP, sent_at__gt=now - timedelta(days=days)
    ).exists()
    tried = SuppressedInvitation.objects.filter(
        person=person,
        service=service,
        trigger=Trigger.RELATIONSHIP_SCHEDULE,
        created_at__gt=now - timedelta(days=7),
    ).exists()
    return not asked and not tried


def invitation_email_context(
    invitation: Invitation | None, version: SurveyVersion, *, preview: bool = False
) -> dict[str, Any]:
    """What the email and its preview show; links are real only for a real invitation."""
    kind = version.score_kind
    question = version.first_question
    public_id = invitation.public_id if invitation else "preview"
    if preview or invitation is None:
        buttons = [(value, "#") for value in score_choices(kind)]
        page, opt_out = "#", "#"
    else:
        buttons = [(value, links.answer_url(public_id, value)) for value in score_choices(kind)]
        page, opt_out = links.page_url(public_id), links.opt_out_url(public_id)
    low, high = SCALE_LABELS.get(kind, ("", ""))
    return {
        "invitation": invitation,
        "version": version,
        "survey": version.survey,
        "service_name": invitation.service.name if invitation else version.survey.service.name,
        "ticket": invitation.ticket if invitation else None,
        "incident": invitation.incident if invitation else None,
        "person_name": (invitation.person.name if invitation else "") or "",
        "question": question.get("text", ""),
        "buttons": buttons,
        "low_label": low,
        "high_label": high,
        "page_url": page,
        "opt_out_url": opt_out,
        "intro": version.intro,
        "expires_at": invitation.expires_at if invitation else None,
        "link_days": links.link_days(),
    }


PREVIEW_REFERENCE = "SL-104233"  # what the designer's preview shows where a real ticket's reference goes


def invitation_subject(invitation: Invitation | None, version: SurveyVersion) -> str:
    """The invitation's subject; for the designer's preview (no invitation), the one a survey of this
    kind sends: after a ticket, with a sample reference where the real one will be."""
    service = invitation.service.name if invitation else version.survey.service.name
    if invitation is None:
        reference = PREVIEW_REFERENCE if version.survey.kind == SurveyKind.TRANSACTIONAL else None
    else:
        reference = invitation.ticket.reference if invitation.ticket else None
    if invitation is not None and invitation.incident is not None:
        return f"How did we handle {invitation.incident.reference}? {service}: {invitation.incident.title}"
    if reference is not None:
        return f"How did we do? {service} [{reference}]"
    return f"How are we doing? {service}"


def invitation_unsubscribe_headers(invitation: Invitation) -> dict[str, str]:
    """List-Unsubscribe for a mail that carries the invitation: it stops survey invitations only."""
    return {
        "List-Unsubscribe": f"<{links.opt_out_url(invitation.public_id)}>",
        # RFC 8058: mail clients may opt out with one POST to that address, without a page.
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def invitation_email(invitation: Invitation) -> OutboundEmail:
    context = invitation_email_context(invitation, invitation.survey_version)
    return OutboundEmail(
        to=[invitation.person.email],
        subject=invitation_subject(invitation, invitation.survey_version),
        text=render_to_string("feedback/email/invitation.txt", context),
        html=render_to_string("feedback/email/invitation.html", context),
        headers=invitation_unsubscribe_headers(invitation),
    )


def person_opt_out(*, person: Person) -> Person:
    """The person asked for no more survey invitations; later triggers are suppressed as opted_out."""
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        if not person.survey_opt_out:
            person.survey_opt_out = True
            person.survey_opted_out_at = clock.now()
            person.save(update_fields=["survey_opt_out", "survey_opted_out_at", "updated_at"])
    return person

"""Every write to a ticket: create, reply, status, assignment, resolve, reopen, close."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from serviceloop.accounts.models import User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core import clock
from serviceloop.core.errors import ConflictError, InvalidInput, NotAllowed
from serviceloop.core.events import event_record
from serviceloop.core.storage import files_removed_on_rollback
from serviceloop.desk.models import Message, Team, Ticket, TicketEvent, TicketSequence
from serviceloop.desk.search import search_reindex
from serviceloop.desk.services.attachments import NewAttachment, attachments_store, attachments_validate
from serviceloop.desk.services.business_minutes import business_minutes_set
from serviceloop.desk.services.sla import Pause, priority_for, sla_resume, sla_start, sla_stop, sla_target_for
from serviceloop.relationships.models import Person, Relationship

Status = Ticket.Status
SUBJECT_MAX = 300
BODY_MAX = 100_000

# Which states a status change may go to (resolve, reopen and close have their own services).
TRANSITIONS: dict[str, set[str]] = {
    Status.NEW: {Status.OPEN, Status.WAITING_CUSTOMER, Status.WAITING_THIRD_PARTY},
    Status.OPEN: {Status.WAITING_CUSTOMER, Status.WAITING_THIRD_PARTY},
    Status.WAITING_CUSTOMER: {Status.OPEN, Status.WAITING_THIRD_PARTY},
    Status.WAITING_THIRD_PARTY: {Status.OPEN, Status.WAITING_CUSTOMER},
    Status.RESOLVED: set(),
    Status.CLOSED: set(),
}


# ---------------------------------------------------------------- helpers


def references_allocate(count: int = 1) -> list[str]:
    """`count` fresh references "SL-" + 6 digits, unique under concurrency (call inside a transaction).

    The UPDATE takes the counter row's lock until the transaction ends, so concurrent creators queue
    here rather than read the same value.
    """
    updated = TicketSequence.objects.filter(name="ticket").update(value=F("value") + count)
    if not updated:
        try:
            with transaction.atomic():
                TicketSequence.objects.create(name="ticket", value=100000 + count)
        except IntegrityError:
            TicketSequence.objects.filter(name="ticket").update(value=F("value") + count)
    last = TicketSequence.objects.get(name="ticket").value
    return [f"{Ticket.REFERENCE_PREFIX}{number:06d}" for number in range(last - count + 1, last + 1)]


def _record(
    ticket: Ticket,
    kind: str,
    *,
    by: User | None = None,
    by_person: Person | None = None,
    at: datetime,
    from_value: str = "",
    to_value: str = "",
    note: str = "",
) -> TicketEvent:
    event = TicketEvent.objects.create(
        ticket=ticket,
        kind=kind,
        by=by,
        by_person=by_person,
        at=at,
        from_value=from_value[:200],
        to_value=to_value[:200],
        note=note[:500],
    )
    event_record(
        "ticket.history_recorded",
        subject=ticket,
        by=by,
        by_label=(by_person.email or str(by_person)) if by_person is not None else "",
        ticket_id=ticket.pk,
        event_id=event.pk,
        kind=kind,
        from_value=event.from_value,
        to_value=event.to_value,
    )
    return event


def _is_staff(user: User | None) -> bool:
    return user is not None and user.is_staff_member


def _require_staff(user: User | None, what: str) -> None:
    if not _is_staff(user):
        raise NotAllowed("staff_only", f"Only staff may {what}.")


def _clean_text(value: str, *, field: str, label: str, max_length: int) -> str:
    value = (value or "").replace("\x00", "").strip()
    if not value:
        raise InvalidInput(f"{field}_required", f"{label} cannot be empty.", field=field)
    if len(value) > max_length:
        raise InvalidInput(f"{field}_too_long", f"{label} has at most {max_length:,} characters.", field=field)
    return value


def _lock(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_related("sla_target__calendar").select_for_update(of=("self",)).get(pk=ticket.pk)


def _check_message_id(email_message_id: str | None) -> str:
    value = (email_message_id or "").strip()
    if len(value) > 500:
        raise InvalidInput("message_id_too_long", "An email Message-ID has at most 500 characters.")
    if value and Message.objects.filter(email_message_id=value).exists():
        raise ConflictError("duplicate_message", "This email has already been recorded.", field="email_message_id")
    return value


def _set_status(
    ticket: Ticket, status: str, *, at: datetime, by: User | None = None, by_person: Person | None = None
) -> None:
    """Change the state and run the clock accordingly (the caller saves the ticket)."""
    previous = ticket.status
    if previous == status:
        return
    ticket.status = status
    was_running = previous in Ticket.RUNNING
    running = status in Ticket.RUNNING
    if was_running and not running:
        sla_stop(ticket, at=at)
        if status == Status.WAITING_CUSTOMER:
            _record(ticket, TicketEvent.Kind.CLOCK_PAUSED, by=by, by_person=by_person, at=at)
    elif running and not was_running:
        # A reopen: the time spent resolved counts as paused, not against the resolution target.
        resolved_since = ticket.resolved_at if previous == Status.RESOLVED else None
        pause = sla_resume(ticket, at=at, resolved_since=resolved_since)
        if previous == Status.WAITING_CUSTOMER or pause.resolved_seconds:
            _record(
                ticket,
                TicketEvent.Kind.CLOCK_RESUMED,
                by=by,
                by_person=by_person,
                at=at,
                note=_pause_note(pause),
            )
    _record(ticket, TicketEvent.Kind.STATUS, by=by, by_person=by_person, at=at, from_value=previous, to_value=status)


def _pause_note(pause: Pause) -> str:
    note = f"paused for {pause.seconds} business seconds"
    if pause.resolved_seconds:
        note += f", {pause.resolved_seconds} of them resolved before the reopen"
    return note


def _record_message(message: Message) -> None:
    event_record(
        "ticket.message_posted",
        subject=message.ticket,
        by=message.author_user,
        ticket_id=message.ticket_id,
        message_id=message.pk,
        kind=message.kind,
    )


# ---------------------------------------------------------------- people


def person_for_user(user: User) -> Person:
    """The contact record behind a customer login, created in their organisation on first use."""
    person = Person.objects.filter(user=user).first()
    if person is not None:
        return person
    if user.organisation_id is None:
        raise NotAllowed("not_a_customer", "Only customer users act as a requester.")
    with transaction.atomic():
        existing = (
            Person.objects.select_for_update()
            .filter(organisation_id=user.organisation_id, email__iexact=user.email, user__isnull=True)
            .first()
        )
        if existing is not None:
            existing.user = user
            existing.save(update_fields=["user", "updated_at"])
            return existing
        try:
            with transaction.atomic():
                return Person.objects.create(
                    organisation_id=user.organisation_id,
                    name=user.name,
                    email=user.email,
                    time_zone=user.time_zone,
                    user=user,
                )
        except IntegrityError:
            # Someone else linked or created it at the same time.
            return Person.objects.get(user=user)


def services_consumed_by(organisation_id: int) -> list[Offering]:
    """Offerings the organisation consumes through active relationships (the portal's choices)."""
    offering_ids = Relationship.objects.filter(
        organisation_id=organisation_id, status=Relationship.Status.ACTIVE
    ).values("offering_id")
    return list(
        Offering.objects.select_related("service").filter(pk__in=offering_ids).order_by("service__name", "name")
    )


# ---------------------------------------------------------------- create


def ticket_create(
    *,
    requester: Person,
    service: Service,
    offering: Offering | None = None,
    type: str,
    subject: str,
    body: str,
    channel: str,
    by: User | None,
    attachments: Iterable[NewAttachment] = (),
    impact: str | None = None,
    urgency: str | None = None,
    email_message_id: str | None = None,
    body_html: str = "",
    routed: str = "",
) -> Ticket:
    """Open a ticket for a person: priority from the matrix, SLA clocks started, first message recorded.

    `routed`: why a mail ticket is on its service (mail_routes.py), kept in the ticket's history.
    """
    if type not in Ticket.Type.values:
        raise InvalidInput("unknown_type", f"Type must be one of: {', '.join(Ticket.Type.values)}.", field="type")
    if channel not in Ticket.Channel.values:
        raise InvalidInput("unknown_channel", f"Channel must be one of: {', '.join(Ticket.Channel.values)}.")
    impact = impact or Ticket.Level.MEDIUM
    urgency = urgency or Ticket.Level.MEDIUM
    for name, value in (("impact", impact), ("urgency", urgency)):
        if value not in Ticket.Level.values:
            raise InvalidInput(f"unknown_{name}", f"{name.title()} is high, medium or low.", field=name)
    subject = _clean_text(subject, field="subject", label="The subject", max_length=SUBJECT_MAX)
    body = _clean_text(body, field="body", label="The description", max_length=BODY_MAX)
    if by is not None and not by.is_staff_member and by.organisation_id != requester.organisation_id:
        raise NotAllowed("other_organisation", "You can only open tickets for your own organisation.")
    offering = _offering_for(requester=requester, service=service, offering=offering, customer=not _is_staff(by))
    checked = attachments_validate(attachments)
    # Attachments are written inside the transaction; a rollback removes them again (core.storage).
    with files_removed_on_rollback(), transaction.atomic():
        message_id = _check_message_id(email_message_id)
        now = clock.now()
        ticket = Ticket(
            reference=references_allocate()[0],
            organisation_id=requester.organisation_id,
            requester=requester,
            service=service,
            offering=offering,
            type=type,
            subject=subject,
            status=Status.NEW,
            impact=impact,
            urgency=urgency,
            priority=priority_for(impact=impact, urgency=urgency),
            channel=channel,
            opened_at=now,
        )
        sla_start(ticket)
        ticket.save()
        author_user = by if by is not None and not by.is_staff_member else None
        _record(ticket, TicketEvent.Kind.CREATED, by=by, by_person=requester, at=now, to_value=ticket.priority)
        if routed:
            _record(ticket, TicketEvent.Kind.ROUTED, at=now, to_value=_place(ticket), note=routed)
        message = Message.objects.create(
            ticket=ticket,
            kind=Message.Kind.PUBLIC,
            channel=channel,
            author_person=requester,
            author_user=author_user,
            body=body,
            body_html=body_html,
            email_message_id=message_id,
            created_at=now,
        )
        attachments_store(message=message, items=checked)
        search_reindex(ticket_ids=[ticket.pk])
        event_record(
            "ticket.created", subject=ticket, by=by, by_label=requester.email or str(requester), ticket_id=ticket.pk
        )
        _record_message(message)
    return ticket


def _offering_for(*, requester: Person, service: Service, offering: Offering | None, customer: bool) -> Offering | None:
    if offering is not None and offering.service_id != service.pk:
        raise InvalidInput("offering_not_of_service", "That offering belongs to another service.", field="offering")
    consumed = [o for o in services_consumed_by(requester.organisation_id) if o.service_id == service.pk]
    if customer and not consumed:
        raise InvalidInput(
            "service_not_consumed",
            "Your organisation does not use this service; choose one of the services listed.",
            field="service",
        )
    if customer and offering is not None and offering not in consumed:
        raise InvalidInput("offering_not_consumed", "Your organisation does not use this offering.", field="offering")
    if offering is None and len(consumed) == 1:
        # One offering of the service in use: its SLA targets apply.
        return consumed[0]
    return offering


# ---------------------------------------------------------------- conversation


def ticket_reply(
    *,
    ticket: Ticket,
    body: str,
    by_user: User | None = None,
    by_person: Person | None = None,
    channel: str,
    internal: bool = False,
    attachments: Iterable[NewAttachment] = (),
    email_message_id: str | None = None,
    in_reply_to: str | None = None,
    body_html: str = "",
) -> Message:
    """Add a public reply or an internal note. Staff replies count as the first response; a customer's
    reply to a ticket waiting on them starts the clock again."""
    if by_user is None and by_person is None:
        raise InvalidInput("author_required", "A message needs an author.")
    if channel not in Ticket.Channel.values:
        raise InvalidInput("unknown_channel", f"Channel must be one of: {', '.join(Ticket.Channel.values)}.")
    staff = _is_staff(by_user)
    if internal and not staff:
        raise NotAllowed("staff_only", "Only staff may write internal notes.")
    if by_user is not None and not staff and by_person is None:
        by_person = person_for_user(by_user)
    body = _clean_text(body, field="body", label="The message", max_length=BODY_MAX)
    checked = attachments_validate(attachments)
    with files_removed_on_rollback(), transaction.atomic():
        message_id = _check_message_id(email_message_id)
        ticket = _lock(ticket)
        if ticket.status == Status.CLOSED:
            raise ConflictError("ticket_closed", f"{ticket.reference} is closed; open a new ticket instead.")
        now = clock.now()
        message = Message.objects.create(
            ticket=ticket,
            kind=Message.Kind.INTERNAL if internal else Message.Kind.PUBLIC,
            channel=channel,
            author_user=by_user,
            author_person=None if staff else by_person,
            body=body,
            body_html=body_html,
            email_message_id=message_id,
            in_reply_to=(in_reply_to or "")[:500],
            created_at=now,
        )
        attachments_store(message=message, items=checked)
        if staff and not internal:
            if ticket.first_response_at is None:
                ticket.first_response_at = now
                business_minutes_set(ticket)
            if ticket.status == Status.NEW:
                _set_status(ticket, Status.OPEN, at=now, by=by_user)
        elif not staff and ticket.status == Status.WAITING_CUSTOMER:
            _set_status(ticket, Status.OPEN, at=now, by=by_user, by_person=by_person)
        elif (
            not staff
            and not internal
            and ticket.status == Status.RESOLVED
            and (ticket.resolved_at is None or now - ticket.resolved_at <= reopen_window())
        ):
            # The requester answering a resolution says it is not solved: back to the agents' queue.
            _reopen_locked(ticket, at=now, by_user=by_user, by_person=by_person, reason="the requester replied")
        ticket.save()
        search_reindex(ticket_ids=[ticket.pk])
        _record_message(message)
    return message


# ---------------------------------------------------------------- workflow


def _place(ticket: Ticket) -> str:
    """Where a ticket is, in words: "Payroll — Monthly payroll run", or the service alone."""
    service = ticket.service.name
    return f"{service} — {ticket.offering.name}" if ticket.offering is not None else service


def _move_target(ticket: Ticket, service: Service, offering: Offering | None) -> Offering | None:
    """The offering a move lands on, checked: of the service, consumed by the ticket's organisation."""
    if offering is not None and offering.service_id != service.pk:
        raise InvalidInput("offering_not_of_service", "That offering belongs to another service.", field="offering")
    consumed = [o for o in services_consumed_by(ticket.organisation_id) if o.service_id == service.pk]
    organisation = ticket.organisation
    if not consumed:
        raise InvalidInput(
            "service_not_consumed",
            f"{organisation} does not consume {service.name}; move the ticket to a service it consumes.",
            field="service",
        )
    if offering is not None and offering not in consumed:
        raise InvalidInput(
            "offering_not_consumed", f"{organisation} does not consume {offering.name}.", field="offering"
        )
    # One offering of the service in use: its SLA targets apply (as when a ticket is opened).
    return consumed[0] if offering is None and len(consumed) == 1 else offering


def ticket_move(
    *, ticket: Ticket, by: User, service: Service, offering: Offering | None = None, note: str = ""
) -> Ticket:
    """Move a ticket to another service (or offering) its organisation consumes.

    The SLA targets become those of the new place, counted from the opening as a priority change
    does; warnings and breaches already recorded stay in the history.
    """
    _require_staff(by, "move tickets between services")
    note = (note or "").replace("\x00", "").strip()
    if len(note) > 500:
        raise InvalidInput("note_too_long", "The reason for the move has at most 500 characters.", field="note")
    offering = _move_target(ticket, service, offering)
    with transaction.atomic():
        ticket = _lock(ticket)
        if ticket.status == Status.CLOSED:
            raise ConflictError("ticket_closed", f"{ticket.reference} is closed and stays where it is.")
        if ticket.service_id == service.pk and ticket.offering_id == (offering.pk if offering else None):
            return ticket
        previous, previous_service_id, previous_offering_id = _place(ticket), ticket.service_id, ticket.offering_id
        old_target_id = ticket.sla_target_id
        ticket.service, ticket.offering = service, offering
        target = sla_target_for(service_id=service.pk, offering_id=ticket.offering_id, priority=ticket.priority)
        if (target.pk if target else None) != old_target_id:
            # Only a new target moves the instants: the same target keeps the time it stood still.
            sla_start(ticket)
            targets = f"SLA targets now those of {_place(ticket)}" if target else "no SLA target here"
            note = f"{note} · {targets}" if note else targets
        business_minutes_set(ticket)  # the calendar may be another one here
        ticket.save()
        _record(
            ticket,
            TicketEvent.Kind.MOVED,
            by=by,
            at=clock.now(),
            from_value=previous,
            to_value=_place(ticket),
            note=note,
        )
        search_reindex(ticket_ids=[ticket.pk])
        event_record(
            "ticket.moved",
            subject=ticket,
            by=by,
            ticket_id=ticket.pk,
            from_service_id=previous_service_id,
            from_offering_id=previous_offering_id,
            service_id=service.pk,
            offering_id=offering.pk if offering else None,
        )
    return ticket


def ticket_set_status(*, ticket: Ticket, status: str, by: User, resolution: str = "") -> Ticket:
    """Move a ticket to another state; resolving, reopening and closing go through their own rules."""
    _require_staff(by, "change a ticket's state")
    if status not in Status.values:
        raise InvalidInput("unknown_status", f"Status must be one of: {', '.join(Status.values)}.", field="status")
    if status == Status.RESOLVED:
        return ticket_resolve(ticket=ticket, by=by, resolution=resolution)
    if status == Status.CLOSED:
        return ticket_close(ticket=ticket, by=by)
    if ticket.status == Status.RESOLVED and status == Status.OPEN:
        return ticket_reopen(ticket=ticket, by_user=by)
    with transaction.atomic():
        ticket = _lock(ticket)
        if status == ticket.status:
            return ticket
        if status not in TRANSITIONS[ticket.status]:
            raise ConflictError(
                "invalid_transition",
                f"A ticket that is {ticket.get_status_display().lower()} cannot become {Status(status).label.lower()}.",
                field="status",
            )
        _set_status(ticket, status, at=clock.now(), by=by)
        ticket.save()
    return ticket


def ticket_set_priority(*, ticket: Ticket, by: User, impact: str, urgency: str) -> Ticket:
    """Re-assess impact and urgency; a new priority gets the targets of that priority."""
    _require_staff(by, "change a ticket's priority")
    for name, value in (("impact", impact), ("urgency", urgency)):
        if value not in Ticket.Level.values:
            raise InvalidInput(f"unknown_{name}", f"{name.title()} is high, medium or low.", field=name)
    with transaction.atomic():
        ticket = _lock(ticket)
        ticket.impact, ticket.urgency = impact, urgency
        priority = priority_for(impact=impact, urgency=urgency)
        if priority != ticket.priority:
            _record(
                ticket, TicketEvent.Kind.PRIORITY, by=by, at=clock.now(), from_value=ticket.priority, to_value=priority
            )
            ticket.priority = priority
            sla_start(ticket)
            business_minutes_set(ticket)  # another target, maybe another calendar
        ticket.save()
    return ticket


def ticket_assign(*, ticket: Ticket, by: User, assignee: User | None = None, team: Team | None = None) -> Ticket:
    """Give the ticket to an agent and/or a team; every change counts as a hop, later ones as reassignments."""
    _require_staff(by, "assign tickets")
    if assignee is not None and not assignee.is_staff_member:
        raise InvalidInput("assignee_not_staff", "Tickets are assigned to staff members only.", field="assignee")
    if assignee is not None and not assignee.is_active:
        raise InvalidInput("assignee_inactive", f"{assignee} can no longer sign in.", field="assignee")
    with transaction.atomic():
        ticket = _lock(ticket)
        if ticket.status == Status.CLOSED:
            raise ConflictError("ticket_closed", f"{ticket.reference} is closed.")
        if ticket.assignee_id == (assignee.pk if assignee else None) and ticket.team_id == (team.pk if team else None):
            return ticket
        previous = ", ".join(str(x) for x in (ticket.assignee, ticket.team) if x) or "nobody"
        now = clock.now()
        if ticket.assignee_id is not None or ticket.team_id is not None:
            ticket.reassignment_count += 1
        ticket.assignment_hops += 1
        ticket.assignee, ticket.team = assignee, team
        _record(
            ticket,
            TicketEvent.Kind.ASSIGNED,
            by=by,
            at=now,
            from_value=previous,
            to_value=", ".join(str(x) for x in (assignee, team) if x) or "nobody",
        )
        if ticket.status == Status.NEW and assignee is not None:
            _set_status(ticket, Status.OPEN, at=now, by=by)
        ticket.save()
    return ticket


def _clean_resolution(resolution: str, *, missing: str) -> str:
    resolution = (resolution or "").replace("\x00", "").strip()
    if not resolution:
        raise InvalidInput("resolution_required", missing, field="resolution")
    if len(resolution) > BODY_MAX:
        raise InvalidInput("resolution_too_long", "The resolution is too long.", field="resolution")
    return resolution


def ticket_resolve(*, ticket: Ticket, by: User, resolution: str) -> Ticket:
    _require_staff(by, "resolve tickets")
    resolution = _clean_resolution(resolution, missing="Say how the ticket was resolved: the requester reads it.")
    with transaction.atomic():
        # Lock the row: two people resolving at once must not send two surveys.
        ticket = _lock(ticket)
        if ticket.status == Status.CLOSED:
            raise ConflictError("ticket_closed", "A closed ticket cannot be resolved.")
        if ticket.status == Status.RESOLVED:
            raise ConflictError("ticket_resolved", f"{ticket.reference} is already resolved.")
        now = clock.now()
        _set_status(ticket, Status.RESOLVED, at=now, by=by)
        ticket.resolution = resolution
        ticket.resolved_at = now
        if ticket.first_response_at is None:
            ticket.first_response_at = now
        ticket.first_contact_resolution = _first_contact(ticket)
        business_minutes_set(ticket)
        ticket.save()
        resolved = _record(ticket, TicketEvent.Kind.RESOLVED, by=by, at=now, note=resolution)
        # The history row's id lets a subscriber ask whether the requester is told of this resolution
        # (`mail_out.resolution_notice_due`): feedback's survey then rides in that notice.
        event_record("ticket.resolved", subject=ticket, by=by, ticket_id=ticket.pk, event_id=resolved.pk)
    return ticket


def _first_contact(ticket: Ticket) -> bool:
    """No reopen, at most one public staff answer and no customer follow-up after the opening message."""
    if ticket.reopen_count:
        return False
    public = list(ticket.messages.filter(kind=Message.Kind.PUBLIC).values_list("author_person_id", flat=True))
    customer_messages = sum(1 for person in public if person is not None)
    staff_messages = len(public) - customer_messages
    return customer_messages <= 1 and staff_messages <= 1


def reopen_window() -> timedelta:
    return timedelta(days=settings.SERVICELOOP_REOPEN_DAYS)


def ticket_reopen(
    *, ticket: Ticket, by_user: User | None = None, by_person: Person | None = None, reason: str = ""
) -> Ticket:
    """Open a resolved ticket again; customers may within the reopen window, staff any time before closing."""
    if by_user is None and by_person is None:
        raise InvalidInput("author_required", "Say who reopens the ticket.")
    staff = _is_staff(by_user)
    if by_user is not None and not staff and by_person is None:
        by_person = person_for_user(by_user)
    with transaction.atomic():
        ticket = _lock(ticket)
        if ticket.status != Status.RESOLVED:
            raise ConflictError(
                "not_resolved",
                f"Only a resolved ticket can be reopened; {ticket.reference} is {ticket.get_status_display().lower()}.",
            )
        now = clock.now()
        if not staff and ticket.resolved_at is not None and now - ticket.resolved_at > reopen_window():
            raise ConflictError(
                "reopen_window_passed",
                f"Tickets can be reopened within {settings.SERVICELOOP_REOPEN_DAYS} days of resolution; "
                "please open a new ticket.",
            )
        _reopen_locked(ticket, at=now, by_user=by_user, by_person=by_person, reason=reason)
    return ticket


def _reopen_locked(
    ticket: Ticket, *, at: datetime, by_user: User | None, by_person: Person | None, reason: str = ""
) -> None:
    """The steps of a reopen, on a row the caller has locked inside its transaction."""
    _set_status(ticket, Status.OPEN, at=at, by=by_user, by_person=by_person)
    ticket.reopen_count += 1
    ticket.resolved_at = None
    ticket.first_contact_resolution = False
    ticket.resolution_business_minutes = None  # counted again, from the opening, at the next resolution
    ticket.save()
    _record(ticket, TicketEvent.Kind.REOPENED, by=by_user, by_person=by_person, at=at, note=reason.replace("\x00", ""))
    event_record("ticket.reopened", subject=ticket, by=by_user, ticket_id=ticket.pk)


def ticket_close(*, ticket: Ticket, by: User | None, automatically: bool = False, duplicate: bool = False) -> Ticket:
    """Close for good: a resolved ticket after its reopen window, or any ticket closed by staff (e.g. a duplicate)."""
    if not automatically:
        _require_staff(by, "close tickets")
    with transaction.atomic():
        ticket = _lock(ticket)
        if ticket.status == Status.CLOSED:
            raise ConflictError("ticket_closed", f"{ticket.reference} is already closed.")
        now = clock.now()
        _set_status(ticket, Status.CLOSED, at=now, by=by)
        ticket.closed_at = now
        ticket.closed_automatically = automatically
        ticket.is_duplicate = ticket.is_duplicate or duplicate
        ticket.save()
        _record(ticket, TicketEvent.Kind.CLOSED, by=by, at=now, note="automatically" if automatically else "")
    return ticket


def tickets_close_resolved(*, older_than: timedelta | None = None) -> int:
    """Close resolved tickets whose reopen window has passed (the periodic task); returns how many."""
    cutoff = clock.now() - (older_than or reopen_window())
    ids = list(Ticket.objects.filter(status=Status.RESOLVED, resolved_at__lte=cutoff).values_list("pk", flat=True))
    closed = 0
    for ticket in Ticket.objects.filter(pk__in=ids):
        try:
            ticket_close(ticket=ticket, by=None, automatically=True)
            closed += 1
        except ConflictError:
            continue  # changed meanwhile
    return closed


# ---------------------------------------------------------------- bulk


def tickets_bulk_assign(
    *, tickets: Sequence[Ticket], by: User, assignee: User | None = None, team: Team | None = None
) -> list[Ticket]:
    _require_staff(by, "assign tickets")
    with transaction.atomic():
        return [ticket_assign(ticket=t, by=by, assignee=assignee, team=team) for t in tickets]


def tickets_bulk_set_status(*, tickets: Sequence[Ticket], by: User, status: str, resolution: str = "") -> list[Ticket]:
    """All or nothing: a ticket that cannot move refuses the whole batch; the message names each one."""
    _require_staff(by, "change a ticket's state")
    if status == Status.RESOLVED:
        return tickets_bulk_resolve(tickets=tickets, by=by, resolution=resolution)
    return _each_or_none(tickets, lambda ticket: ticket_set_status(ticket=ticket, by=by, status=status), done="changed")


def tickets_bulk_resolve(*, tickets: Sequence[Ticket], by: User, resolution: str) -> list[Ticket]:
    """Resolve every ticket with the same resolution text (each requester's resolution notice carries it).

    All or nothing: the text is checked first; a ticket that cannot be resolved refuses the batch.
    """
    _require_staff(by, "resolve tickets")
    resolution = _clean_resolution(
        resolution, missing="Give a resolution for the selected tickets: each requester reads it."
    )
    return _each_or_none(
        tickets, lambda ticket: ticket_resolve(ticket=ticket, by=by, resolution=resolution), done="resolved"
    )


def _each_or_none(tickets: Sequence[Ticket], action: Callable[[Ticket], Ticket], *, done: str) -> list[Ticket]:
    """Apply `action` to each ticket in one transaction; when any refuses, nothing is written and every
    refusal is named in one message."""
    with transaction.atomic():
        # Lock in one order (by row id) so two batches over the same tickets queue rather than deadlock.
        list(Ticket.objects.select_for_update().filter(pk__in=[t.pk for t in tickets]).order_by("pk").values("pk"))
        changed: list[Ticket] = []
        refused: list[tuple[Ticket, ConflictError]] = []
        for ticket in tickets:
            try:
                # A savepoint: whatever a refused ticket wrote before refusing goes with it.
                with transaction.atomic():
                    changed.append(action(ticket))
            except ConflictError as error:
                # The ticket's state refuses it; bad input (InvalidInput) is the same for every ticket and
                # stops the batch at once.
                refused.append((ticket, error))
        if refused:
            raise _refusal(refused, total=len(tickets), done=done)
        return changed


def _refusal(refused: list[tuple[Ticket, ConflictError]], *, total: int, done: str) -> ConflictError:
    shown = [
        error.message if error.message.startswith(ticket.reference) else f"{ticket.reference}: {error.message}"
        for ticket, error in sorted(refused, key=lambda item: item[0].reference)[:10]
    ]
    more = f" (and {len(refused) - 10} more)" if len(refused) > 10 else ""
    codes = {error.code for _, error in refused}
    summary = f"None of the {total} tickets was {done}." if total > 1 else f"The ticket was not {done}."
    return ConflictError(
        codes.pop() if len(codes) == 1 else "bulk_refused", f"{summary} {' '.join(shown)}{more}", field="tickets"
    )

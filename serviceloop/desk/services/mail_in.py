"""Inbound mail: a stored raw mail becomes a new ticket, a reply on the right ticket, a mail held
for review, or a logged refusal.

The way in (webhook, IMAP poll) only stores the raw mail (`mail_store`: an InboundMail row,
outcome `received`, and the event `mail.received` in the same transaction); the worker parses it
within the configured limits and applies it (`mail_process`). Threading, in order: In-Reply-To and
References against the Message-IDs stored on messages (and our own ids, which carry the ticket
reference), then the reference in the subject. A ticket is only ever joined by a participant of it
(mail_senders.py); a mail that claims a ticket from anybody else is held for review or becomes a new
ticket of the sender's own organisation, by SERVICELOOP_MAIL_NONPARTICIPANT. A new ticket's service
is chosen by the mail routes (mail_routes.py): the address it was sent to, then the rules, then the
default; the row and the ticket's history say which route chose it. Every mail keeps its
InboundMail row saying what happened and why; auto-replies, bounces and loops are recorded and never
answered. The same mail delivered twice, even at the same moment, is applied once: the second
delivery is logged as a duplicate (the unique Message-ID on messages decides the race).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction

from serviceloop.accounts.models import Organisation, User
from serviceloop.core import clock
from serviceloop.core.errors import ConflictError, DomainError, InvalidInput, NotAllowed
from serviceloop.core.events import event_record
from serviceloop.core.storage import files_removed_on_rollback
from serviceloop.desk.mail_out import desk_address, reference_in_our_id
from serviceloop.desk.mail_parse import (
    MailLimitError,
    MailLimits,
    MailParseError,
    ParsedMail,
    check_is_mail,
    parse_message,
)
from serviceloop.desk.models import InboundMail, Message, Ticket
from serviceloop.desk.services.attachments import MAX_PER_MESSAGE, NewAttachment, attachments_validate
from serviceloop.desk.services.mail_routes import desk_addresses, mail_route_choose
from serviceloop.desk.services.mail_senders import (
    Participant,
    authentication_refusal,
    nonparticipant_policy,
    participant_of,
    person_of_organisation,
    staff_refusal,
)
from serviceloop.desk.services.tickets import ticket_create, ticket_reply
from serviceloop.relationships.models import Person

Outcome = InboundMail.Outcome
UNKNOWN_SENDER_POLICIES = ("create", "reject")
DUPLICATE = "duplicate: this mail is already on the ticket."


class MailTooLarge(DomainError):
    status = 413

    @classmethod
    def for_size(cls, size: int) -> MailTooLarge:
        limit = int(settings.SERVICELOOP_MAIL_MAX_BYTES)
        return cls(
            "mail_too_large",
            f"A mail may have at most {limit} bytes ({limit / (1024 * 1024):g} MB); this one has {size}.",
        )


@dataclass(frozen=True)
class MailResult:
    outcome: str
    reason: str
    ticket: Ticket | None
    message: Message | None
    log: InboundMail


@dataclass(frozen=True)
class Thread:
    ticket: Ticket
    participant: Participant
    via: str  # "header" | "reference"

    @property
    def person(self) -> Person | None:
        return self.participant.person


def mail_limits() -> MailLimits:
    return MailLimits(
        max_bytes=int(settings.SERVICELOOP_MAIL_MAX_BYTES),
        max_parts=int(settings.SERVICELOOP_MAIL_MAX_PARTS),
        max_depth=int(settings.SERVICELOOP_MAIL_MAX_DEPTH),
        max_headers=int(settings.SERVICELOOP_MAIL_MAX_HEADERS),
    )


def _check_source(source: str) -> None:
    if source not in InboundMail.Source.values:
        raise InvalidInput("unknown_source", f"Source must be one of: {', '.join(InboundMail.Source.values)}.")


def mail_store(*, raw: bytes, source: str) -> InboundMail:
    """Keep one raw mail as received; the worker parses and applies it after the commit.

    Refuses, storing nothing, a mail over SERVICELOOP_MAIL_MAX_BYTES (413) and input that is not a
    mail at all (422); reads nothing but the start of the header block, so a request stays fast.
    """
    _check_source(source)
    raw = bytes(raw)
    if len(raw) > int(settings.SERVICELOOP_MAIL_MAX_BYTES):
        raise MailTooLarge.for_size(len(raw))
    try:
        check_is_mail(raw)
    except MailParseError as error:
        raise InvalidInput("not_a_mail", f"This is not a mail: {error}") from None
    with transaction.atomic():
        log = InboundMail.objects.create(source=source, raw=raw, size=len(raw), received_at=clock.now())
        event_record("mail.received", subject=log, inbound_mail_id=log.pk, source=source)
    # With eager tasks (tests, a one-process set-up) the worker has run at the commit: show its outcome.
    log.refresh_from_db(fields=["outcome", "reason", "ticket", "message", "from_email", "subject", "processed_at"])
    return log


def mail_refused(*, source: str, size: int, reason: str) -> InboundMail:
    """Record a mail refused before it was stored (the IMAP poll: over the size limit, not a mail)."""
    _check_source(source)
    now = clock.now()
    return InboundMail.objects.create(
        source=source, size=size, outcome=Outcome.REJECTED, reason=reason[:500], received_at=now, processed_at=now
    )


def mail_receive(*, raw: bytes, source: str) -> MailResult:
    """Store and process one raw mail at once (the CLI, tests); raises MailParseError for input that is not a mail."""
    check_is_mail(bytes(raw))
    log = mail_store(raw=raw, source=source)
    return mail_process(inbound_mail_id=log.pk) or _result(log)


def _result(log: InboundMail) -> MailResult:
    return MailResult(outcome=log.outcome, reason=log.reason, ticket=log.ticket, message=log.message, log=log)


def mail_process(*, inbound_mail_id: int) -> MailResult | None:
    """Parse and apply a received mail (the worker, through `mail.received`); idempotent: a mail
    already processed is left as it is (None)."""
    with files_removed_on_rollback(), transaction.atomic():
        # Lock the row: two deliveries of the event must not apply the mail twice.
        log = InboundMail.objects.select_for_update().filter(pk=inbound_mail_id).first()
        if log is None or log.outcome != Outcome.RECEIVED:
            return None
        try:
            mail = _parse(log)
        except MailLimitError as error:
            return _finish(log, Outcome.REJECTED, f"{error.code}: {error.message} It was not read.")
        except MailParseError as error:
            return _finish(log, Outcome.REJECTED, f"not_a_mail: {error}")
        _describe(log, mail)
        return mail_apply(mail, log=log)


def _parse(log: InboundMail) -> ParsedMail:
    return parse_message(bytes(log.raw), limits=mail_limits(), authserv_id=settings.SERVICELOOP_MAIL_AUTHSERV_ID)


def _describe(log: InboundMail, mail: ParsedMail) -> None:
    log.email_message_id = (mail.message_id or "")[:500]
    log.from_email = mail.from_email[:254]
    log.subject = mail.subject[:300]
    log.auth_results = mail.authentication.header[:1000]
    log.auth_dmarc = mail.authentication.dmarc[:20]
    log.auth_dkim = mail.authentication.dkim[:20]
    log.auth_spf = mail.authentication.spf[:20]


def _finish(
    log: InboundMail,
    outcome: str,
    reason: str = "",
    *,
    ticket: Ticket | None = None,
    message: Message | None = None,
) -> MailResult:
    log.outcome = outcome
    log.reason = reason[:500]
    log.ticket = ticket
    log.message = message
    log.processed_at = clock.now()
    log.save()
    return MailResult(outcome=outcome, reason=reason, ticket=ticket, message=message, log=log)


def _candidates(mail: ParsedMail) -> list[tuple[Ticket, str]]:
    """Tickets the mail may belong to, best first, with how each was found."""
    ids = [*mail.in_reply_to, *reversed(mail.references)]
    found: list[tuple[Ticket, str]] = []
    if ids:
        rows = Message.objects.select_related("ticket").filter(email_message_id__in=ids)
        by_id = {m.email_message_id: m.ticket for m in rows}
        references: list[str] = []
        for mail_id in ids:
            if mail_id in by_id:
                found.append((by_id[mail_id], "header"))
            elif (reference := reference_in_our_id(mail_id)) is not None:
                references.append(reference)
        found += [(t, "header") for t in _tickets_by_reference(references)]
    found += [(t, "reference") for t in _tickets_by_reference(mail.ticket_references)]
    unique: dict[int, tuple[Ticket, str]] = {}
    for ticket, via in found:
        unique.setdefault(ticket.pk, (ticket, via))
    return list(unique.values())


def _tickets_by_reference(references: list[str]) -> list[Ticket]:
    if not references:
        return []
    tickets = {t.reference: t for t in Ticket.objects.select_related("requester").filter(reference__in=references)}
    return [tickets[r] for r in dict.fromkeys(references) if r in tickets]


def _thread_and_claim(mail: ParsedMail) -> tuple[Thread | None, Ticket | None]:
    """The ticket the sender takes part in (read-only), and the first ticket the mail claims at all."""
    if not mail.from_email:
        return None, None
    candidates = _candidates(mail)
    for ticket, via in candidates:
        participant = participant_of(ticket, mail.from_email)
        if participant is not None:
            return Thread(ticket=ticket, participant=participant, via=via), ticket
    return None, candidates[0][0] if candidates else None


def mail_thread(mail: ParsedMail) -> Thread | None:
    """The ticket a mail threads to and the sender's place there (read-only), or None."""
    return _thread_and_claim(mail)[0]


def _organisation_for_domain(email: str) -> Organisation | None:
    domain = email.rpartition("@")[2].strip().lower()
    if not domain:
        return None
    return Organisation.objects.filter(domain__iexact=domain).order_by("pk").first()


@dataclass(frozen=True)
class Requester:
    """Who a new mail ticket is for: a known contact, or the organisation an unknown sender would join."""

    person: Person | None
    organisation_id: int | None
    refusal: str = ""


def _requester_for(mail: ParsedMail) -> Requester:
    people = list(Person.objects.select_related("organisation").filter(email__iexact=mail.from_email).order_by("pk"))
    if people:
        domain = mail.from_email.rpartition("@")[2].lower()
        same_domain = [p for p in people if (p.organisation.domain or "").lower() == domain]
        person = (same_domain or people)[0]
        return Requester(person=person, organisation_id=person.organisation_id)
    policy = settings.SERVICELOOP_MAIL_UNKNOWN_SENDERS
    if policy != "create":
        reason = f"unknown_sender: {mail.from_email} is not a known contact, and unknown senders are rejected."
        return Requester(person=None, organisation_id=None, refusal=reason)
    organisation = _organisation_for_domain(mail.from_email)
    if organisation is None:
        reason = f"unknown_sender: no organisation has the email domain of {mail.from_email}."
        return Requester(person=None, organisation_id=None, refusal=reason)
    return Requester(person=None, organisation_id=organisation.pk)


def _attachments(mail: ParsedMail) -> tuple[list[NewAttachment], list[str]]:
    """The files the desk accepts; the others are dropped, each with a note for the message."""
    kept: list[NewAttachment] = []
    notes: list[str] = []
    for part in mail.attachments:
        item = NewAttachment(
            filename=part.filename or "attachment", content=part.content, content_type=part.content_type
        )
        if len(kept) >= MAX_PER_MESSAGE:
            notes.append(f"“{item.filename}” was not stored: at most {MAX_PER_MESSAGE} files are kept per message.")
            continue
        try:
            attachments_validate([item])
        except InvalidInput as error:
            notes.append(f"{error.message} It was not stored.")
            continue
        kept.append(item)
    return kept, notes


def _body(mail: ParsedMail, notes: list[str]) -> str:
    body = (mail.body_text or mail.full_text).strip()
    if not body:
        body = "(no text; see the attachments)" if mail.attachments else "(no text)"
    if notes:
        body += "\n\n" + "\n".join(f"[{note}]" for note in notes)
    return body[:100_000]


def mail_apply(mail: ParsedMail, *, log: InboundMail, released_by: User | None = None) -> MailResult:
    """Apply one parsed mail in one transaction: the ticket or reply and its log row commit together.

    `released_by`: an agent released the held mail, so the checks that held it are not made again.
    """
    # The log row is written after the ticket or reply: if it fails, their attachments go with them.
    with files_removed_on_rollback(), transaction.atomic():
        try:
            # A savepoint: a clash below rolls back only our half, and the files that half wrote.
            with files_removed_on_rollback(), transaction.atomic():
                return _apply(mail, log=log, released_by=released_by)
        except IntegrityError:
            # A concurrent delivery of the same mail (the provider retried, two pollers) committed
            # its message first: the Message-ID is unique, so ours was refused. Log this delivery as
            # the duplicate it is; the re-read sees the winner, which committed before we were refused.
            seen = _message_with_id(mail.message_id)
            if seen is not None:
                return _finish(log, Outcome.IGNORED, DUPLICATE, ticket=seen.ticket)
        # Another mail created a row ours needed at the same moment (the person of an unknown
        # sender): it is committed now, so applying again finds it.
        return _apply(mail, log=log, released_by=released_by)


def _message_with_id(message_id: str | None) -> Message | None:
    if not message_id:
        return None
    return Message.objects.select_related("ticket").filter(email_message_id=message_id).first()


def _machine_or_duplicate(mail: ParsedMail, log: InboundMail) -> MailResult | None:
    """The outcome of a mail no person should hear of (a machine's, a loop, a duplicate), else None."""
    if mail.is_auto_reply or mail.is_bounce:
        kind = "bounce" if mail.is_bounce else "auto_reply"
        return _finish(log, Outcome.IGNORED, f"{kind}: {mail.auto_reason or 'sent by a machine'}")
    if not mail.from_email:
        return _finish(log, Outcome.REJECTED, "no_sender: the mail names no sender.")
    if mail.from_email.lower() == desk_address().lower():
        return _finish(log, Outcome.IGNORED, "loop: the mail comes from the desk's own address.")
    if mail.from_email.strip().lower() in desk_addresses():
        return _finish(log, Outcome.IGNORED, "loop: the mail comes from one of the desk's route addresses.")
    seen = _message_with_id(mail.message_id)
    if seen is not None:
        return _finish(log, Outcome.IGNORED, DUPLICATE, ticket=seen.ticket)
    return None


def _apply(mail: ParsedMail, *, log: InboundMail, released_by: User | None) -> MailResult:
    done = _machine_or_duplicate(mail, log)
    if done is not None:
        return done
    thread, claimed = _thread_and_claim(mail)
    if released_by is not None and thread is None and claimed is not None:
        thread = _released_thread(claimed, mail, released_by)
    if thread is None and claimed is not None and nonparticipant_policy() == "hold":
        return _finish(
            log,
            Outcome.HELD,
            f"not_a_participant: {mail.from_email} takes no part in {claimed.reference}; held for review.",
            ticket=claimed,
        )
    if thread is not None and released_by is None:
        refusal = authentication_refusal(mail, organisation_id=thread.ticket.organisation_id) or staff_refusal(
            mail, thread.participant
        )
        if refusal:
            return _finish(log, Outcome.HELD, refusal, ticket=thread.ticket)
    if thread is not None and thread.ticket.status != Ticket.Status.CLOSED:
        return _reply(mail, log=log, thread=thread, released_by=released_by)
    return _new_ticket(mail, log=log, follow_up=thread.ticket.reference if thread else "", released_by=released_by)


def _released_thread(ticket: Ticket, mail: ParsedMail, by: User) -> Thread:
    """A held mail an agent released to its ticket: by the sender's person there, else as the agent's note."""
    person = person_of_organisation(ticket.organisation_id, mail.from_email)
    if person is not None:
        return Thread(ticket=ticket, participant=Participant(person=person), via="release")
    return Thread(ticket=ticket, participant=Participant(user=by), via="release")


def _reply(mail: ParsedMail, *, log: InboundMail, thread: Thread, released_by: User | None) -> MailResult:
    attachments, notes = _attachments(mail)
    body = _body(mail, notes)
    note = released_by is not None and thread.participant.user == released_by
    if note:
        # The sender is nobody on this ticket: the agent who released it keeps it as an internal note.
        body = f"(Mail from {mail.from_email}, held for review and released.)\n\n{body}"[:100_000]
    try:
        message = ticket_reply(
            ticket=thread.ticket,
            body=body,
            by_person=thread.participant.person,
            by_user=thread.participant.user,
            channel=Ticket.Channel.EMAIL,
            internal=note,
            attachments=attachments,
            email_message_id=mail.message_id,
            in_reply_to=mail.in_reply_to[0] if mail.in_reply_to else None,
        )
    except DomainError as error:
        # The same mail delivered at once twice: the reply waited for the ticket's lock, and by
        # then the other delivery had committed this Message-ID. That is a duplicate, not a refusal.
        seen = _message_with_id(mail.message_id)
        if seen is not None:
            return _finish(log, Outcome.IGNORED, DUPLICATE, ticket=seen.ticket)
        return _finish(log, Outcome.REJECTED, f"{error.code}: {error.message}", ticket=thread.ticket)
    reason = f"threaded by {thread.via}" if released_by is None else f"released by {released_by.email}"
    return _finish(log, Outcome.REPLIED, reason, ticket=thread.ticket, message=message)


def _new_ticket(mail: ParsedMail, *, log: InboundMail, follow_up: str, released_by: User | None) -> MailResult:
    requester = _requester_for(mail)
    if requester.organisation_id is None:
        return _finish(log, Outcome.REJECTED, requester.refusal)
    if released_by is None:
        refusal = authentication_refusal(mail, organisation_id=requester.organisation_id)
        if refusal:
            return _finish(log, Outcome.HELD, refusal)
    routing = mail_route_choose(mail=mail, organisation_id=requester.organisation_id, raw=bytes(log.raw or b""))
    log.route = routing.explanation
    if routing.service is None:
        organisation = Organisation.objects.get(pk=requester.organisation_id)
        return _finish(
            log, Outcome.REJECTED, f"no_service: {organisation} consumes no live service to open a ticket on."
        )
    person = requester.person or Person.objects.create(
        organisation_id=requester.organisation_id, email=mail.from_email[:254], name=(mail.from_name or "")[:200]
    )
    attachments, notes = _attachments(mail)
    body = _body(mail, notes)
    if follow_up:
        body = f"(Follow-up of the closed ticket {follow_up}.)\n\n{body}"[:100_000]
    try:
        ticket = ticket_create(
            requester=person,
            service=routing.service,
            offering=routing.offering,
            type=Ticket.Type.INCIDENT,
            subject=(mail.subject.strip() or "(no subject)")[:300],
            body=body,
            channel=Ticket.Channel.EMAIL,
            by=None,
            attachments=attachments,
            email_message_id=mail.message_id,
            routed=routing.explanation,
        )
    except DomainError as error:
        # The same new mail delivered twice at once: by the time this one checked, the other had
        # committed the Message-ID. A duplicate (ignored), as when it is seen first, not a refusal.
        log.route = ""
        seen = _message_with_id(mail.message_id)
        if seen is not None:
            return _finish(log, Outcome.IGNORED, DUPLICATE, ticket=seen.ticket)
        return _finish(log, Outcome.REJECTED, f"{error.code}: {error.message}")
    opening = ticket.messages.order_by("pk").first()
    reason = f"follow-up of closed {follow_up}" if follow_up else "new ticket"
    if released_by is not None:
        reason += f", released by {released_by.email}"
    return _finish(log, Outcome.CREATED, reason, ticket=ticket, message=opening)


def _held(inbound: InboundMail, by: User) -> InboundMail:
    if not getattr(by, "is_staff_member", False):
        raise NotAllowed("staff_only", "Only staff may review held mail.")
    log = InboundMail.objects.select_for_update().get(pk=inbound.pk)
    if log.outcome != Outcome.HELD:
        raise ConflictError(
            "mail_not_held", f"Only a mail held for review can be released or discarded; this one is {log.outcome}."
        )
    return log


def mail_release(*, inbound: InboundMail, by: User) -> MailResult:
    """An agent releases a held mail: it goes on the ticket it claimed (or opens its ticket) as if trusted."""
    with files_removed_on_rollback(), transaction.atomic():
        log = _held(inbound, by)
        held_for = log.reason
        try:
            mail = _parse(log)
        except MailParseError as error:  # e.g. the limits were lowered since it was held
            raise ConflictError(
                "mail_unreadable", f"This mail cannot be applied now: {error}. Discard it instead."
            ) from None
        result = mail_apply(mail, log=log, released_by=by)
        InboundMail.objects.filter(pk=log.pk).update(reviewed_by=by, reviewed_at=clock.now())
        event_record("mail.released", subject=log, by=by, outcome=result.outcome, held_for=held_for[:200])
    log.refresh_from_db()
    return _result(log)


def mail_discard(*, inbound: InboundMail, by: User) -> InboundMail:
    """An agent discards a held mail: nothing is applied, the row says who and why it was held."""
    with transaction.atomic():
        log = _held(inbound, by)
        now = clock.now()
        log.reason = f"discarded by {by.email}; it was held: {log.reason}"[:500]
        log.outcome = Outcome.DISCARDED
        log.reviewed_by = by
        log.reviewed_at = now
        log.save()
        event_record("mail.discarded", subject=log, by=by)
    return log


def mail_preview(mail: ParsedMail, raw: bytes = b"", *, look_up_thread: bool = True) -> dict[str, object]:
    """What applying the mail would do, computed without writing: the ticket it threads to, or the
    route a new ticket would take, and the stored body.

    `look_up_thread=False` where there is no database to look the ticket or the route up in (a fresh install).
    """
    thread = mail_thread(mail) if look_up_thread else None
    _kept, notes = _attachments(mail)
    route = None
    if look_up_thread and thread is None and mail.from_email:
        requester = _requester_for(mail)
        if requester.organisation_id is not None:
            route = mail_route_choose(mail=mail, organisation_id=requester.organisation_id, raw=raw).explanation
    return {
        "would_thread_to": thread.ticket.reference if thread is not None else None,
        "threaded_by": thread.via if thread is not None else None,
        "would_route_to": route,
        "stored_body": _body(mail, notes),
    }

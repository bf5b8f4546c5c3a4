"""Inbound mail: a parsed mail becomes a new ticket, a reply on the right ticket, or a logged refusal.

Threading, in order: In-Reply-To and References against the Message-IDs stored on messages (and
our own ids, which carry the ticket reference), then the reference in the subject. A ticket is
only ever joined by a person of its organisation: a reference alone, from anybody else, never
attaches to another organisation's ticket. Every mail leaves one InboundMail row saying what
happened and why; auto-replies, bounces and loops are recorded and never answered. The same mail
delivered twice, even at the same moment, is applied once: the second delivery is logged as a
duplicate (the unique Message-ID on messages decides the race).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction

from serviceloop.accounts.models import Organisation
from serviceloop.catalogue.models import Service
from serviceloop.core import clock
from serviceloop.core.errors import DomainError, InvalidInput
from serviceloop.core.storage import files_removed_on_rollback
from serviceloop.desk.mail_out import desk_address, reference_in_our_id
from serviceloop.desk.mail_parse import ParsedMail, parse_message
from serviceloop.desk.models import InboundMail, Message, Ticket
from serviceloop.desk.services.attachments import MAX_PER_MESSAGE, NewAttachment, attachments_validate
from serviceloop.desk.services.tickets import services_consumed_by, ticket_create, ticket_reply
from serviceloop.relationships.models import Person

Outcome = InboundMail.Outcome
UNKNOWN_SENDER_POLICIES = ("create", "reject")
DUPLICATE = "duplicate: this mail is already on the ticket."


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
    person: Person
    via: str  # "header" | "reference"


def _sender_in(organisation_id: int, email: str) -> Person | None:
    return Person.objects.filter(organisation_id=organisation_id, email__iexact=email).first()


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
    tickets = {t.reference: t for t in Ticket.objects.filter(reference__in=references)}
    return [tickets[r] for r in dict.fromkeys(references) if r in tickets]


def mail_thread(mail: ParsedMail) -> Thread | None:
    """The ticket a mail threads to and the sender's person there (read-only), or None."""
    if not mail.from_email:
        return None
    for ticket, via in _candidates(mail):
        person = _sender_in(ticket.organisation_id, mail.from_email)
        if person is not None:
            return Thread(ticket=ticket, person=person, via=via)
    return None


def _organisation_for_domain(email: str) -> Organisation | None:
    domain = email.rpartition("@")[2].strip().lower()
    if not domain:
        return None
    return Organisation.objects.filter(domain__iexact=domain).order_by("pk").first()


def _sender_person(mail: ParsedMail) -> tuple[Person | None, str]:
    """The person a new ticket is for: a known contact, or one created by the unknown-sender policy."""
    people = list(Person.objects.select_related("organisation").filter(email__iexact=mail.from_email).order_by("pk"))
    if people:
        domain = mail.from_email.rpartition("@")[2].lower()
        same_domain = [p for p in people if (p.organisation.domain or "").lower() == domain]
        return (same_domain or people)[0], ""
    policy = settings.SERVICELOOP_MAIL_UNKNOWN_SENDERS
    if policy != "create":
        return None, f"unknown_sender: {mail.from_email} is not a known contact, and unknown senders are rejected."
    organisation = _organisation_for_domain(mail.from_email)
    if organisation is None:
        return None, f"unknown_sender: no organisation has the email domain of {mail.from_email}."
    person = Person.objects.create(
        organisation=organisation, email=mail.from_email[:254], name=(mail.from_name or "")[:200]
    )
    return person, ""


def _default_service(organisation_id: int) -> Service | None:
    """The configured default service if the organisation consumes it, else its first live service."""
    consumed = [o.service for o in services_consumed_by(organisation_id) if o.service.lifecycle == "live"]
    slug = settings.SERVICELOOP_MAIL_DEFAULT_SERVICE
    if slug:
        for service in consumed:
            if service.slug == slug:
                return service
    return consumed[0] if consumed else None


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


def _log(
    mail: ParsedMail,
    *,
    source: str,
    size: int,
    outcome: str,
    reason: str = "",
    ticket: Ticket | None = None,
    message: Message | None = None,
) -> MailResult:
    log = InboundMail.objects.create(
        source=source,
        email_message_id=(mail.message_id or "")[:500],
        from_email=mail.from_email[:254],
        subject=mail.subject[:300],
        size=size,
        outcome=outcome,
        reason=reason[:500],
        ticket=ticket,
        message=message,
        received_at=clock.now(),
    )
    return MailResult(outcome=outcome, reason=reason, ticket=ticket, message=message, log=log)


def mail_receive(*, raw: bytes, source: str) -> MailResult:
    """Parse and apply one raw mail; raises MailParseError for input that is not a mail."""
    return mail_apply(parse_message(raw), source=source, size=len(raw))


def mail_apply(mail: ParsedMail, *, source: str, size: int = 0) -> MailResult:
    """Apply one parsed mail in one transaction: the ticket or reply and its log row commit together."""
    if source not in InboundMail.Source.values:
        raise InvalidInput("unknown_source", f"Source must be one of: {', '.join(InboundMail.Source.values)}.")
    # The log row is written after the ticket or reply: if it fails, their attachments go with them.
    with files_removed_on_rollback(), transaction.atomic():
        try:
            # A savepoint: a clash below rolls back only our half, and the files that half wrote.
            with files_removed_on_rollback(), transaction.atomic():
                return _apply(mail, source=source, size=size)
        except IntegrityError:
            # A concurrent delivery of the same mail (the provider retried, two pollers) committed
            # its message first: the Message-ID is unique, so ours was refused. Log this delivery as
            # the duplicate it is; the re-read sees the winner, which committed before we were refused.
            seen = _message_with_id(mail.message_id)
            if seen is not None:
                return _log(
                    mail, source=source, size=size, outcome=Outcome.IGNORED, reason=DUPLICATE, ticket=seen.ticket
                )
        # Another mail created a row ours needed at the same moment (the person of an unknown
        # sender): it is committed now, so applying again finds it.
        return _apply(mail, source=source, size=size)


def _message_with_id(message_id: str | None) -> Message | None:
    if not message_id:
        return None
    return Message.objects.select_related("ticket").filter(email_message_id=message_id).first()


def _apply(mail: ParsedMail, *, source: str, size: int) -> MailResult:
    def log(outcome: str, reason: str = "", **rows: object) -> MailResult:
        return _log(mail, source=source, size=size, outcome=outcome, reason=reason, **rows)  # type: ignore[arg-type]

    if mail.is_auto_reply or mail.is_bounce:
        kind = "bounce" if mail.is_bounce else "auto_reply"
        return log(Outcome.IGNORED, f"{kind}: {mail.auto_reason or 'sent by a machine'}")
    if not mail.from_email:
        return log(Outcome.REJECTED, "no_sender: the mail names no sender.")
    if mail.from_email.lower() == desk_address().lower():
        return log(Outcome.IGNORED, "loop: the mail comes from the desk's own address.")
    seen = _message_with_id(mail.message_id)
    if seen is not None:
        return log(Outcome.IGNORED, DUPLICATE, ticket=seen.ticket)

    attachments, notes = _attachments(mail)
    body = _body(mail, notes)
    thread = mail_thread(mail)
    follow_up = ""
    if thread is not None and thread.ticket.status != Ticket.Status.CLOSED:
        try:
            message = ticket_reply(
                ticket=thread.ticket,
                body=body,
                by_person=thread.person,
                channel=Ticket.Channel.EMAIL,
                attachments=attachments,
                email_message_id=mail.message_id,
                in_reply_to=mail.in_reply_to[0] if mail.in_reply_to else None,
            )
        except DomainError as error:
            # The same mail delivered at once twice: the reply waited for the ticket's lock, and by
            # then the other delivery had committed this Message-ID. That is a duplicate, not a refusal.
            seen = _message_with_id(mail.message_id)
            if seen is not None:
                return log(Outcome.IGNORED, DUPLICATE, ticket=seen.ticket)
            return log(Outcome.REJECTED, f"{error.code}: {error.message}", ticket=thread.ticket)
        return log(Outcome.REPLIED, f"threaded by {thread.via}", ticket=thread.ticket, message=message)
    if thread is not None:
        follow_up = thread.ticket.reference

    person, refusal = _sender_person(mail)
    if person is None:
        return log(Outcome.REJECTED, refusal)
    service = _default_service(person.organisation_id)
    if service is None:
        return log(Outcome.REJECTED, f"no_service: {person.organisation} consumes no live service to open a ticket on.")
    if follow_up:
        body = f"(Follow-up of the closed ticket {follow_up}.)\n\n{body}"[:100_000]
    try:
        ticket = ticket_create(
            requester=person,
            service=service,
            type=Ticket.Type.INCIDENT,
            subject=(mail.subject.strip() or "(no subject)")[:300],
            body=body,
            channel=Ticket.Channel.EMAIL,
            by=None,
            attachments=attachments,
            email_message_id=mail.message_id,
        )
    except DomainError as error:
        return log(Outcome.REJECTED, f"{error.code}: {error.message}")
    opening = ticket.messages.order_by("pk").first()
    reason = f"follow-up of closed {follow_up}" if follow_up else "new ticket"
    return log(Outcome.CREATED, reason, ticket=ticket, message=opening)


def mail_preview(mail: ParsedMail) -> dict[str, object]:
    """What applying the mail would do, computed without writing: the ticket it threads to and the stored body."""
    thread = mail_thread(mail)
    _kept, notes = _attachments(mail)
    return {
        "would_thread_to": thread.ticket.reference if thread is not None else None,
        "threaded_by": thread.via if thread is not None else None,
        "stored_body": _body(mail, notes),
    }

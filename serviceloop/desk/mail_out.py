"""Outbound desk mail: the requester hears of a new ticket, a public staff reply, a change of state
and the resolution, in HTML and plain text, threaded so that their answer comes back to the ticket.

Threading: every mail of a ticket references a stable root id `<SL-104233@desk-domain>`; a mail
about a message carries `<SL-104233.<message public id>@desk-domain>` as its Message-ID, stored on
the Message, so a reply's In-Reply-To finds it. Mail about a state change has
`<SL-104233.e<event id>-<random>@desk-domain>`: not stored, but inbound mail recognises our own ids
by their shape (`reference_in_our_id`) and threads by the reference in them.

One mail on resolution: the resolution notice carries what higher apps add to it (`core.links`
MAIL_PARTS for "desk.ticket_resolved"; feedback adds the survey's one-click buttons), in the same
transaction that queues it. Feedback's own subscriber of `ticket.resolved` invites alone only when
`resolution_notice_due` says no notice goes out.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse

from serviceloop.core import clock
from serviceloop.core.links import MailBlock, mail_parts
from serviceloop.core.mail import OutboundEmail, email_queue
from serviceloop.desk.models import AcknowledgementCount, Message, Ticket, TicketEvent

logger = logging.getLogger(__name__)

Status = Ticket.Status

# Changes of state the requester is told about (a staff action); others are noise for them
# (new → open happens with the first answer, which they get anyway).
NOTIFIED_STATES = {Status.WAITING_CUSTOMER, Status.WAITING_THIRD_PARTY}
NOTIFIED_RETURNS = {Status.WAITING_CUSTOMER, Status.WAITING_THIRD_PARTY, Status.RESOLVED}
_OUR_ID = re.compile(r"^(SL-\d+)(?:\.[\w.-]+)?@(.+)$", re.IGNORECASE)
_MAX_REFERENCES = 10


def desk_address() -> str:
    return str(settings.SERVICELOOP_MAIL_ADDRESS)


def mail_domain() -> str:
    return desk_address().rpartition("@")[2].lower() or "serviceloop.localhost"


def thread_root_id(ticket: Ticket) -> str:
    return f"{ticket.reference}@{mail_domain()}"


def message_mail_id(message: Message) -> str:
    return f"{message.ticket.reference}.{message.public_id}@{mail_domain()}"


def reference_in_our_id(message_id: str) -> str | None:
    """The ticket reference inside a Message-ID we generated, or None for anybody else's id."""
    match = _OUR_ID.match(message_id.strip())
    if match is None or match.group(2).lower() != mail_domain():
        return None
    return match.group(1).upper()


def subject_for(ticket: Ticket) -> str:
    return f"[{ticket.reference}] {ticket.subject}"


def acknowledgement_subject(ticket: Ticket) -> str:
    # Not the ticket's subject: whoever wrote the mail chose it, and the acknowledgement goes to the
    # address in its From, which anybody can write.
    return f"[{ticket.reference}] We have received your request"


def acknowledgement_allowed(address: str) -> bool:
    """Count one acknowledgement to `address` in this clock hour; False when the hour's limit is reached.

    Counted in the database with a conditional UPDATE, so that every worker process shares the limit.
    """
    limit = int(settings.SERVICELOOP_MAIL_ACK_PER_HOUR)
    if limit <= 0:
        return False
    window = clock.now().replace(minute=0, second=0, microsecond=0)
    row, _created = AcknowledgementCount.objects.get_or_create(
        address=address.strip().lower()[:254], window_start=window
    )
    return bool(AcknowledgementCount.objects.filter(pk=row.pk, count__lt=limit).update(count=F("count") + 1))


def acknowledgement_counts_prune(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Forget the counts of hours long past (the daily housekeeping of the desk)."""
    deleted, _ = AcknowledgementCount.objects.filter(window_start__lt=clock.now() - older_than).delete()
    return deleted


def _portal_url(ticket: Ticket) -> str:
    return settings.SITE_URL + reverse("desk:portal_ticket", kwargs={"public_id": ticket.public_id})


def _threading(ticket: Ticket, own_id: str) -> dict[str, str]:
    """Message-ID, and In-Reply-To/References pointing at the requester's last mail (or the root)."""
    ids = list(
        ticket.messages.exclude(email_message_id="")
        .exclude(email_message_id=own_id)
        .order_by("created_at", "pk")
        .values_list("email_message_id", "author_person_id")
    )
    customer_ids = [mail_id for mail_id, person in ids if person is not None]
    parent = customer_ids[-1] if customer_ids else thread_root_id(ticket)
    chain = [thread_root_id(ticket)] + [mail_id for mail_id, _ in ids]
    chain = list(dict.fromkeys(chain))
    if len(chain) > _MAX_REFERENCES:
        chain = chain[:1] + chain[-(_MAX_REFERENCES - 1) :]
    if parent not in chain:
        chain.append(parent)
    return {
        "Message-ID": f"<{own_id}>",
        "In-Reply-To": f"<{parent}>",
        "References": " ".join(f"<{mail_id}>" for mail_id in chain),
    }


def _recipient(ticket: Ticket) -> str | None:
    """The requester's address when the desk mails them at all, else None."""
    to = (ticket.requester.email or "").strip()
    if not settings.SERVICELOOP_MAIL_NOTIFY or not to or to.lower() == desk_address().lower():
        return None
    return to


def _send(
    ticket: Ticket,
    *,
    kind: str,
    own_id: str,
    context: dict[str, Any],
    parts: list[MailBlock] | None = None,
) -> bool:
    requester = ticket.requester
    to = _recipient(ticket)
    if to is None:
        return False
    if kind == "created" and not acknowledgement_allowed(to):
        logger.info("acknowledgement of %s to %s not sent: the hourly limit is reached", ticket.reference, to)
        return False
    parts = parts or []
    context = {
        "ticket": ticket,
        "requester": requester,
        "url": _portal_url(ticket),
        "kind": kind,
        "parts": parts,
        **context,
    }
    headers: dict[str, str] = {}
    for part in parts:
        headers.update(part.headers)
    # The ticket's threading wins over anything a part sets: the answer must come back to the ticket.
    headers.update(_threading(ticket, own_id))
    email_queue(
        OutboundEmail(
            to=[to],
            subject=acknowledgement_subject(ticket) if kind == "created" else subject_for(ticket),
            text=render_to_string("desk/email/notification.txt", context),
            html=render_to_string("desk/email/notification.html", context),
            headers=headers,
            reply_to=[desk_address()],
        )
    )
    return True


def _ticket(ticket_id: int) -> Ticket | None:
    return Ticket.objects.select_related("requester", "service").filter(pk=ticket_id).first()


def notify_ticket_created(ticket_id: int) -> bool:
    """The acknowledgement; its Message-ID goes on the opening message when that came without one."""
    ticket = _ticket(ticket_id)
    if ticket is None:
        return False
    opening = ticket.messages.filter(kind=Message.Kind.PUBLIC).order_by("created_at", "pk").first()
    if opening is not None and not opening.email_message_id:
        own_id = message_mail_id(opening)
        Message.objects.filter(pk=opening.pk, email_message_id="").update(email_message_id=own_id)
    else:
        own_id = f"{ticket.reference}.new-{secrets.token_hex(6)}@{mail_domain()}"
    return _send(ticket, kind="created", own_id=own_id, context={})


def notify_public_reply(message_id: int) -> bool:
    """A public staff reply, carried in full; its Message-ID is stored on the message."""
    message = Message.objects.select_related("ticket", "author_user").filter(pk=message_id).first()
    if message is None or message.is_internal or not message.from_staff:
        return False
    ticket = _ticket(message.ticket_id)
    if ticket is None:
        return False
    own_id = message.email_message_id or message_mail_id(message)
    if not message.email_message_id:
        Message.objects.filter(pk=message.pk, email_message_id="").update(email_message_id=own_id)
    return _send(ticket, kind="reply", own_id=own_id, context={"message": message})


def _resolution_text(event: TicketEvent, ticket: Ticket) -> str:
    """The whole resolution: the history keeps its first 500 characters, the ticket all of it (unless the
    ticket was resolved again since, with other words: then this event's own)."""
    if ticket.resolution and (not event.note or ticket.resolution.startswith(event.note)):
        return ticket.resolution
    return event.note


def notify_event(event_id: int) -> bool:
    """A change of state made by staff (waiting, back to work, resolved with its resolution)."""
    event = TicketEvent.objects.filter(pk=event_id).first()
    if event is None or not event_is_notified(event):
        return False
    ticket = _ticket(event.ticket_id)
    if ticket is None:
        return False
    own_id = f"{ticket.reference}.e{event.pk}-{secrets.token_hex(4)}@{mail_domain()}"
    if event.kind == TicketEvent.Kind.RESOLVED:
        # Higher apps add their part (feedback: the survey, recorded as an invitation here, in this
        # subscriber's transaction), so the requester gets one mail that says both.
        return _send(
            ticket,
            kind="resolved",
            own_id=own_id,
            context={"resolution": _resolution_text(event, ticket)},
            # Asked only when the notice goes out: a part may record what the mail then carries.
            parts=mail_parts("desk.ticket_resolved", ticket) if _recipient(ticket) else [],
        )
    return _send(
        ticket,
        kind="status",
        own_id=own_id,
        context={"new_status": Status(event.to_value).label, "old_status": Status(event.from_value).label},
    )


def resolution_notice_due(*, event_id: int | None) -> bool:
    """Whether the requester is mailed the resolution recorded as TicketEvent `event_id` (and so the
    notice carries the higher apps' parts). False for an unknown event: nothing can carry them."""
    if event_id is None:
        return False
    event = TicketEvent.objects.filter(pk=event_id, kind=TicketEvent.Kind.RESOLVED).first()
    if event is None or not event_is_notified(event):
        return False
    ticket = _ticket(event.ticket_id)
    return ticket is not None and _recipient(ticket) is not None


def event_is_notified(event: TicketEvent) -> bool:
    if event.by_person_id is not None:
        return False  # the requester's own doing (their reply or reopen)
    if event.kind == TicketEvent.Kind.RESOLVED:
        return True
    if event.kind != TicketEvent.Kind.STATUS or event.from_value not in Status.values:
        return False
    if event.to_value in NOTIFIED_STATES:
        return True
    return event.to_value == Status.OPEN and event.from_value in NOTIFIED_RETURNS

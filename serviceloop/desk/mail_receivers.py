"""Wiring of the outbound mail to the desk's own signals (connected in DeskConfig.ready()).

The desk's signals say that a ticket was created, that a message was posted, and that a history row
(TicketEvent) was recorded, each after its transaction commits; `mail_out` decides which changes
the requester hears of. Services stay free of mail code.
"""

from __future__ import annotations

from typing import Any

from serviceloop.desk import mail_out
from serviceloop.desk.signals import message_posted, ticket_created, ticket_event_recorded


def on_ticket_created(sender: Any, ticket_id: int, **kwargs: Any) -> None:
    mail_out.notify_ticket_created(ticket_id)


def on_message_posted(sender: Any, message_id: int, **kwargs: Any) -> None:
    mail_out.notify_public_reply(message_id)


def on_event_recorded(sender: Any, event_id: int, **kwargs: Any) -> None:
    mail_out.notify_event(event_id)


def connect() -> None:
    ticket_created.connect(on_ticket_created, dispatch_uid="desk.mail.ticket_created")
    message_posted.connect(on_message_posted, dispatch_uid="desk.mail.message_posted")
    ticket_event_recorded.connect(on_event_recorded, dispatch_uid="desk.mail.ticket_event")

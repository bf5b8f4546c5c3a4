"""Wiring of the outbound mail to the desk's own signals (connected in DeskConfig.ready()).

The desk's signals say that a ticket was created and that a message was posted; changes of state
and resolutions are read from the ticket's history rows (TicketEvent), so that every change a
service records is told, and only after its transaction commits. Services stay free of mail code.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

from serviceloop.desk import mail_out
from serviceloop.desk.models import TicketEvent
from serviceloop.desk.signals import message_posted, ticket_created


def on_ticket_created(sender: Any, ticket_id: int, **kwargs: Any) -> None:
    mail_out.notify_ticket_created(ticket_id)


def on_message_posted(sender: Any, message_id: int, **kwargs: Any) -> None:
    mail_out.notify_public_reply(message_id)


def on_event_saved(sender: Any, instance: TicketEvent, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if created and not raw and mail_out.event_is_notified(instance):
        event_id = instance.pk
        transaction.on_commit(lambda: mail_out.notify_event(event_id))


def connect() -> None:
    ticket_created.connect(on_ticket_created, dispatch_uid="desk.mail.ticket_created")
    message_posted.connect(on_message_posted, dispatch_uid="desk.mail.message_posted")
    post_save.connect(on_event_saved, sender=TicketEvent, dispatch_uid="desk.mail.ticket_event")

"""The desk's own subscribers: outbound mail follows the desk's events (registered in DeskConfig.ready()).

The desk records that a ticket was created, that a message was posted, and that a history row
(TicketEvent) was recorded, each in the transaction of the change; the worker delivers them here
after commit, at least once. A mail that came in (`mail.received`) is parsed and applied here, in the
worker, never in the web request that stored it. `mail_out` decides which changes the requester hears of, and queues the
mail in the outbox in the subscriber's transaction, so a delivery that ran twice mails once.
"""

from __future__ import annotations

from serviceloop.core.events import subscriber
from serviceloop.core.models import Event
from serviceloop.desk import mail_out
from serviceloop.desk.services.mail_in import mail_process


@subscriber("mail.received", name="desk.mail.process")
def on_mail_received(event: Event) -> None:
    mail_process(inbound_mail_id=event.data["inbound_mail_id"])


@subscriber("ticket.created", name="desk.mail.ticket_created")
def on_ticket_created(event: Event) -> None:
    mail_out.notify_ticket_created(event.data["ticket_id"])


@subscriber("ticket.message_posted", name="desk.mail.message_posted")
def on_message_posted(event: Event) -> None:
    mail_out.notify_public_reply(event.data["message_id"])


@subscriber("ticket.history_recorded", name="desk.mail.ticket_event")
def on_event_recorded(event: Event) -> None:
    mail_out.notify_event(event.data["event_id"])

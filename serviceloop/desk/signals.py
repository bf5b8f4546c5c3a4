"""Signals the desk sends after commit, with ids only; higher apps connect in receivers.py."""

from django.dispatch import Signal

# ticket_id: int — a ticket was created.
ticket_created = Signal()
# ticket_id: int — a ticket was resolved (feedback invites the requester; experience counts it).
ticket_resolved = Signal()
# ticket_id: int — a resolved ticket was reopened.
ticket_reopened = Signal()
# ticket_id: int, target: str ("first_response" | "resolution"), breached_at: datetime — an SLA target was breached.
sla_breached = Signal()
# message_id: int — a message was added to a ticket's conversation (public reply or internal note);
# the email part notifies the requester of public staff replies.
message_posted = Signal()
# event_id: int — a history row (TicketEvent) was recorded by a desk service: a change of state, an
# assignment, a resolution... (the email channel tells the requester of the ones they should hear of).
ticket_event_recorded = Signal()

"""Every write of the desk. Callers import from here: `from serviceloop.desk.services import ticket_create`."""

from serviceloop.desk.services.attachments import NewAttachment, attachments_orphans_delete, attachments_validate
from serviceloop.desk.services.sla import priority_for, sla_check, sla_start, sla_target_for, ticket_clocks
from serviceloop.desk.services.tickets import (
    person_for_user,
    references_allocate,
    services_consumed_by,
    ticket_assign,
    ticket_close,
    ticket_create,
    ticket_move,
    ticket_reopen,
    ticket_reply,
    ticket_resolve,
    ticket_set_priority,
    ticket_set_status,
    tickets_bulk_assign,
    tickets_bulk_resolve,
    tickets_bulk_set_status,
    tickets_close_resolved,
)

__all__ = [
    "NewAttachment",
    "attachments_orphans_delete",
    "attachments_validate",
    "person_for_user",
    "priority_for",
    "references_allocate",
    "services_consumed_by",
    "sla_check",
    "sla_start",
    "sla_target_for",
    "ticket_assign",
    "ticket_clocks",
    "ticket_close",
    "ticket_create",
    "ticket_move",
    "ticket_reopen",
    "ticket_reply",
    "ticket_resolve",
    "ticket_set_priority",
    "ticket_set_status",
    "tickets_bulk_assign",
    "tickets_bulk_resolve",
    "tickets_bulk_set_status",
    "tickets_close_resolved",
]

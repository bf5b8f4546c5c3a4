"""Reads of the desk, narrowed to what the viewer may see.

Staff see every ticket. A customer user sees their organisation's tickets only: all of them when
they hold the customer or sponsor role in one of its active relationships, otherwise the tickets
they requested. Customers never see internal notes, nor their attachments; another organisation's
ticket is a 404 everywhere (page, API, attachment URL, search).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import BooleanField, Count, ExpressionWrapper, F, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core.visibility import is_staff_viewer, require_staff, restrict_to_organisation
from serviceloop.desk.models import Attachment, InboundMail, MailRoute, Message, SlaEvent, Team, Ticket, TicketEvent
from serviceloop.desk.search import SEARCH_ORDERING, search_filter
from serviceloop.desk.services.sla import breaching_soon_window
from serviceloop.desk.services.tickets import services_consumed_by
from serviceloop.relationships.models import Relationship, RelationshipRole

QUEUES = {
    "open": "All open",
    "mine": "Mine",
    "unassigned": "Unassigned",
    "breaching": "Breaching soon",
    "waiting": "Waiting on customer",
    "resolved": "Resolved",
    "all": "All",
}
# No sort chosen (""): the best match first when searching, else the time left.
SORTS = {
    "relevance": "Best match",
    "due": "Time left",
    "newest": "Newest",
    "oldest": "Oldest",
    "priority": "Priority",
}


def _id(value: str) -> str:
    # Public ids are plain text; a NUL byte (which PostgreSQL refuses in text) can match nothing.
    return value.replace("\x00", "")


def sees_whole_organisation(viewer: User) -> bool:
    if viewer.organisation_id is None:
        return False
    return RelationshipRole.objects.filter(
        person__user=viewer,
        role__in=(RelationshipRole.Role.CUSTOMER, RelationshipRole.Role.SPONSOR),
        relationship__organisation_id=viewer.organisation_id,
        relationship__status=Relationship.Status.ACTIVE,
    ).exists()


def tickets_visible(*, viewer: User) -> QuerySet[Ticket]:
    tickets = restrict_to_organisation(Ticket.objects.all(), viewer)
    if is_staff_viewer(viewer) or not getattr(viewer, "is_authenticated", False):
        return tickets
    if sees_whole_organisation(viewer):
        return tickets
    return tickets.filter(requester__user=viewer)


def ticket_for(*, viewer: User, public_id: str) -> Ticket:
    tickets = tickets_visible(viewer=viewer).select_related(
        "requester", "organisation", "service", "offering", "assignee", "team", "sla_target__calendar"
    )
    return get_object_or_404(tickets, public_id=_id(public_id))


def _list_related(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return tickets.select_related("requester", "organisation", "service", "offering", "assignee", "team")


@dataclass(frozen=True)
class QueueFilter:
    queue: str = "open"
    status: str = ""
    service: str = ""  # public id
    organisation: str = ""  # public id
    requester: str = ""  # a person's public id
    assignee: str = ""  # a staff member's public id, "me" or "unassigned"
    priority: str = ""
    type: str = ""
    q: str = ""
    sort: str = ""  # one of SORTS; "" = best match when searching, else time left


def ticket_queue(*, viewer: User, filters: QueueFilter, now: datetime) -> QuerySet[Ticket]:
    """The staff queue (and the API list): a saved filter, narrowing filters, search, and a sort."""
    tickets = tickets_visible(viewer=viewer)
    queue = filters.queue
    filters = QueueFilter(**{k: _id(v) for k, v in filters.__dict__.items()})
    if queue in ("open", "mine", "unassigned", "breaching"):
        tickets = tickets.filter(status__in=Ticket.ACTIVE)
    if queue == "mine":
        tickets = tickets.filter(assignee=viewer)
    elif queue == "unassigned":
        tickets = tickets.filter(assignee__isnull=True)
    elif queue == "breaching":
        soon = now + breaching_soon_window()
        tickets = tickets.filter(status__in=Ticket.RUNNING).filter(
            Q(resolution_due_at__lte=soon) | Q(first_response_at__isnull=True, first_response_due_at__lte=soon)
        )
    elif queue == "waiting":
        tickets = tickets.filter(status=Ticket.Status.WAITING_CUSTOMER)
    elif queue == "resolved":
        tickets = tickets.filter(status=Ticket.Status.RESOLVED)
    if filters.status:
        tickets = tickets.filter(status=filters.status)
    if filters.service:
        tickets = tickets.filter(service__public_id=filters.service)
    if filters.organisation:
        tickets = tickets.filter(organisation__public_id=filters.organisation)
    if filters.requester:
        tickets = tickets.filter(requester__public_id=filters.requester)
    if filters.assignee == "me":
        tickets = tickets.filter(assignee=viewer)
    elif filters.assignee == "unassigned":
        tickets = tickets.filter(assignee__isnull=True)
    elif filters.assignee:
        tickets = tickets.filter(assignee__public_id=filters.assignee)
    if filters.priority:
        tickets = tickets.filter(priority=filters.priority)
    if filters.type:
        tickets = tickets.filter(type=filters.type)
    if filters.q:
        tickets = search_filter(tickets, filters.q, staff=is_staff_viewer(viewer))
    return _list_related(tickets).order_by(*_ordering(filters.sort, searched=_searched(tickets)))


def _searched(tickets: QuerySet[Ticket]) -> bool:
    # search_filter annotates the tickets it matched; text with nothing to search for leaves them be.
    return "search_tier" in tickets.query.annotations


def _ordering(sort: str, *, searched: bool = False) -> list[Any]:
    if sort in ("relevance", "") and searched:
        return SEARCH_ORDERING
    if sort == "newest":
        return ["-opened_at", "-pk"]
    if sort == "oldest":
        return ["opened_at", "pk"]
    if sort == "priority":
        return ["priority", F("resolution_due_at").asc(nulls_last=True), "pk"]
    # Time left: the clock that runs out first leads; stopped clocks and tickets without a target follow.
    return [
        F("clock_stopped_at").asc(nulls_first=True),
        F("resolution_due_at").asc(nulls_last=True),
        "-opened_at",
        "pk",
    ]


def portal_tickets(*, viewer: User, status: str = "", q: str = "") -> QuerySet[Ticket]:
    tickets = tickets_visible(viewer=viewer)
    if status == "active":
        tickets = tickets.filter(status__in=Ticket.ACTIVE)
    elif status in Ticket.Status.values:
        tickets = tickets.filter(status=status)
    if q:
        tickets = search_filter(tickets, q, staff=False)
    # Searching: the best match first (as the queue); else the newest first.
    return _list_related(tickets).order_by(*(SEARCH_ORDERING if _searched(tickets) else ["-opened_at", "-pk"]))


def messages_of(*, ticket: Ticket, viewer: User) -> QuerySet[Message]:
    messages = ticket.messages.select_related("author_user", "author_person").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("pk"))
    )
    if not is_staff_viewer(viewer):
        messages = messages.filter(kind=Message.Kind.PUBLIC)
    return messages.order_by("created_at", "pk")


def message_for(*, viewer: User, public_id: str) -> Message:
    messages = Message.objects.filter(ticket__in=tickets_visible(viewer=viewer))
    if not is_staff_viewer(viewer):
        messages = messages.filter(kind=Message.Kind.PUBLIC)
    return get_object_or_404(messages.select_related("ticket"), public_id=_id(public_id))


def attachment_for(*, viewer: User, public_id: str) -> Attachment:
    """An attachment the viewer may download: of a visible ticket, and of a public message for customers."""
    attachments = Attachment.objects.filter(ticket__in=tickets_visible(viewer=viewer))
    if not is_staff_viewer(viewer):
        attachments = attachments.filter(message__kind=Message.Kind.PUBLIC)
    return get_object_or_404(attachments.select_related("message", "ticket"), public_id=_id(public_id))


def ticket_history(*, ticket: Ticket) -> QuerySet[TicketEvent]:
    return ticket.events.select_related("by", "by_person").order_by("at", "pk")


def sla_events_of(*, ticket: Ticket) -> QuerySet[SlaEvent]:
    return ticket.sla_events.order_by("at", "pk")


def sla_events(*, viewer: User, since: datetime | None = None) -> QuerySet[SlaEvent]:
    events = SlaEvent.objects.filter(ticket__in=tickets_visible(viewer=viewer)).select_related(
        "ticket", "ticket__service", "ticket__organisation"
    )
    if since is not None:
        events = events.filter(at__gte=since)
    return events.order_by("-at", "-pk")


def teams() -> QuerySet[Team]:
    return Team.objects.annotate(member_count=Count("members")).order_by("name")


def agents() -> QuerySet[User]:
    return User.objects.filter(is_active=True).exclude(role=User.Role.CUSTOMER).order_by("name", "email")


def staff_member_exists(public_id: str) -> bool:
    """A staff login with this public id, active or not (the queue's assignee filter)."""
    return User.objects.filter(public_id=_id(public_id)).exclude(role=User.Role.CUSTOMER).exists()


def team_for(public_id: str) -> Team:
    return get_object_or_404(Team, public_id=_id(public_id))


def agent_for(public_id: str) -> User:
    return get_object_or_404(agents(), public_id=_id(public_id))


def service_for(public_id: str) -> Service:
    return get_object_or_404(Service, public_id=_id(public_id))


def offering_for(public_id: str) -> Offering:
    return get_object_or_404(Offering.objects.select_related("service"), public_id=_id(public_id))


def organisation_for(public_id: str) -> Organisation:
    return get_object_or_404(Organisation, public_id=_id(public_id))


def move_choices(*, ticket: Ticket) -> list[Offering]:
    """Where a ticket may move: the offerings its organisation consumes (with their services)."""
    return services_consumed_by(ticket.organisation_id)


def mail_routes(*, viewer: User) -> QuerySet[MailRoute]:
    """Every mail route for staff: address routes first (by address), then the rules in the order tried."""
    require_staff(viewer)
    rows = MailRoute.objects.select_related("service", "offering", "sender_organisation")
    return rows.annotate(is_rule=ExpressionWrapper(Q(address=""), output_field=BooleanField())).order_by(
        "is_rule", "position", "address", "pk"
    )


def mail_route_for(*, viewer: User, public_id: str) -> MailRoute:
    return get_object_or_404(mail_routes(viewer=viewer), public_id=_id(public_id))


def inbound_mails(*, viewer: User, outcome: str = "") -> QuerySet[InboundMail]:
    """The log of inbound mail for staff, newest first (the raw bytes left in the database)."""
    require_staff(viewer)
    rows = InboundMail.objects.defer("raw").select_related("ticket", "message", "reviewed_by")
    if outcome:
        rows = rows.filter(outcome=outcome)
    return rows.order_by("-received_at", "-pk")


def inbound_mail_for(*, viewer: User, public_id: str) -> InboundMail:
    return get_object_or_404(inbound_mails(viewer=viewer), public_id=_id(public_id))

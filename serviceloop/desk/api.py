"""The desk API: tickets, conversation, attachments, workflow, SLA events; same rules as the pages."""

import base64
import binascii
from datetime import datetime
from typing import Annotated, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from serviceloop.accounts.models import User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core import clock
from serviceloop.core.errors import InvalidInput, NotAllowed
from serviceloop.core.pagination import LimitOffset
from serviceloop.core.schemas import BoundedDateTime, ErrorOut
from serviceloop.core.visibility import require_staff
from serviceloop.desk import queries
from serviceloop.desk.api_mail import mail_router
from serviceloop.desk.models import Attachment, Message, SlaEvent, Ticket, TicketEvent
from serviceloop.desk.services import (
    NewAttachment,
    person_for_user,
    services_consumed_by,
    ticket_assign,
    ticket_clocks,
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
)
from serviceloop.relationships.models import Person

router = Router(tags=["desk"])
router.add_router("/mail", mail_router)

TypeName = Literal["incident", "request", "complaint", "compliment", "question"]
StatusName = Literal["new", "open", "waiting_customer", "waiting_third_party", "resolved", "closed"]
LevelName = Literal["high", "medium", "low"]
PriorityName = Literal["p1", "p2", "p3", "p4"]
PublicId = Annotated[str, Field(min_length=1, max_length=24)]
Body = Annotated[str, Field(min_length=1, max_length=100_000)]


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# ---------------------------------------------------------------- schemas


class RefOut(Schema):
    public_id: str
    name: str


class PersonRefOut(Schema):
    public_id: str
    name: str
    email: str


class TicketOut(Schema):
    public_id: str
    reference: str
    type: str
    subject: str
    status: str
    priority: str
    impact: str
    urgency: str
    channel: str
    organisation: RefOut
    requester: PersonRefOut
    service: RefOut
    offering: RefOut | None
    assignee: RefOut | None
    team: RefOut | None
    opened_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    first_response_breached: bool
    resolution_breached: bool
    clock_paused: bool
    paused_seconds: int = Field(
        ...,
        description="Business seconds the clocks stood still: waiting on the customer, and resolved before a reopen",
    )
    resolved_paused_seconds: int = Field(
        ..., description="Of paused_seconds, the business seconds spent resolved before a reopen"
    )
    reopen_count: int
    assignment_hops: int
    reassignment_count: int
    first_contact_resolution: bool | None
    is_duplicate: bool
    closed_automatically: bool

    @staticmethod
    def resolve_assignee(ticket: Ticket) -> dict[str, str] | None:
        user = ticket.assignee
        return {"public_id": user.public_id, "name": user.display_name} if user else None

    @staticmethod
    def resolve_clock_paused(ticket: Ticket) -> bool:
        return ticket.clock_stopped_at is not None


class ClockOut(Schema):
    target: str
    label: str
    state: str
    due_at: datetime | None
    met_at: datetime | None
    seconds_left: float | None


class TicketDetailOut(TicketOut):
    resolution: str
    clocks: list[ClockOut]


class AttachmentOut(Schema):
    public_id: str
    filename: str
    content_type: str
    size: int


class AttachmentContentOut(AttachmentOut):
    content_base64: str


class MessageOut(Schema):
    public_id: str
    kind: str
    channel: str
    author: str
    from_staff: bool
    body: str
    created_at: datetime
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_author(message: Message) -> str:
        if message.author_person is not None:
            return str(message.author_person)
        return message.author_user.display_name if message.author_user else "system"

    @staticmethod
    def resolve_attachments(message: Message) -> list[Attachment]:
        return list(message.attachments.all())


class TicketEventOut(Schema):
    kind: str
    from_value: str
    to_value: str
    note: str
    by: str | None
    at: datetime

    @staticmethod
    def resolve_by(event: TicketEvent) -> str | None:
        if event.by is not None:
            return event.by.display_name
        return str(event.by_person) if event.by_person else None


class SlaEventOut(Schema):
    ticket: str
    reference: str
    kind: str
    target: str
    at: datetime

    @staticmethod
    def resolve_ticket(event: SlaEvent) -> str:
        return event.ticket.public_id

    @staticmethod
    def resolve_reference(event: SlaEvent) -> str:
        return event.ticket.reference


class TeamOut(Schema):
    public_id: str
    name: str


class OfferingChoiceOut(Schema):
    service: RefOut
    offering: RefOut

    @staticmethod
    def resolve_offering(offering: Offering) -> dict[str, str]:
        return {"public_id": offering.public_id, "name": offering.name}


class AttachmentIn(Schema):
    filename: Annotated[str, Field(min_length=1, max_length=200)]
    content_type: Annotated[str, Field(max_length=100)] = ""
    content_base64: Annotated[str, Field(min_length=1)]


class TicketIn(Schema):
    service: PublicId
    offering: PublicId | None = None
    requester: PublicId | None = Field(None, description="Staff only: the person the ticket is for")
    type: TypeName = "incident"
    subject: Annotated[str, Field(min_length=1, max_length=300)]
    body: Body
    impact: LevelName = "medium"
    urgency: LevelName = "medium"
    attachments: Annotated[list[AttachmentIn], Field(max_length=10)] = []


class MessageIn(Schema):
    body: Body
    internal: bool = False
    attachments: Annotated[list[AttachmentIn], Field(max_length=10)] = []


class TicketStatusIn(Schema):
    status: StatusName
    resolution: Annotated[str, Field(max_length=100_000)] = ""


class AssignIn(Schema):
    assignee: PublicId | None = None
    team: PublicId | None = None


class PriorityIn(Schema):
    impact: LevelName
    urgency: LevelName


class MoveIn(Schema):
    service: PublicId = Field(..., description="The service to move the ticket to: one its organisation consumes")
    offering: PublicId | None = Field(
        None, description="An offering of that service the organisation consumes; empty: its only one, if it has one"
    )
    note: Annotated[str, Field(max_length=500)] = Field("", description="Why it moves (kept in the history)")


class ResolveIn(Schema):
    resolution: Annotated[str, Field(max_length=100_000)] = ""


class ReopenIn(Schema):
    reason: Annotated[str, Field(max_length=500)] = ""


class CloseIn(Schema):
    duplicate: bool = False


class BulkIn(Schema):
    tickets: Annotated[list[PublicId], Field(min_length=1, max_length=100)]
    action: Literal["assign", "status", "resolve"]
    assignee: PublicId | None = None
    team: PublicId | None = None
    status: StatusName | None = None
    resolution: Annotated[str, Field(max_length=100_000)] = Field(
        "", description="Required to resolve (action resolve, or status resolved): each requester's resolution notice"
    )


class BulkOut(Schema):
    updated: list[TicketOut]


class QueueQuery(Schema):
    queue: Literal["open", "mine", "unassigned", "breaching", "waiting", "resolved", "all"] = "all"
    status: StatusName | None = None
    service: Annotated[str, Field(max_length=24)] = ""
    organisation: Annotated[str, Field(max_length=24)] = ""
    requester: Annotated[str, Field(max_length=24)] = Field("", description="A person's public id")
    assignee: Annotated[str, Field(max_length=24)] = Field(
        "", description='"me", "unassigned" (no agent; a team may be set), or a staff member\'s public id'
    )
    priority: PriorityName | None = None
    type: TypeName | None = None
    q: Annotated[str, Field(max_length=200)] = Field(
        "",
        description=(
            "Search: a ticket reference (SL-104001, sl-104001 or 104001: that ticket first), the requester's "
            "email (exact, or part of it: acme.example) or name (Ben Yilmaz; words may be prefixes: Ben Yil), "
            "the organisation's name, or words of the subject and conversation (internal notes for staff "
            "only). Every word must match. Ranked when no sort is given: the reference, then the requester "
            "with that exact email, then requester or organisation matches, then text rank, newest first."
        ),
    )
    sort: Literal["relevance", "due", "newest", "oldest", "priority"] | None = Field(
        None,
        description=(
            "relevance: best match first (the default when q is given); due: time left (the default "
            "without q); newest; oldest; priority. An explicit sort applies to search results too."
        ),
    )


def _attachments(items: list[AttachmentIn]) -> list[NewAttachment]:
    result = []
    for item in items:
        try:
            content = base64.b64decode(item.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(
                "attachment_not_base64", f"The content of “{item.filename}” is not valid base64.", field="attachments"
            ) from None
        result.append(NewAttachment(filename=item.filename, content=content, content_type=item.content_type))
    return result


def _detail(ticket: Ticket) -> Ticket:
    """The ticket with its clocks attached, for TicketDetailOut."""
    clocks = ticket_clocks(ticket, now=clock.now())
    ticket.clocks = [  # type: ignore[attr-defined]
        {
            "target": c.target,
            "label": c.label,
            "state": c.state,
            "due_at": c.due_at,
            "met_at": c.met_at,
            "seconds_left": c.seconds_left,
        }
        for c in clocks
    ]
    return ticket


def _reload(request: HttpRequest, ticket: Ticket) -> Ticket:
    return queries.ticket_for(viewer=_user(request), public_id=ticket.public_id)


# ---------------------------------------------------------------- tickets


@router.get(
    "/tickets", response={200: list[TicketOut], 401: ErrorOut, 422: ErrorOut}, summary="Tickets the caller may see"
)
@paginate(LimitOffset)
def ticket_list(request: HttpRequest, filters: Query[QueueQuery]) -> object:
    data = filters.dict()
    if data["assignee"] not in ("", "me", "unassigned") and not queries.staff_member_exists(data["assignee"]):
        raise InvalidInput(
            "unknown_assignee",
            'No staff member has this public id; give "me", "unassigned" or an agent\'s public id.',
            field="assignee",
        )
    data["status"] = data["status"] or ""
    data["priority"] = data["priority"] or ""
    data["type"] = data["type"] or ""
    data["sort"] = data["sort"] or ""
    return queries.ticket_queue(viewer=_user(request), filters=queries.QueueFilter(**data), now=clock.now())


@router.post(
    "/tickets",
    response={
        201: TicketDetailOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
    },
    summary="Open a ticket (customers for themselves; staff name the requester)",
)
def ticket_open(request: HttpRequest, body: TicketIn) -> Status:
    user = _user(request)
    service = get_object_or_404(Service, public_id=body.service)
    offering = get_object_or_404(Offering, public_id=body.offering) if body.offering else None
    if user.is_staff_member:
        if not body.requester:
            raise InvalidInput("requester_required", "Name the person the ticket is for.", field="requester")
        requester = get_object_or_404(Person, public_id=body.requester)
    else:
        requester = person_for_user(user)
    ticket = ticket_create(
        requester=requester,
        service=service,
        offering=offering,
        type=body.type,
        subject=body.subject,
        body=body.body,
        channel=Ticket.Channel.API,
        by=user,
        attachments=_attachments(body.attachments),
        impact=body.impact,
        urgency=body.urgency,
    )
    return Status(201, _detail(_reload(request, ticket)))


@router.get("/tickets/{public_id}", response={200: TicketDetailOut, 401: ErrorOut, 404: ErrorOut}, summary="One ticket")
def ticket_get(request: HttpRequest, public_id: str) -> object:
    return _detail(queries.ticket_for(viewer=_user(request), public_id=public_id))


@router.get(
    "/tickets/{public_id}/messages",
    response={200: list[MessageOut], 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="The conversation (customers see public replies only)",
)
@paginate(LimitOffset)
def message_list(request: HttpRequest, public_id: str) -> object:
    ticket = queries.ticket_for(viewer=_user(request), public_id=public_id)
    return queries.messages_of(ticket=ticket, viewer=_user(request))


@router.post(
    "/tickets/{public_id}/messages",
    response={
        201: MessageOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
    },
    summary="Reply, or (staff) add an internal note",
)
def message_post(request: HttpRequest, public_id: str, body: MessageIn) -> Status:
    user = _user(request)
    ticket = queries.ticket_for(viewer=user, public_id=public_id)
    message = ticket_reply(
        ticket=ticket,
        body=body.body,
        by_user=user,
        channel=Ticket.Channel.API,
        internal=body.internal,
        attachments=_attachments(body.attachments),
    )
    return Status(201, queries.messages_of(ticket=ticket, viewer=user).get(pk=message.pk))


@router.get(
    "/tickets/{public_id}/events",
    response={200: list[TicketEventOut], 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="The ticket's history (staff)",
)
def event_list(request: HttpRequest, public_id: str) -> object:
    ticket = queries.ticket_for(viewer=_user(request), public_id=public_id)
    require_staff(request.user)
    return list(queries.ticket_history(ticket=ticket))


WORKFLOW = {
    200: TicketDetailOut,
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


@router.post("/tickets/{public_id}/status", response=WORKFLOW, summary="Change the state (staff)")
def status_set(request: HttpRequest, public_id: str, body: TicketStatusIn) -> object:
    ticket = queries.ticket_for(viewer=_user(request), public_id=public_id)
    ticket_set_status(ticket=ticket, status=body.status, by=_user(request), resolution=body.resolution)
    return _detail(_reload(request, ticket))


@router.post("/tickets/{public_id}/assign", response=WORKFLOW, summary="Assign to an agent and/or a team (staff)")
def assign(request: HttpRequest, public_id: str, body: AssignIn) -> object:
    ticket = queries.ticket_for(viewer=_user(request), public_id=public_id)
    require_staff(request.user)
    assignee = queries.agent_for(body.assignee) if body.assignee else None
    team = queries.team_for(body.team) if body.team else None
    ticket_assign(ticket=ticket, by=_user(request), assignee=assignee, team=team)
    return _detail(_reload(request, ticket))


@router.post("/tickets/{public_id}/priority", response=WORKFLOW, summary="Re-assess impact and urgency (staff)")
def priority_set(request: HttpRequest, public_id: str, body: PriorityIn) -> object:
    ticket = queries.ticket_for(viewer=_user(request), public_id=public_id)
    ticket_set_priority(ticket=ticket, by=_user(request), impact=body.impact, urgency=body.urgency)
    return _detail(_reload(request, ticket))


@router.post(
    "/tickets/{public_id}/move",
    response=WORKFLOW,
    summary="Move to another service or offering the ticket's organisation consumes (staff)",
    description=(
        "Recorded in the ticket's history and as the event `ticket.moved`; the SLA targets become those "
        "of the new service or offering. 404 for a service or offering that does not exist, 422 for one the "
        "organisation does not consume, 409 for a closed ticket."
    ),
)
def move(request: HttpRequest, public_id: str, body: MoveIn) -> object:
    ticket = queries.ticket_for(viewer=_user(request), public_id=public_id)
    require_staff(request.user)
    service = queries.service_for(body.service)
    offering = queries.offering_for(body.offering) if body.offering else None
    ticket_move(ticket=ticket, by=_user(request), service=service, offering=offering, note=body.note)
    return _detail(_reload(request, ticket))


@router.post("/tickets/{public_id}/resolve", response=WORKFLOW, summary="Resolve (staff)")
def resolve(request: HttpRequest, public_id: str, body: ResolveIn) -> object:
    ticket = queries.ticket_for(viewer=_user(request), public_id=public_id)
    ticket_resolve(ticket=ticket, by=_user(request), resolution=body.resolution)
    return _detail(_reload(request, ticket))


@router.post(
    "/tickets/{public_id}/reopen", response=WORKFLOW, summary="Reopen a resolved ticket (customers within the window)"
)
def reopen(request: HttpRequest, public_id: str, body: ReopenIn) -> object:
    ticket = queries.ticket_for(viewer=_user(request), public_id=public_id)
    ticket_reopen(ticket=ticket, by_user=_user(request), reason=body.reason)
    return _detail(_reload(request, ticket))


@router.post("/tickets/{public_id}/close", response=WORKFLOW, summary="Close (staff)")
def close(request: HttpRequest, public_id: str, body: CloseIn) -> object:
    ticket = queries.ticket_for(viewer=_user(request), public_id=public_id)
    ticket_close(ticket=ticket, by=_user(request), duplicate=body.duplicate)
    return _detail(_reload(request, ticket))


@router.post(
    "/bulk",
    response={200: BulkOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Assign, change the state of, or resolve many tickets at once (staff; all or nothing)",
)
def bulk(request: HttpRequest, body: BulkIn) -> object:
    user = _user(request)
    require_staff(user)
    visible = {t.public_id: t for t in queries.tickets_visible(viewer=user).filter(public_id__in=body.tickets)}
    missing = [public_id for public_id in body.tickets if public_id not in visible]
    if missing:
        raise InvalidInput("unknown_tickets", f"No such tickets: {', '.join(missing[:5])}.", field="tickets")
    tickets = [visible[public_id] for public_id in dict.fromkeys(body.tickets)]
    if body.action == "assign":
        assignee = queries.agent_for(body.assignee) if body.assignee else None
        team = queries.team_for(body.team) if body.team else None
        tickets_bulk_assign(tickets=tickets, by=user, assignee=assignee, team=team)
    elif body.action == "resolve":
        tickets_bulk_resolve(tickets=tickets, by=user, resolution=body.resolution)
    else:
        if body.status is None:
            raise InvalidInput("status_required", "Choose the state to move the tickets to.", field="status")
        tickets_bulk_set_status(tickets=tickets, by=user, status=body.status, resolution=body.resolution)
    updated = queries.ticket_queue(viewer=user, filters=queries.QueueFilter(queue="all"), now=clock.now()).filter(
        public_id__in=[t.public_id for t in tickets]
    )
    return {"updated": list(updated)}


# ---------------------------------------------------------------- attachments, SLA, choices


@router.get(
    "/attachments/{public_id}",
    response={200: AttachmentContentOut, 401: ErrorOut, 404: ErrorOut},
    summary="An attachment with its content (base64)",
)
def attachment_get(request: HttpRequest, public_id: str) -> object:
    attachment = queries.attachment_for(viewer=_user(request), public_id=public_id)
    with attachment.file.open("rb") as handle:
        content = base64.b64encode(handle.read()).decode()
    return {**AttachmentOut.from_orm(attachment).dict(), "content_base64": content}


@router.get(
    "/sla-events",
    response={200: list[SlaEventOut], 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="SLA warnings and breaches, newest first (staff)",
)
@paginate(LimitOffset)
def sla_event_list(request: HttpRequest, since: BoundedDateTime | None = None) -> object:
    require_staff(request.user)
    return queries.sla_events(viewer=_user(request), since=since)


@router.get(
    "/teams", response={200: list[TeamOut], 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}, summary="Teams (staff)"
)
@paginate(LimitOffset)
def team_list(request: HttpRequest) -> object:
    require_staff(request.user)
    return queries.teams()


@router.get(
    "/offerings",
    response={200: list[OfferingChoiceOut], 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="What the caller's organisation consumes: the choices for a new ticket (customers)",
)
@paginate(LimitOffset)
def offering_choices(request: HttpRequest) -> object:
    user = _user(request)
    if user.organisation_id is None:
        raise NotAllowed("not_a_customer", "Only customer users have an organisation's offerings.")
    return services_consumed_by(user.organisation_id)

"""Pages of the desk: the customer portal and the staff queue and ticket page. Thin: forms, a query, a service."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from serviceloop.accounts.models import User
from serviceloop.core import clock
from serviceloop.core.access import manager_required, staff_required
from serviceloop.core.errors import DomainError
from serviceloop.core.pagination import paginate
from serviceloop.desk import queries
from serviceloop.desk.business_time import format_duration, time_left_words
from serviceloop.desk.forms import (
    AssignForm,
    BulkForm,
    MailRouteForm,
    MoveForm,
    NewTicketForm,
    PriorityForm,
    ReplyForm,
    StaffNewTicketForm,
    StaffReplyForm,
    StatusForm,
)
from serviceloop.desk.models import MailRoute, Ticket
from serviceloop.desk.services import (
    NewAttachment,
    person_for_user,
    services_consumed_by,
    ticket_assign,
    ticket_clocks,
    ticket_create,
    ticket_move,
    ticket_reopen,
    ticket_reply,
    ticket_set_priority,
    ticket_set_status,
    tickets_bulk_assign,
    tickets_bulk_resolve,
    tickets_bulk_set_status,
)
from serviceloop.desk.services.mail_routes import RouteFields, mail_route_create, mail_route_delete, mail_route_update
from serviceloop.desk.services.tickets import reopen_window
from serviceloop.relationships.models import Person

View = Callable[..., HttpResponse]


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def customer_page(view: View) -> View:
    """Portal pages: staff are sent to their queue."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if _user(request).is_staff_member:
            return redirect("desk:queue")
        return view(request, *args, **kwargs)

    return wrapper


def _uploads(request: HttpRequest, form: Any) -> list[NewAttachment]:
    return [NewAttachment.from_upload(upload) for upload in form.cleaned_data.get("attachments") or []]


def _show_error(form: Any, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _open_ticket(
    request: HttpRequest, form: Any, *, requester: Any, service: Any, offering: Any = None
) -> Ticket | None:
    """A ticket from the portal's or the staff page's form (the channel follows who sends it); a
    refusal is shown next to its field and None returned."""
    user = _user(request)
    try:
        return ticket_create(
            requester=requester,
            service=service,
            offering=offering,
            type=form.cleaned_data["type"],
            subject=form.cleaned_data["subject"],
            body=form.cleaned_data["body"],
            channel=Ticket.Channel.STAFF if user.is_staff_member else Ticket.Channel.PORTAL,
            by=user,
            attachments=_uploads(request, form),
            impact=form.cleaned_data["impact"],
            urgency=form.cleaned_data["urgency"],
        )
    except DomainError as error:
        _show_error(form, error)
        return None


# ---------------------------------------------------------------- portal


@customer_page
def portal(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    status, q = request.GET.get("status", "active"), request.GET.get("q", "")[:200]
    page = paginate(request, queries.portal_tickets(viewer=user, status=status, q=q))
    return render(
        request,
        "desk/portal.html",
        {
            "page_obj": page,
            "status": status,
            "q": q,
            "whole_organisation": queries.sees_whole_organisation(user),
            "query": urlencode({"status": status, "q": q}),
        },
    )


@customer_page
def portal_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    assert user.organisation_id is not None  # nosec B101  # narrows for mypy; customers have one (a constraint)
    offerings = services_consumed_by(user.organisation_id)
    form = NewTicketForm(request.POST or None, request.FILES or None, offerings=offerings)
    if request.method == "POST" and form.is_valid():
        offering = form.cleaned_data["offering"]
        ticket = _open_ticket(
            request, form, requester=person_for_user(user), service=offering.service, offering=offering
        )
        if ticket is not None:
            messages.success(request, f"Ticket {ticket.reference} is open. We will reply here and by email.")
            return redirect("desk:portal_ticket", public_id=ticket.public_id)
    return render(request, "desk/portal_new.html", {"form": form, "offerings": offerings})


def _portal_ticket_context(request: HttpRequest, ticket: Ticket, form: ReplyForm | None = None) -> dict[str, Any]:
    now = clock.now()
    can_reopen = (
        ticket.status == Ticket.Status.RESOLVED
        and ticket.resolved_at is not None
        and now - ticket.resolved_at <= reopen_window()
    )
    return {
        "ticket": ticket,
        "conversation": queries.messages_of(ticket=ticket, viewer=_user(request)),
        "form": form or ReplyForm(),
        "can_reply": ticket.status != Ticket.Status.CLOSED,
        "can_reopen": can_reopen,
        "reopen_until": ticket.resolved_at + reopen_window() if ticket.resolved_at else None,
    }


@customer_page
def portal_ticket(request: HttpRequest, public_id: str) -> HttpResponse:
    ticket = queries.ticket_for(viewer=_user(request), public_id=public_id)
    return render(request, "desk/portal_ticket.html", _portal_ticket_context(request, ticket))


@customer_page
@require_POST
def portal_reply(request: HttpRequest, public_id: str) -> HttpResponse:
    user = _user(request)
    ticket = queries.ticket_for(viewer=user, public_id=public_id)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            ticket_reply(
                ticket=ticket,
                body=form.cleaned_data["body"],
                by_user=user,
                channel=Ticket.Channel.PORTAL,
                attachments=_uploads(request, form),
            )
        except DomainError as error:
            _show_error(form, error)
        else:
            messages.success(request, "Your reply was added.")
            return redirect("desk:portal_ticket", public_id=ticket.public_id)
    context = _portal_ticket_context(request, ticket, form)
    return render(request, "desk/portal_ticket.html", context, status=422)


@customer_page
@require_POST
def portal_reopen(request: HttpRequest, public_id: str) -> HttpResponse:
    ticket = queries.ticket_for(viewer=_user(request), public_id=public_id)
    try:
        ticket_reopen(ticket=ticket, by_user=_user(request), reason=request.POST.get("reason", "")[:500])
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{ticket.reference} is open again.")
    return redirect("desk:portal_ticket", public_id=ticket.public_id)


# ---------------------------------------------------------------- attachments


@login_required
def attachment(request: HttpRequest, public_id: str) -> FileResponse:
    """Served only to people who may see the ticket (and, for customers, the message)."""
    item = queries.attachment_for(viewer=_user(request), public_id=public_id)
    response = FileResponse(item.file.open("rb"), as_attachment=True, filename=item.filename)
    response["Content-Type"] = item.content_type
    response["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------- staff


def _queue_filters(get: QueryDict) -> queries.QueueFilter:
    queue = get.get("queue", "open")
    sort = get.get("sort", "")
    return queries.QueueFilter(
        queue=queue if queue in queries.QUEUES else "open",
        status=get.get("status", "") if get.get("status", "") in Ticket.Status.values else "",
        service=get.get("service", "")[:24],
        organisation=get.get("organisation", "")[:24],
        requester=get.get("requester", "")[:24],
        priority=get.get("priority", "") if get.get("priority", "") in Ticket.Priority.values else "",
        assignee=get.get("assignee", "")[:24],
        type=get.get("type", "") if get.get("type", "") in Ticket.Type.values else "",
        q=get.get("q", "")[:200],
        sort=sort if sort in queries.SORTS else "",
    )


@staff_required
def ticket_new(request: HttpRequest) -> HttpResponse:
    """Staff open a ticket for a contact who called, wrote or walked up (channel "staff")."""
    initial: dict[str, str] = {}
    person = Person.objects.filter(public_id=request.GET.get("requester", "")[:24]).first()
    if person is not None:
        initial = {"requester": person.email, "person": person.public_id}
    form = StaffNewTicketForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        ticket = _open_ticket(
            request, form, requester=form.cleaned_data["requester"], service=form.cleaned_data["service"]
        )
        if ticket is not None:
            messages.success(request, f"Ticket {ticket.reference} is open for {ticket.requester}.")
            return redirect("desk:ticket", public_id=ticket.public_id)
    status = 422 if request.method == "POST" else 200
    return render(request, "desk/ticket_new.html", {"form": form, "person": person}, status=status)


@staff_required
def queue(request: HttpRequest) -> HttpResponse:
    return _queue_page(request, request.GET)


def _queue_page(
    request: HttpRequest,
    get: QueryDict,
    *,
    bulk_form: BulkForm | None = None,
    selected: Sequence[str] = (),
    status: int = 200,
) -> HttpResponse:
    """The queue for the query string `get`; after a refused bulk action, with its form and selection kept."""
    from serviceloop.accounts.models import Organisation
    from serviceloop.catalogue.models import Service

    filters = _queue_filters(get)
    now = clock.now()
    rows_of = queries.ticket_queue(viewer=_user(request), filters=filters, now=now)
    page = Paginator(rows_of, settings.SERVICELOOP_PAGE_SIZE).get_page(get.get("page"))
    rows = [{"ticket": t, "left": _time_left(t, now), "selected": t.public_id in selected} for t in page.object_list]
    shown = {row["ticket"].public_id for row in rows}
    params = {k: v for k, v in filters.__dict__.items() if v}
    requester = Person.objects.filter(public_id=filters.requester).first() if filters.requester else None
    return render(
        request,
        "desk/queue.html",
        {
            "page_obj": page,
            "rows": rows,
            "filters": filters,
            "queues": queries.QUEUES,
            "queue_label": queries.QUEUES[filters.queue],
            "sorts": queries.SORTS,
            "services": Service.objects.only("public_id", "name").order_by("name"),
            "organisations": Organisation.objects.only("public_id", "name").order_by("name"),
            "statuses": Ticket.Status.choices,
            "priorities": Ticket.Priority.choices,
            "types": Ticket.Type.choices,
            "agents": queries.agents().only("public_id", "name", "email"),
            "bulk_form": bulk_form or BulkForm(),
            # Selected tickets of other pages stay selected when a refused bulk action shows this one again.
            "selected_elsewhere": [public_id for public_id in selected if public_id not in shown],
            "query": urlencode(params),
            "back": urlencode({**params, "page": page.number} if page.number > 1 else params),
            "narrowed": any(v for k, v in params.items() if k not in ("queue", "sort")),
            "queue_query": urlencode({k: v for k, v in params.items() if k != "queue"}),
            "requester": requester,
            "without_requester": urlencode({k: v for k, v in params.items() if k != "requester"}),
        },
        status=status,
    )


def _time_left(ticket: Ticket, now: Any) -> dict[str, Any] | None:
    """Wall-clock time to the resolution due instant (exact business time is on the ticket page)."""
    if ticket.resolution_due_at is None or not ticket.is_active:
        return None
    due = timezone.localtime(ticket.resolution_due_at).strftime("%d %b %Y %H:%M")
    title = f"Resolution due {due} (calendar time; the ticket shows business time)"
    if ticket.clock_stopped_at is not None:
        return {"text": "paused: waiting on the customer", "state": "info", "title": title}
    seconds = (ticket.resolution_due_at - now).total_seconds()
    state = (
        "bad" if seconds < 0 else ("warn" if ticket.resolution_warn_at and ticket.resolution_warn_at <= now else "ok")
    )
    return {"text": time_left_words(seconds), "state": state, "title": title}


@staff_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Assign, change the state of, or resolve the selected tickets: all or none. A refusal shows the
    queue again with the selection and the form kept, the message next to its field."""
    user = _user(request)
    ids = request.POST.getlist("tickets")[:100]
    form = BulkForm(request.POST)
    back = request.POST.get("next", "")
    back = back if "//" not in back else ""
    target = f"{redirect('desk:queue').url}?{back}" if back else redirect("desk:queue").url
    if not ids:
        messages.error(request, "Select at least one ticket (x selects the current row).")
        return redirect(target)
    if form.is_valid():
        tickets = list(queries.tickets_visible(viewer=user).filter(public_id__in=ids))
        try:
            _bulk_apply(tickets, form, by=user)
        except DomainError as error:
            _show_error(form, error)
        else:
            messages.success(request, f"{len(tickets)} ticket(s) {_bulk_done(form)}.")
            return redirect(target)
    return _queue_page(request, QueryDict(back), bulk_form=form, selected=ids, status=422)


def _bulk_apply(tickets: list[Ticket], form: BulkForm, *, by: User) -> None:
    data = form.cleaned_data
    if data["action"] == "assign":
        tickets_bulk_assign(tickets=tickets, by=by, assignee=data["assignee"], team=data["team"])
    elif data["action"] == "resolve":
        tickets_bulk_resolve(tickets=tickets, by=by, resolution=data["resolution"])
    else:
        if not data["status"]:
            raise DomainError("status_required", "Choose the state to move the tickets to.", field="status")
        tickets_bulk_set_status(tickets=tickets, by=by, status=data["status"])


def _bulk_done(form: BulkForm) -> str:
    return {"assign": "assigned", "resolve": "resolved"}.get(form.cleaned_data["action"], "updated")


def _clock_words(c: Any) -> str:
    if c.seconds_left is None:
        if c.met_at is None:
            return ""
        return "met late" if c.breached else "met in time"
    words = time_left_words(c.seconds_left, business=True)
    return f"paused with {words}" if c.paused and c.seconds_left >= 0 else words


def _paused_words(ticket: Ticket) -> str:
    """The paused time in words, naming the part spent resolved before a reopen (it counts as paused)."""
    total = format_duration(ticket.paused_seconds)
    if not ticket.resolved_paused_seconds:
        return f"Time paused while waiting on the customer: {total}"
    resolved = format_duration(ticket.resolved_paused_seconds)
    waiting_seconds = max(ticket.paused_seconds - ticket.resolved_paused_seconds, 0)
    parts = f"{resolved} while resolved before a reopen"
    if waiting_seconds:
        parts = f"{format_duration(waiting_seconds)} while waiting on the customer and {parts}"
    return f"Time paused: {total} ({parts}; time spent resolved counts as paused, not against the resolution target)"


def _staff_ticket_context(request: HttpRequest, ticket: Ticket, **forms: Any) -> dict[str, Any]:
    now = clock.now()
    clocks = ticket_clocks(ticket, now=now)
    return {
        "ticket": ticket,
        "clocks": [{"clock": c, "left": _clock_words(c)} for c in clocks],
        "paused": _paused_words(ticket),
        "conversation": queries.messages_of(ticket=ticket, viewer=_user(request)),
        "history": queries.ticket_history(ticket=ticket),
        "sla_events": queries.sla_events_of(ticket=ticket),
        "reply_form": forms.get("reply_form") or StaffReplyForm(),
        "assign_form": forms.get("assign_form")
        or AssignForm(initial={"assignee": ticket.assignee_id, "team": ticket.team_id}),
        "status_form": forms.get("status_form") or StatusForm(initial={"status": ticket.status}),
        "priority_form": forms.get("priority_form")
        or PriorityForm(initial={"impact": ticket.impact, "urgency": ticket.urgency}),
        "move_form": forms.get("move_form") or MoveForm(offerings=queries.move_choices(ticket=ticket)),
    }


@staff_required
def ticket(request: HttpRequest, public_id: str) -> HttpResponse:
    item = queries.ticket_for(viewer=_user(request), public_id=public_id)
    return render(request, "desk/ticket.html", _staff_ticket_context(request, item))


def _staff_action(
    request: HttpRequest,
    public_id: str,
    form_class: type,
    name: str,
    action: Callable[[Ticket, Any], object],
    done: str,
) -> HttpResponse:
    item = queries.ticket_for(viewer=_user(request), public_id=public_id)
    form = form_class(request.POST, request.FILES) if form_class is StaffReplyForm else form_class(request.POST)
    if form.is_valid():
        try:
            action(item, form)
        except DomainError as error:
            _show_error(form, error)
        else:
            messages.success(request, done)
            return redirect("desk:ticket", public_id=item.public_id)
    item = queries.ticket_for(viewer=_user(request), public_id=public_id)
    return render(request, "desk/ticket.html", _staff_ticket_context(request, item, **{name: form}), status=422)


@staff_required
@require_POST
def ticket_reply_view(request: HttpRequest, public_id: str) -> HttpResponse:
    def act(item: Ticket, form: Any) -> object:
        return ticket_reply(
            ticket=item,
            body=form.cleaned_data["body"],
            by_user=_user(request),
            channel=Ticket.Channel.STAFF,
            internal=form.cleaned_data["internal"],
            attachments=_uploads(request, form),
        )

    return _staff_action(request, public_id, StaffReplyForm, "reply_form", act, "Added to the conversation.")


@staff_required
@require_POST
def ticket_assign_view(request: HttpRequest, public_id: str) -> HttpResponse:
    def act(item: Ticket, form: Any) -> object:
        data = form.cleaned_data
        return ticket_assign(ticket=item, by=_user(request), assignee=data["assignee"], team=data["team"])

    return _staff_action(request, public_id, AssignForm, "assign_form", act, "Assignment changed.")


@staff_required
@require_POST
def ticket_status_view(request: HttpRequest, public_id: str) -> HttpResponse:
    def act(item: Ticket, form: Any) -> object:
        data = form.cleaned_data
        return ticket_set_status(ticket=item, by=_user(request), status=data["status"], resolution=data["resolution"])

    return _staff_action(request, public_id, StatusForm, "status_form", act, "State changed.")


@staff_required
@require_POST
def ticket_priority_view(request: HttpRequest, public_id: str) -> HttpResponse:
    def act(item: Ticket, form: Any) -> object:
        data = form.cleaned_data
        return ticket_set_priority(ticket=item, by=_user(request), impact=data["impact"], urgency=data["urgency"])

    return _staff_action(request, public_id, PriorityForm, "priority_form", act, "Priority re-assessed.")


@staff_required
@require_POST
def ticket_move_view(request: HttpRequest, public_id: str) -> HttpResponse:
    item = queries.ticket_for(viewer=_user(request), public_id=public_id)
    form = MoveForm(request.POST, offerings=queries.move_choices(ticket=item))
    if form.is_valid():
        offering = form.cleaned_data["offering"]
        try:
            moved = ticket_move(
                ticket=item,
                by=_user(request),
                service=offering.service,
                offering=offering,
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            _show_error(form, error)
        else:
            messages.success(request, f"{moved.reference} is now on {moved.service.name} — {offering.name}.")
            return redirect("desk:ticket", public_id=item.public_id)
    item = queries.ticket_for(viewer=_user(request), public_id=public_id)
    return render(request, "desk/ticket.html", _staff_ticket_context(request, item, move_form=form), status=422)


# ---------------------------------------------------------------- mail routes


def _route_fields(form: MailRouteForm) -> RouteFields:
    data = form.cleaned_data
    return RouteFields(
        service=data["service"],
        offering=data["offering"],
        address=data["address"],
        keywords=data["keywords"],
        sender_organisation=data["sender_organisation"],
        position=data["position"],
        is_active=data["is_active"],
        note=data["note"],
    )


def _route_initial(route: MailRoute) -> dict[str, Any]:
    return {
        "service": route.service_id,
        "offering": route.offering_id,
        "address": route.address,
        "keywords": route.keywords,
        "sender_organisation": route.sender_organisation_id,
        "position": route.position,
        "is_active": route.is_active,
        "note": route.note,
    }


@staff_required
def mail_routes(request: HttpRequest) -> HttpResponse:
    """Every route, addresses first, then the rules in the order tried; managers add one below."""
    user = _user(request)
    form = MailRouteForm(request.POST or None, initial={"position": 100, "is_active": True})
    if request.method == "POST":
        if not user.can_manage_services:
            raise PermissionDenied("Only administrators and service managers may change mail routes.")
        if form.is_valid():
            try:
                route = mail_route_create(by=user, data=_route_fields(form))
            except DomainError as error:
                _show_error(form, error)
            else:
                messages.success(request, f"Route added: {route}.")
                return redirect("desk:mail_routes")
    page = paginate(request, queries.mail_routes(viewer=user))
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "desk/mail_routes.html",
        {"page_obj": page, "form": form, "can_manage": user.can_manage_services},
        status=status,
    )


@manager_required
def mail_route_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    user = _user(request)
    route = queries.mail_route_for(viewer=user, public_id=public_id)
    form = MailRouteForm(request.POST or None, initial=_route_initial(route))
    if request.method == "POST" and form.is_valid():
        try:
            route = mail_route_update(route=route, by=user, data=_route_fields(form))
        except DomainError as error:
            _show_error(form, error)
        else:
            messages.success(request, f"Route changed: {route}.")
            return redirect("desk:mail_routes")
    status = 422 if request.method == "POST" else 200
    return render(request, "desk/mail_route_edit.html", {"route": route, "form": form}, status=status)


@manager_required
@require_POST
def mail_route_delete_view(request: HttpRequest, public_id: str) -> HttpResponse:
    user = _user(request)
    route = queries.mail_route_for(viewer=user, public_id=public_id)
    shown = str(route)
    mail_route_delete(route=route, by=user)
    messages.success(request, f"Route deleted: {shown}.")
    return redirect("desk:mail_routes")

"""Staff pages of major incidents: the list, the declare form, linking tickets. Thin: a form, a query, a service.

The working page of one incident is in views_incident.py, the customers' portal in views_portal.py.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Service
from serviceloop.core import clock
from serviceloop.core.access import form_error, local_next, staff_required
from serviceloop.core.errors import DomainError
from serviceloop.core.pagination import paginate
from serviceloop.desk.models import Ticket
from serviceloop.incidents import queries_pages as queries
from serviceloop.incidents.forms import DeclareForm
from serviceloop.incidents.models import ComponentStatus, Incident, Severity
from serviceloop.incidents.services import incident_declare, incident_link_ticket


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _filters(request: HttpRequest) -> queries.IncidentFilter:
    get = request.GET
    chosen = get.get("list", "current")
    return queries.IncidentFilter(
        list=chosen if chosen in queries.LISTS else "current",
        severity=get.get("severity", "") if get.get("severity", "") in Severity.values else "",
        kind=get.get("kind", "") if get.get("kind", "") in Incident.Kind.values else "",
        service=get.get("service", "")[:24],
        organisation=get.get("organisation", "")[:24],
        q=get.get("q", "")[:200],
    )


@staff_required
def incident_list(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    now = clock.now()
    page = paginate(request, queries.incident_list(filters=filters, now=now))
    rows = [{"incident": incident, "clocks": queries.clocks_of(incident, now)} for incident in page.object_list]
    params = {k: v for k, v in filters.__dict__.items() if v}
    return render(
        request,
        "incidents/list.html",
        {
            "page_obj": page,
            "rows": rows,
            "filters": filters,
            "lists": queries.LISTS,
            "severities": Severity.choices,
            "kinds": Incident.Kind.choices,
            "services": Service.objects.only("public_id", "name").order_by("name"),
            "organisations": Organisation.objects.only("public_id", "name").order_by("name"),
            "query": urlencode(params),
            "list_query": urlencode({k: v for k, v in params.items() if k != "list"}),
            "narrowed": any(v for k, v in params.items() if k != "list"),
        },
    )


def _prefill(tickets: list[Ticket]) -> tuple[dict[str, Any], dict[int, str]]:
    """What tickets say of an incident: their services (major outage), organisations and earliest opening."""
    if not tickets:
        return {}, {}
    statuses = {ticket.service_id: ComponentStatus.MAJOR.value for ticket in tickets}
    initial = {
        "title": tickets[0].subject if len(tickets) == 1 else "",
        "organisations": sorted({ticket.organisation_id for ticket in tickets}),
        "impact_started_at": min(ticket.opened_at for ticket in tickets),
        "offerings": sorted({ticket.offering_id for ticket in tickets if ticket.offering_id}),
    }
    return initial, statuses


@staff_required
def declare(request: HttpRequest) -> HttpResponse:
    """Declare a major incident; `?ticket=<public id>` (repeatable) prefills from those tickets."""
    user = _user(request)
    ticket_ids = request.POST.getlist("tickets") if request.method == "POST" else request.GET.getlist("ticket")
    tickets = queries.tickets_by_public_id(ticket_ids)
    initial, statuses = _prefill(tickets)
    initial.setdefault("owner", user.pk)
    form = DeclareForm(
        request.POST or None,
        initial=initial,
        services=list(queries.live_services()),
        initial_statuses=statuses,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        organisations = list(data["organisations"])
        try:
            incident = incident_declare(
                by=user,
                title=data["title"],
                severity=data["severity"],
                services=form.service_statuses(),
                offerings=list(data["offerings"]),
                organisations=dict.fromkeys(organisations) if organisations else None,
                tickets=tickets,
                impact_started_at=data["impact_started_at"],
                owner=data["owner"],
                comms_lead=data["comms_lead"],
                visibility=data["visibility"],
                description=data["description"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            linked = f", {len(tickets)} ticket(s) linked" if tickets else ""
            messages.success(request, f"{incident.reference} is declared{linked}. The first update is due soon.")
            return redirect("incidents:incident", public_id=incident.public_id)
    status = 422 if request.method == "POST" else 200
    return render(request, "incidents/declare.html", {"form": form, "tickets": tickets}, status=status)


@staff_required
def link_ticket_page(request: HttpRequest) -> HttpResponse:
    """Pick the open incident a ticket belongs to (those on the ticket's service first)."""
    wanted = request.GET.get("ticket", "").strip()[:24]
    if not wanted:
        return render(request, "incidents/link.html", {"ticket": None})
    ticket = get_object_or_404(
        Ticket.objects.select_related("service", "organisation"),
        Q(public_id=wanted) | Q(reference__iexact=wanted),
    )
    page = paginate(request, queries.open_incidents_for_ticket(ticket))
    return render(
        request,
        "incidents/link.html",
        {
            "ticket": ticket,
            "current": queries.ticket_link_of(ticket),
            "page_obj": page,
            "query": urlencode({"ticket": ticket.public_id}),
        },
    )


def _link(request: HttpRequest, incident: Incident, tickets: list[Ticket]) -> int:
    """Link each ticket, saying why one was refused; the number linked."""
    linked = 0
    for ticket in tickets:
        try:
            incident_link_ticket(incident=incident, ticket=ticket, by=_user(request))
        except DomainError as error:
            messages.error(request, f"{ticket.reference}: {error.message}")
        else:
            linked += 1
    return linked


@staff_required
@require_POST
def link_tickets(request: HttpRequest, public_id: str) -> HttpResponse:
    """Link one ticket (`ticket`), several, or every candidate (`all=1`) to the incident."""
    incident = queries.incident_for_staff(public_id)
    if request.POST.get("all"):
        tickets = list(queries.candidate_tickets(incident))
    else:
        tickets = queries.tickets_by_public_id(request.POST.getlist("ticket"))
    if not tickets:
        messages.error(request, "Choose a ticket to link.")
    else:
        linked = _link(request, incident, tickets)
        if linked:
            messages.success(request, f"{linked} ticket(s) linked to {incident.reference}.")
    here = reverse("incidents:incident", kwargs={"public_id": incident.public_id}) + "#tickets"
    target = local_next(request, request.POST.get("next"), here)
    return redirect(target)

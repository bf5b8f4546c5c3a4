"""Time a ticket spends resolved before a reopen is paused time (issue 11): not against the resolution
target, kept when the due instants are computed again (a priority change), and said on the ticket page."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from serviceloop.accounts.testing import api_client_for
from serviceloop.desk.models import Ticket, TicketEvent
from serviceloop.desk.tests.factories import make_calendar, make_target

LONDON = ZoneInfo("Europe/London")
HOUR = 3600


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


def post(client: Any, path: str, body: dict[str, Any]) -> Any:
    response = client.post(path, body, content_type="application/json")
    assert response.status_code in (200, 201), response.content
    return response.json()


def due(data: dict[str, Any], name: str) -> datetime:
    return datetime.fromisoformat(data[name]).astimezone(LONDON)


@pytest.fixture
def targets(service: Any) -> Any:
    """Monday to Friday 09:00–17:00 in London: P3 answers in 1 h and resolves in 8 h, P2 in 30 min and 4 h."""
    calendar = make_calendar("Europe/London")
    make_target(service, priority="p3", calendar=calendar, first_response_minutes=60, resolution_minutes=8 * 60)
    make_target(service, priority="p2", calendar=calendar, first_response_minutes=30, resolution_minutes=4 * 60)


@pytest.fixture
def opened(travel: Any, targets: Any, carol: Any, carol_person: Any, service: Any, offering: Any) -> dict[str, Any]:
    """Carol opens a P3 ticket on Monday 7 September 2026 at 10:00: resolution due Tuesday 10:00."""
    travel.to(london(2026, 9, 7, 10, 0))
    data = post(
        api_client_for(carol),
        "/api/desk/tickets",
        {"service": service.public_id, "offering": offering.public_id, "subject": "Printer jammed", "body": "E42"},
    )
    assert data["priority"] == "p3"
    assert due(data, "resolution_due_at") == london(2026, 9, 8, 10, 0)
    return data


def _answer_and_resolve(travel: Any, alex: Any, public_id: str) -> None:
    staff = api_client_for(alex)
    travel.to(london(2026, 9, 7, 11, 0))
    post(staff, f"/api/desk/tickets/{public_id}/messages", {"body": "Looking at it now."})
    travel.to(london(2026, 9, 7, 12, 0))
    post(staff, f"/api/desk/tickets/{public_id}/resolve", {"resolution": "Cleared the jam."})


def test_reopen_moves_the_resolution_due_by_the_business_time_spent_resolved(
    opened: dict[str, Any], travel: Any, alex: Any, carol: Any
) -> None:
    public_id = opened["public_id"]
    _answer_and_resolve(travel, alex, public_id)

    # Two business days later (Monday 12–17, Tuesday, Wednesday 9–12: 16 h) Carol reopens it.
    travel.to(london(2026, 9, 9, 12, 0))
    data = post(api_client_for(carol), f"/api/desk/tickets/{public_id}/reopen", {"reason": "Jammed again."})

    assert data["status"] == "open"
    # Six hours were left when it was resolved: Wednesday 12–17 and Thursday 9–10.
    assert due(data, "resolution_due_at") == london(2026, 9, 10, 10, 0)
    assert data["paused_seconds"] == 16 * HOUR
    assert data["resolved_paused_seconds"] == 16 * HOUR
    clocks = {c["target"]: c for c in data["clocks"]}
    assert clocks["resolution"]["state"] == "running"
    assert clocks["resolution"]["seconds_left"] == 6 * HOUR
    # The first response was met on Monday; the resolved time does not move its clock.
    assert due(data, "first_response_due_at") == london(2026, 9, 7, 11, 0)
    assert clocks["first_response"]["state"] == "met"
    resumed = TicketEvent.objects.get(ticket__public_id=public_id, kind=TicketEvent.Kind.CLOCK_RESUMED)
    assert resumed.note == f"paused for {16 * HOUR} business seconds, {16 * HOUR} of them resolved before the reopen"


def test_a_priority_change_after_a_reopen_keeps_the_resolved_time_as_paused(
    opened: dict[str, Any], travel: Any, alex: Any, carol: Any
) -> None:
    public_id = opened["public_id"]
    _answer_and_resolve(travel, alex, public_id)
    travel.to(london(2026, 9, 9, 12, 0))
    post(api_client_for(carol), f"/api/desk/tickets/{public_id}/reopen", {})

    # Raised to P2 (4 h): from Monday 10:00, 4 h of target and 16 h paused: Wednesday 14:00.
    data = post(
        api_client_for(alex), f"/api/desk/tickets/{public_id}/priority", {"impact": "high", "urgency": "medium"}
    )
    assert data["priority"] == "p2"
    assert due(data, "resolution_due_at") == london(2026, 9, 9, 14, 0)
    clocks = {c["target"]: c for c in data["clocks"]}
    assert clocks["resolution"]["state"] == "running"
    assert clocks["resolution"]["seconds_left"] == 2 * HOUR
    # First response: 30 min from the opening, nothing paused before Monday 11:00's answer: met late.
    assert due(data, "first_response_due_at") == london(2026, 9, 7, 10, 30)
    assert clocks["first_response"]["state"] == "breached"

    # Back to P3 a day later: the same instants as the reopen gave (Thursday 10:00).
    travel.to(london(2026, 9, 9, 13, 0))
    data = post(
        api_client_for(alex), f"/api/desk/tickets/{public_id}/priority", {"impact": "medium", "urgency": "medium"}
    )
    assert due(data, "resolution_due_at") == london(2026, 9, 10, 10, 0)
    assert due(data, "first_response_due_at") == london(2026, 9, 7, 11, 0)


def test_waiting_before_the_first_response_moves_the_first_response_clock_when_computed_again(
    opened: dict[str, Any], travel: Any, alex: Any, carol: Any
) -> None:
    public_id = opened["public_id"]
    staff = api_client_for(alex)
    travel.to(london(2026, 9, 7, 10, 15))
    post(staff, f"/api/desk/tickets/{public_id}/status", {"status": "waiting_customer"})
    # Carol answers the next morning: 8 h paused before anybody answered her.
    travel.to(london(2026, 9, 8, 10, 15))
    post(api_client_for(carol), f"/api/desk/tickets/{public_id}/messages", {"body": "It is the one by the lifts."})
    travel.to(london(2026, 9, 8, 10, 30))
    post(staff, f"/api/desk/tickets/{public_id}/messages", {"body": "On my way."})
    travel.to(london(2026, 9, 8, 11, 0))
    ticket = Ticket.objects.get(public_id=public_id)
    assert ticket.first_response_paused_seconds == ticket.paused_seconds == 8 * HOUR
    assert ticket.first_response_due_at == london(2026, 9, 8, 11, 0)

    data = post(staff, f"/api/desk/tickets/{public_id}/priority", {"impact": "high", "urgency": "medium"})
    # P2: 30 min + 8 h from Monday 10:00 is Tuesday 10:30; answered at 10:30, in time.
    assert due(data, "first_response_due_at") == london(2026, 9, 8, 10, 30)
    assert {c["target"]: c["state"] for c in data["clocks"]}["first_response"] == "met"
    assert due(data, "resolution_due_at") == london(2026, 9, 8, 14, 0)


def test_a_wait_that_ends_in_a_resolve_and_a_reopen_counts_whole_and_the_page_says_so_in_words(
    opened: dict[str, Any], travel: Any, alex: Any, carol: Any
) -> None:
    public_id = opened["public_id"]
    staff = Client()
    staff.force_login(alex)
    travel.to(london(2026, 9, 7, 11, 0))
    staff.post(reverse("desk:ticket_reply", args=[public_id]), {"body": "Can you send a photo?"})
    travel.to(london(2026, 9, 7, 12, 0))
    staff.post(reverse("desk:ticket_status", args=[public_id]), {"status": "waiting_customer"})
    travel.to(london(2026, 9, 7, 14, 0))
    response = staff.post(
        reverse("desk:ticket_status", args=[public_id]), {"status": "resolved", "resolution": "No answer; cleared it."}
    )
    assert response.status_code == 302
    # Carol replies by the portal on Tuesday at 14:00: that reopens it.
    travel.to(london(2026, 9, 8, 14, 0))
    customer = Client()
    customer.force_login(carol)
    customer.post(reverse("desk:portal_reply", args=[public_id]), {"body": "Still jammed, photo attached soon."})

    ticket = Ticket.objects.get(public_id=public_id)
    assert ticket.status == Ticket.Status.OPEN and ticket.reopen_count == 1
    # Waiting 12–14 (2 h), resolved Monday 14:00 to Tuesday 14:00 (3 h + 5 h).
    assert ticket.paused_seconds == 10 * HOUR
    assert ticket.resolved_paused_seconds == 8 * HOUR
    # Tuesday 10:00 moved by the 10 h the clock stood still: Wednesday 12:00.
    assert ticket.resolution_due_at == london(2026, 9, 9, 12, 0)

    page = staff.get(reverse("desk:ticket", args=[public_id])).content.decode()
    assert (
        "Time paused: 10 h 00 min (2 h 00 min while waiting on the customer and 8 h 00 min while resolved before a "
        "reopen; time spent resolved counts as paused, not against the resolution target)"
    ) in page


def test_a_ticket_never_resolved_says_its_pause_was_waiting_on_the_customer(
    opened: dict[str, Any], travel: Any, alex: Any
) -> None:
    staff = Client()
    staff.force_login(alex)
    page = staff.get(reverse("desk:ticket", args=[opened["public_id"]])).content.decode()
    assert "Time paused while waiting on the customer: 0 min" in page
    assert "resolved before a reopen" not in page

"""An agent moves a mis-routed mail ticket from its page, in a real browser, with the keyboard."""

from __future__ import annotations

from typing import Any

import pytest

from serviceloop.desk.models import Ticket
from serviceloop.desk.tests.factories import make_offering, make_relationship, make_service, make_ticket
from serviceloop.desk.tests.test_browser_email_roundtrip import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_agent_moves_a_ticket_from_its_page_and_reads_the_move_in_the_history(
    live_server: Any, page: Any, alex: Any, sam: Any, carol_person: Any, org_a: Any
) -> None:
    payroll = make_offering(make_service("Payroll", manager=sam), "Monthly payroll run")
    parcels = make_offering(make_service("Parcel delivery", manager=sam), "Next-day parcels")
    for offering in (payroll, parcels):
        make_relationship(org_a, offering)
    ticket = make_ticket(carol_person, parcels.service, offering=parcels, subject="My payslip is wrong")
    sign_in(page, live_server.url, alex.email, f"/desk/tickets/{ticket.public_id}/")
    page.wait_for_url(f"**/desk/tickets/{ticket.public_id}/")
    move = page.locator("form#move")
    move.get_by_label("Move to").select_option(label="Payroll — Monthly payroll run")
    move.get_by_label("Why").fill("A payslip question")
    move.get_by_label("Why").press("Enter")
    page.wait_for_selector("text=is now on Payroll — Monthly payroll run")
    history = page.locator(".timeline").inner_text()
    assert "Moved: Parcel delivery — Next-day parcels → Payroll — Monthly payroll run" in history
    assert "A payslip question" in history and "Alex Agent" in history
    assert Ticket.objects.get(pk=ticket.pk).service == payroll.service

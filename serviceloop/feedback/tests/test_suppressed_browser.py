"""A service manager follows the stream's suppressed count to the log, narrows it by a reason card and a search."""

from __future__ import annotations

from typing import Any

import pytest

from serviceloop.accounts.models import User
from serviceloop.accounts.testing import PASSWORD, make_organisation, make_user
from serviceloop.feedback.models import SuppressedInvitation, Trigger
from serviceloop.feedback.tests.survey_factories import make_person, make_service, make_ticket

Reason = SuppressedInvitation.Reason


@pytest.mark.browser
def test_from_the_streams_count_to_one_persons_held_back_invitations(live_server: Any, page: Any) -> None:
    manager = make_user("sam@provider.example", User.Role.SERVICE_MANAGER, name="Sam Manager")
    service = make_service("Payroll", manager)
    acme = make_organisation("Acme Logistics")
    for email, name, reason in (
        ("pat@acme.example", "Pat Pay", Reason.THROTTLED),
        ("quinn@acme.example", "Quinn Quiet", Reason.OPTED_OUT),
        ("rae@acme.example", "Rae Ready", Reason.THROTTLED),
    ):
        person = make_person(acme, email, name=name)
        SuppressedInvitation.objects.create(
            person=person,
            organisation=acme,
            service=service,
            trigger=Trigger.TICKET_RESOLVED,
            ticket=make_ticket(service, person),
            reason=reason,
            detail="Invited 2 days ago." if reason == Reason.THROTTLED else "The person asked for no surveys.",
        )

    page.goto(f"{live_server.url}/accounts/login/?next=/feedback/services/{service.public_id}/")
    page.get_by_label("Email").fill("sam@provider.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#suppressed-count").click()
    page.get_by_role("heading", name="Suppressed invitations").wait_for()
    assert page.locator("tr.suppressed").count() == 3

    page.locator('#reason-counts a[data-reason="throttled"]').click()
    page.wait_for_url("**reason=throttled**")
    assert page.locator("tr.suppressed").count() == 2
    assert page.locator('#reason-counts a[data-reason="throttled"]').get_attribute("aria-current") == "true"

    search = page.get_by_label("Person")
    search.fill("rae")
    search.press("Enter")  # the form submits from the keyboard
    page.wait_for_url("**q=rae**")
    rows = page.locator("tr.suppressed")
    assert rows.count() == 1 and "Rae Ready" in rows.inner_text() and "Invited 2 days ago." in rows.inner_text()
    rows.get_by_role("link", name="Rae Ready").click()
    page.get_by_role("heading", name="Rae Ready").wait_for()

"""An agent declares a major incident and posts its first update in a real browser, with the keyboard."""

from __future__ import annotations

from typing import Any

import pytest

from serviceloop.desk.tests.test_browser_email_roundtrip import sign_in
from serviceloop.incidents.models import Incident, IncidentUpdate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_agent_declares_an_incident_and_posts_an_update_from_a_template_with_the_keyboard(
    live_server: Any, page: Any, alex: Any, service: Any, relationship_a: Any, carol_person: Any
) -> None:
    sign_in(page, live_server.url, alex.email, "/incidents/")
    page.wait_for_url("**/incidents/")
    page.get_by_role("link", name="Declare a major incident").first.press("Enter")
    page.wait_for_url("**/incidents/declare/")
    # The title has the focus: type it, choose the rest, Enter declares.
    page.keyboard.type("Mail is down for everyone")
    declare = page.locator("form#declare")
    declare.get_by_label("Severity").select_option("sev1")
    declare.get_by_label("Visibility").select_option("customers")
    declare.get_by_label(service.name).select_option("major_outage")
    declare.get_by_label("Title").press("Enter")
    page.wait_for_selector("text=is declared")
    incident = Incident.objects.get()
    assert incident.severity == "sev1" and incident.affected_organisations.count() == 1

    # A template fills the composer (a plain link: no script), then Tab and Space and Enter post it.
    page.get_by_role("link", name="Identified").press("Enter")
    page.wait_for_url("**?template=identified#composer")
    composer = page.locator("form#update-form")
    assert "identified the cause" in composer.get_by_label("What we are doing").input_value()
    composer.get_by_label("Affected customers").focus()
    page.keyboard.press("Space")  # unticks the customers: this update is for staff only
    composer.get_by_role("button", name="Post update").press("Enter")
    page.wait_for_selector("text=Update posted to Internal (staff)")
    update = IncidentUpdate.objects.get(incident=incident)
    assert update.audiences == ["internal"] and update.status == "identified"
    assert "identified the cause" in page.locator("#timeline").inner_text()

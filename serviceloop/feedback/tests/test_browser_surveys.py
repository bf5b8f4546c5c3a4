"""Done means (issue 5): resolve → email at the SMTP server → a click on 9 → follow-ups → the service's page."""

from __future__ import annotations

import re
import urllib.request
from typing import Any

import pytest

from serviceloop.accounts.models import User
from serviceloop.accounts.testing import PASSWORD, make_organisation, make_user
from serviceloop.feedback import links
from serviceloop.feedback.models import Invitation, Response
from serviceloop.feedback.tests.survey_factories import (
    happiness_survey,
    make_person,
    make_service,
    make_ticket,
    resolve,
)


@pytest.mark.browser
def test_one_click_in_the_resolution_email_reaches_the_service_page(
    live_server: Any, page: Any, browser: Any, smtp_server: Any, settings: Any
) -> None:
    settings.SITE_URL = live_server.url
    manager = make_user("sam@provider.example", User.Role.SERVICE_MANAGER, name="Sam Manager")
    service = make_service("Payroll", manager)
    happiness_survey(service, by=manager)
    pat = make_person(make_organisation("Acme Logistics"), "pat@acme.example", name="Pat Pay")
    ticket = make_ticket(service, pat, subject="Payslip missing for November")

    # An agent resolves the ticket on the desk's ticket page (another browser: the customer has no session).
    make_user("alex@provider.example", User.Role.AGENT)
    desk = browser.new_page()
    desk.goto(f"{live_server.url}/accounts/login/?next=/desk/tickets/{ticket.public_id}/")
    desk.get_by_label("Email").fill("alex@provider.example")
    desk.get_by_label("Password").fill(PASSWORD)
    desk.get_by_role("button", name="Sign in").click()
    desk.get_by_label("Status").select_option("resolved")
    desk.get_by_label("Resolution").fill("Reissued the November payslip.")
    desk.get_by_role("button", name="Change state").click()
    desk.get_by_text("State changed.").wait_for()
    desk.close()

    # One mail: the desk's resolution notice, carrying the survey's score buttons.
    [message] = smtp_server.wait_for(1)
    assert ticket.reference in message["Subject"]
    html = message.get_body(("html",)).get_content()
    assert "Reissued the November payslip." in html and "data-score" in html
    assert len(smtp_server.messages) == 1
    nine = re.search(r'href="([^"]+)"[^>]*data-score="9"', html)
    assert nine is not None
    page.goto(nine.group(1).replace("&amp;", "&"))
    assert page.locator("#recorded-score").inner_text() == "9"
    # Provisional for the scanner window (the sweep counts it then); answering on the page counts it now.
    assert not Response.objects.filter(ticket=ticket).exists()

    page.get_by_label("1–2 hours").check()
    page.locator("#saved-lost_time_bucket").get_by_text("Saved").wait_for()
    assert Response.objects.get(ticket=ticket).happiness == 9  # no session: the signed link was enough
    page.get_by_label("Anything you would like to tell us?").fill("Fixed quickly, thank you, great support!")
    page.keyboard.press("Tab")
    page.locator("#saved-comment").get_by_text("Saved").wait_for()
    response = Response.objects.get(ticket=ticket)
    assert (response.lost_time_bucket, response.comment) == ("1to2h", "Fixed quickly, thank you, great support!")

    page.goto(f"{live_server.url}/accounts/login/?next=/feedback/services/{service.public_id}/")
    page.get_by_label("Email").fill("alex@provider.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    row = page.locator(f'tr[data-response="{response.public_id}"]')
    assert "Happiness 9" in row.inner_text()
    assert "Fixed quickly" in row.inner_text()
    label = row.locator("td.sentiment .badge").first
    assert label.inner_text().strip() == "positive"
    # A person reads the comment and corrects its sentiment in place (htmx, under the page's CSP).
    row.get_by_label("Correct label").select_option("neutral")
    row.get_by_role("button", name="Correct").click()
    row.get_by_text("corrected").wait_for()
    assert row.locator("td.sentiment .badge").first.inner_text().strip() == "neutral"
    response.refresh_from_db()
    assert response.sentiment_label == "neutral"


@pytest.mark.browser
def test_a_person_confirms_the_answer_after_a_link_scanner_fetched_every_button(
    live_server: Any, page: Any, settings: Any
) -> None:
    settings.SITE_URL = live_server.url
    manager = make_user("sam@provider.example", User.Role.SERVICE_MANAGER, name="Sam Manager")
    service = make_service("Payroll", manager)
    happiness_survey(service, by=manager)
    pat = make_person(make_organisation("Acme Logistics"), "pat@acme.example", name="Pat Pay")
    invitation = Invitation.objects.get(ticket=resolve(make_ticket(service, pat)))
    for score in range(11):  # the mail gateway's scanner: every button, no cookies
        with urllib.request.urlopen(links.answer_url(invitation.public_id, score)) as fetched:
            assert fetched.status == 200
    assert not Response.objects.exists()

    page.goto(links.answer_url(invitation.public_id, 8))
    page.get_by_text("Please confirm your answer").wait_for()
    assert not Response.objects.exists()
    page.get_by_role("button", name="Confirm 8").click()
    page.locator("#recorded-score").get_by_text("8").wait_for()
    assert Response.objects.get(invitation=invitation).happiness == 8

    page.locator("#scores").get_by_role("button", name="6", exact=True).click()  # a change of mind, on the page
    page.locator("#recorded-score").get_by_text("6").wait_for()
    assert Response.objects.get(invitation=invitation).happiness == 6

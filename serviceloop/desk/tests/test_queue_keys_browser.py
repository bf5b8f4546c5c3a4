"""The queue's keyboard shortcuts (desk/static/desk/queue.js), in a real browser under the page's CSP."""

from __future__ import annotations

from typing import Any

import pytest

from serviceloop.desk.tests.factories import make_ticket
from serviceloop.desk.tests.test_browser_email_roundtrip import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_agent_works_the_queue_from_the_keyboard(
    live_server: Any, page: Any, alex: Any, carol_person: Any, service: Any
) -> None:
    first = make_ticket(carol_person, service, subject="First in the queue")
    second = make_ticket(carol_person, service, subject="Second in the queue")
    sign_in(page, live_server.url, alex.email, "/desk/queue/?sort=oldest")
    page.wait_for_url("**/desk/queue/?sort=oldest")
    page.wait_for_load_state("load")  # queue.js is deferred: its keys work once the page has loaded
    rows = page.locator("#queue-table tbody tr[data-href]")
    assert rows.count() == 2

    def current_is(index: int) -> None:
        page.wait_for_function(
            "index => [...document.querySelectorAll('#queue-table tbody tr[data-href]')]"
            ".findIndex(row => row.classList.contains('current')) === index",
            arg=index,
        )

    page.keyboard.press("j")
    current_is(0)
    page.keyboard.press("j")
    current_is(1)
    page.keyboard.press("x")
    assert rows.nth(1).locator("input[type=checkbox]").is_checked()
    assert not rows.nth(0).locator("input[type=checkbox]").is_checked()

    page.keyboard.press("a")
    assert page.locator("#id_action").input_value() == "assign"
    assert page.evaluate("document.activeElement.id") == "id_assignee"
    page.locator("#id_assignee").evaluate("element => element.blur()")

    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("jk")  # typing in the search box moves nothing
    assert page.locator("#q").input_value() == "jk"
    page.locator("#q").evaluate("element => element.blur()")

    page.keyboard.press("k")
    current_is(0)
    page.keyboard.press("o")
    page.wait_for_url(f"**/desk/tickets/{first.public_id}/")
    assert page.get_by_role("heading", name=first.subject).is_visible()
    assert second.subject not in page.locator("h1").inner_text()


def test_the_bulk_bar_asks_for_a_resolution_when_resolving_and_filters_by_assignee_from_the_keyboard(
    live_server: Any, page: Any, alex: Any, carol_person: Any, service: Any
) -> None:
    from serviceloop.desk.models import Ticket

    first = make_ticket(carol_person, service, subject="First in the queue")
    make_ticket(carol_person, service, subject="Second in the queue", type=Ticket.Type.QUESTION)
    sign_in(page, live_server.url, alex.email, "/desk/queue/?sort=oldest")
    page.wait_for_url("**/desk/queue/?sort=oldest")
    page.wait_for_load_state("load")
    resolution = page.locator("#id_resolution")
    assert not resolution.is_visible()  # Assign is chosen: agent and team only

    page.locator("#id_action").select_option("resolve")
    assert resolution.is_visible() and not page.locator("#id_assignee").is_visible()
    assert resolution.evaluate("element => element.required")
    page.keyboard.press("Escape")
    page.locator("#id_action").evaluate("element => element.blur()")
    page.keyboard.press("j")
    page.keyboard.press("x")
    resolution.fill("Cleared the paper path.")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/desk/queue/?queue=open&sort=oldest")
    assert "1 ticket(s) resolved." in page.locator("body").inner_text()
    first.refresh_from_db()
    assert first.status == Ticket.Status.RESOLVED and first.resolution == "Cleared the paper path."

    # The filter bar from the keyboard: choose the type, Tab to the button (past Sort), Enter.
    page.locator("#f-type").focus()
    page.locator("#f-type").select_option("question")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Filter"
    page.keyboard.press("Enter")
    page.wait_for_url("**type=question**")
    assert page.locator("#queue-table tbody tr[data-href]").count() == 1
    assert "Second in the queue" in page.locator("#queue-table").inner_text()

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

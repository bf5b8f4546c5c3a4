"""The main pages on a phone (375 px wide), in a real browser (issue 11).

Each page is checked by one helper, `phone_problems`, so a page is added with one line: the
document never scrolls sideways, every row's status is on screen, every menu link can be reached
(visible, or behind the opened menu), and no word of a subject is split across two lines. The same
pages at desktop width keep their tables and their always-visible menu.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from serviceloop.desk.models import Ticket
from serviceloop.desk.tests.factories import grant, make_calendar, make_person, make_target, make_ticket
from serviceloop.desk.tests.test_browser_email_roundtrip import sign_in
from serviceloop.feedback import links
from serviceloop.feedback.models import Invitation
from serviceloop.feedback.tests.factories_channels import make_widget_site
from serviceloop.feedback.tests.survey_factories import happiness_survey, resolve

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}

# Every word fits a phone's line on its own, so none of them may be split: a split is the layout's doing.
LONG_SUBJECT = "Intercompany reconciliation synchronisation failing for Überweisungsbestätigungen"
LONG_EMAIL = "maximilian.vandenberghe-oppenheimer@accounts-payable.acme-logistics.example"


@dataclass(frozen=True)
class Screen:
    """What to check on one page: where its rows' statuses are, and which elements hold subjects."""

    path: str
    status: str  # a CSS selector, "column:<header>" for the cells of a table's column, "" for none
    subjects: str
    table: str = ""  # the ticket list, for "column:" and for the desktop check


# Words of a subject that the browser laid out over more than one line. A word is split at spaces;
# a break after a hyphen, a slash or an @, or before a dot (in an email address) is a sensible place.
_SPLIT_WORDS = """
selector => {
  const split = [];
  for (const element of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.data.matchAll(/\\.?[^\\s\\-\\/@.]+[\\-\\/@]?/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (tops.size > 1) split.push(match[0]);
      }
    }
  }
  return split;
}
"""

# Scrolls the document (only the document: a box the reader would have to scroll sideways does not
# count) so that `element` is in the middle of the screen; its box, for the checks to read.
_ON_SCREEN = """
element => {
  const top = element.getBoundingClientRect().top + window.scrollY;
  window.scrollTo(0, Math.max(0, top - window.innerHeight / 2));
  return element.getBoundingClientRect();
}
"""

# The status elements of the page: each must lie inside the viewport and be what is drawn at its
# own centre (not hidden by a box that scrolls sideways or clips it).
_STATUS_OFF_SCREEN = """
([selector, table]) => {
  const onScreen = ON_SCREEN;
  let cells;
  if (selector.startsWith("column:")) {
    const header = selector.slice("column:".length).toLowerCase();
    const headers = [...document.querySelectorAll(table + " thead th")];
    const index = headers.findIndex(th => th.textContent.trim().toLowerCase() === header);
    if (index < 0) return ["no column " + header];
    cells = [...document.querySelectorAll(table + " tbody tr")].map(row => row.children[index]);
  } else {
    cells = [...document.querySelectorAll(selector)];
  }
  if (!cells.length) return ["no status on the page"];
  const problems = [];
  for (const cell of cells) {
    const target = cell.querySelector(".badge") || cell;
    const box = onScreen(target);
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    const visible = box.width > 0 && box.left >= 0 && box.right <= window.innerWidth && hit && target.contains(hit);
    if (!visible) problems.push(`${target.textContent.trim()} at x ${Math.round(box.left)}–${Math.round(box.right)}`);
  }
  return problems;
}
"""

_UNREACHABLE_LINKS = """
() => { const onScreen = ON_SCREEN; return [...document.querySelectorAll("nav[aria-label=Main] a, .topbar .who a, .topbar .who button")]
  .filter(link => {
    const box = onScreen(link);
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    return !(box.width > 0 && box.left >= 0 && box.right <= window.innerWidth && hit && link.contains(hit));
  })
  .map(link => link.textContent.trim()); }
"""

_STATUS_OFF_SCREEN = _STATUS_OFF_SCREEN.replace("ON_SCREEN", _ON_SCREEN.strip())
_UNREACHABLE_LINKS = _UNREACHABLE_LINKS.replace("ON_SCREEN", _ON_SCREEN.strip())


def phone_problems(page: Any, base: str, screen: Screen) -> list[str]:
    """Everything wrong with `screen` at the page's current (phone) size, as sentences."""
    page.goto(base + screen.path)
    page.wait_for_load_state("load")
    problems = []
    width, scroll_width = page.evaluate("[window.innerWidth, document.documentElement.scrollWidth]")
    if scroll_width > width:
        problems.append(f"{screen.path}: the page is {scroll_width} px wide on a {width} px screen")
    for off in page.evaluate(_STATUS_OFF_SCREEN, [screen.status, screen.table]) if screen.status else []:
        problems.append(f"{screen.path}: status not on screen: {off}")
    page.evaluate("window.scrollTo(0, 0)")
    if page.locator("nav[aria-label=Main] a").count() and not page.locator("nav[aria-label=Main] a").first.is_visible():
        page.get_by_role("button", name="Menu").click()
    for link in page.evaluate(_UNREACHABLE_LINKS):
        problems.append(f"{screen.path}: menu entry out of reach: {link}")
    for word in page.evaluate(_SPLIT_WORDS, screen.subjects):
        problems.append(f"{screen.path}: word split over two lines: {word}")
    return problems


def desktop_problems(page: Any, base: str, screen: Screen) -> list[str]:
    """At desktop width nothing changes: the menu shows without a button, the list is a table."""
    page.goto(base + screen.path)
    page.wait_for_load_state("load")
    problems = []
    if page.get_by_role("button", name="Menu").is_visible():
        problems.append(f"{screen.path}: a menu button on a desktop screen")
    for link in page.evaluate(_UNREACHABLE_LINKS):
        problems.append(f"{screen.path}: menu entry not visible on a desktop screen: {link}")
    if screen.table:
        rows = f"[...document.querySelectorAll('{screen.table} tr')]"
        displays = page.evaluate(f"{rows}.map(row => getComputedStyle(row).display)")
        if set(displays) != {"table-row"}:
            problems.append(f"{screen.path}: the ticket list is not a table on a desktop screen: {set(displays)}")
    for word in page.evaluate(_SPLIT_WORDS, screen.subjects):
        problems.append(f"{screen.path}: word split over two lines: {word}")
    return problems


def problems_as(page: Any, base: str, email: str | None, screens: list[Screen], check: Any) -> list[str]:
    """Sign in as `email` (or stay anonymous) and run `check` on every screen; all problems found."""
    page.context.clear_cookies()
    if email:
        sign_in(page, base, email, screens[0].path)
        page.wait_for_url(f"**{screens[0].path}")
    return [problem for screen in screens for problem in check(page, base, screen)]


@pytest.fixture
def tickets(carol_person: Any, service: Any, org_a: Any, relationship_a: Any) -> list[Ticket]:
    calendar = make_calendar("America/Argentina/ComodRivadavia", name="Buenos Aires support hours")
    for priority in Ticket.Priority:
        make_target(service, priority=priority, calendar=calendar)
    accounts = make_person(org_a, email=LONG_EMAIL, name="")
    grant(relationship_a, accounts, "user")
    payroll = "Cannot sign in to the payroll portal since yesterday's password change"
    return [
        make_ticket(carol_person, service, subject=LONG_SUBJECT),
        make_ticket(carol_person, service, subject="Printer jammed"),
        make_ticket(accounts, service, subject=payroll),
    ]


def customer_screens(tickets: list[Ticket]) -> list[Screen]:
    first = tickets[0].public_id
    return [
        Screen("/desk/portal/", status="column:status", subjects="table tbody td:nth-child(2)", table="table.table"),
        Screen(f"/desk/portal/tickets/{first}/", status=".page-head .badge", subjects="h1"),
        Screen("/desk/portal/new/", status="", subjects="h1"),
    ]


def agent_screens(tickets: list[Ticket]) -> list[Screen]:
    subjects = "#queue-table tbody td:nth-child(3)"
    return [
        Screen("/desk/queue/", status="column:state", subjects=subjects, table="#queue-table"),
        Screen(f"/desk/tickets/{tickets[0].public_id}/", status=".page-head .badge", subjects="h1, .lead"),
        Screen(f"/desk/tickets/{tickets[2].public_id}/", status=".page-head .badge", subjects="h1, .lead"),
        Screen("/desk/tickets/new/", status="", subjects="h1"),
    ]


def test_a_customer_reads_their_tickets_on_a_phone(
    live_server: Any, page: Any, carol: Any, tickets: list[Ticket]
) -> None:
    page.set_viewport_size(PHONE)
    problems = problems_as(page, live_server.url, carol.email, customer_screens(tickets), phone_problems)
    assert not problems, "\n".join(problems)


def test_an_agent_works_the_queue_and_a_ticket_on_a_phone(
    live_server: Any, page: Any, alex: Any, tickets: list[Ticket]
) -> None:
    page.set_viewport_size(PHONE)
    problems = problems_as(page, live_server.url, alex.email, agent_screens(tickets), phone_problems)
    assert not problems, "\n".join(problems)


def test_the_service_manager_s_and_the_public_pages_fit_a_phone(
    live_server: Any, page: Any, sam: Any, service: Any, tickets: list[Ticket]
) -> None:
    happiness_survey(service, by=sam)
    invitation = Invitation.objects.get(ticket=resolve(tickets[1]))
    site = make_widget_site(service, origins=["http://127.0.0.1:1"])
    service_id = service.public_id
    manager = [
        Screen(f"/catalogue/services/{service_id}/", status="", subjects="h1, dd"),
        Screen(f"/feedback/services/{service_id}/", status="", subjects="h1"),
        Screen(f"/feedback/services/{service_id}/qr/", status="", subjects="h1, .qr-url"),
    ]
    public = [
        Screen("/accounts/login/", status="", subjects="h1"),
        Screen(
            links.answer_url(invitation.public_id, 9).removeprefix("http://testserver"), status="", subjects="h1, p"
        ),
        Screen(f"/feedback/q/{service_id}/", status="", subjects="h1"),
        Screen(f"/feedback/w/{site.key}/", status="", subjects=".question"),
    ]
    page.set_viewport_size(PHONE)
    problems = problems_as(page, live_server.url, sam.email, manager, phone_problems)
    problems += problems_as(page, live_server.url, None, public, phone_problems)
    assert not problems, "\n".join(problems)


def test_the_phone_menu_opens_and_closes_from_the_keyboard(live_server: Any, page: Any, alex: Any) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, alex.email, "/desk/queue/")
    page.wait_for_url("**/desk/queue/")
    menu = page.get_by_role("button", name="Menu")
    queue_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Queue")
    assert menu.get_attribute("aria-expanded") == "false"
    assert not queue_link.is_visible()
    menu.focus()
    page.keyboard.press("Enter")
    assert menu.get_attribute("aria-expanded") == "true"
    assert queue_link.is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('nav') !== null")
    page.keyboard.press("Escape")
    assert menu.get_attribute("aria-expanded") == "false"
    assert not queue_link.is_visible()
    assert page.evaluate("document.activeElement.classList.contains('menu-toggle')")


def test_the_desktop_layout_keeps_its_tables_and_menu(
    live_server: Any, page: Any, alex: Any, carol: Any, tickets: list[Ticket]
) -> None:
    problems = problems_as(page, live_server.url, alex.email, agent_screens(tickets), desktop_problems)
    problems += problems_as(page, live_server.url, carol.email, customer_screens(tickets), desktop_problems)
    assert not problems, "\n".join(problems)

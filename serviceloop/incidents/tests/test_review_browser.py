"""A review worked in a real browser with the keyboard only: add an action, complete, publish; the
Content-Security-Policy refuses nothing on the pages (the chart is inline SVG without style)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from serviceloop.accounts.testing import PASSWORD
from serviceloop.core import clock
from serviceloop.incidents.models import Review, ReviewAction
from serviceloop.incidents.tests.factories_review import make_incident, make_plan, make_review, post_update

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_review_is_worked_with_the_keyboard(live_server: Any, page: Any, sam: Any, tmp_path: Any) -> None:
    now = clock.now()
    incident = make_incident(
        declared_at=now - timedelta(hours=3), owner=sam, status="resolved", resolved_at=now - timedelta(hours=1)
    )
    make_plan(incident, "customers", 30)
    post_update(incident, now - timedelta(hours=2, minutes=50), "customers", "public")
    post_update(incident, now - timedelta(hours=1), "customers", "public", kind="resolution", status="resolved")
    review = make_review(
        incident,
        due_at=now + timedelta(days=3),
        owner=sam,
        root_cause_category="configuration",
        customer_summary="A configuration change delayed mail for two hours.",
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", sam.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login" not in url)
    page.goto(f"{live_server.url}/incidents/{incident.public_id}/review/")
    assert page.locator("#timeline li").count() >= 4

    page.focus("#action_title")
    page.keyboard.type("Alert on queue depth")
    page.keyboard.press("Tab")
    page.keyboard.type("detect")  # selects the option by typing, as a keyboard user does
    page.fill("#action_due_on", (now + timedelta(days=7)).date().isoformat())
    page.focus("#action_due_on")
    page.keyboard.press("Enter")
    page.wait_for_selector("#actions")
    assert ReviewAction.objects.get(review=review).kind == "detect"

    page.focus("#complete button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#publish")
    page.screenshot(path=str(tmp_path / "review.png"), full_page=True)
    page.focus("#publish button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#review-state:has-text('Published')")
    review.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED

    page.goto(f"{live_server.url}/incidents/reviews/")
    assert page.locator("#over-time tbody tr").count() == 12
    assert page.locator("svg.review-chart rect").count() >= 1

"""The foundation's "done means", in a real browser: a service manager builds an offering and sees
the customer-facing page; a customer cannot reach another organisation's data by page or API."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from serviceloop.accounts.testing import PASSWORD
from serviceloop.catalogue.tests.factories import make_offering, make_service
from serviceloop.relationships.services import person_create, relationship_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Any, live_server: Any, email: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login" not in url)


def test_service_manager_builds_an_offering_and_sees_it_on_the_customer_page(
    live_server: Any, page: Any, sam: Any
) -> None:
    _sign_in(page, live_server, sam.email)
    page.click("nav.mainnav >> text=Catalogue")
    page.click("text=New service")
    page.fill("#id_name", "Ride booking")
    page.fill("#id_description", "Business rides booked from an app.")
    page.select_option("#id_lifecycle", "live")
    page.select_option("#id_criticality", "medium")
    page.click("button:has-text('Create service')")
    page.wait_for_selector("h1:has-text('Ride booking')")

    page.click("text=New offering")
    page.fill("#id_name", "Business rides")
    page.fill("#id_target_group", "Staff travelling to clients")
    page.click("button:has-text('Create offering')")
    page.wait_for_selector("h1:has-text('Business rides')")

    page.click("text=Add value item")
    page.select_option("#id_kind", "outcome")
    page.fill("#id_description", "Arrive at meetings on time without driving")
    page.click("button:has-text('Add value item')")
    page.wait_for_selector(".gives >> text=Arrive at meetings on time")

    page.click("text=Add value item")
    page.select_option("#id_kind", "cost_imposed")
    page.fill("#id_description", "Fare per ride")
    page.check("#id_financial")
    page.fill("#id_estimate", "2.10")
    page.fill("#id_unit", "EUR per km")
    page.click("button:has-text('Add value item')")
    page.wait_for_selector(".asks >> text=Fare per ride")

    page.click("text=Customer view")
    gives = page.locator(".two-sides .gives")
    asks = page.locator(".two-sides .asks")
    assert "Arrive at meetings on time without driving" in gives.inner_text()
    assert "non-financial" in gives.inner_text()
    assert "Fare per ride" in asks.inner_text()
    assert "2.10 EUR per km" in asks.inner_text()
    assert "financial" in asks.inner_text()
    assert "Fare per ride" not in gives.inner_text()
    # The history panel on the service page names who did it.
    page.go_back()
    page.click("text=← Ride booking")
    assert "created value item “Fare per ride”" in page.locator(".history").inner_text()


def test_customer_cannot_reach_another_organisations_data_by_page_or_api(
    live_server: Any, page: Any, sam: Any, carol: Any, org_a: Any, org_b: Any
) -> None:
    service = make_service(sam, name="Ride booking")
    ours = make_offering(sam, service, name="Business rides")
    theirs = make_offering(sam, service, name="Airport rides")
    relationship_create(by=sam, organisation=org_a, offering=ours, started_on=date(2025, 1, 6))
    relationship_create(by=sam, organisation=org_b, offering=theirs, started_on=date(2025, 3, 3))
    person_b = person_create(by=sam, organisation=org_b, email="bea@borealis.example", name="Bea Borealis")

    _sign_in(page, live_server, carol.email)
    # Their own offering and organisation are reachable.
    page.click("nav.mainnav >> text=Our services")
    page.click("text=Business rides")
    assert "What you get" in page.locator(".two-sides").inner_text()
    assert page.goto(f"{live_server.url}/relationships/organisations/{org_a.public_id}/").status == 200

    # Another organisation's page, person and offering are 404, as if they did not exist.
    for path in (
        f"/relationships/organisations/{org_b.public_id}/",
        f"/relationships/people/{person_b.public_id}/",
        f"/catalogue/offerings/{theirs.public_id}/view/",
    ):
        assert page.goto(f"{live_server.url}{path}").status == 404, path

    # The API with the same browser session.
    page.goto(f"{live_server.url}/catalogue/ours/")
    fetch = "async (url) => { const r = await fetch(url); return [r.status, await r.json()]; }"
    status, body = page.evaluate(fetch, f"/api/relationships/organisations/{org_b.public_id}")
    assert (status, body["code"]) == (404, "not_found")
    status, body = page.evaluate(fetch, f"/api/catalogue/offerings/{theirs.public_id}")
    assert status == 404
    status, body = page.evaluate(fetch, f"/api/relationships/people?organisation={org_b.public_id}")
    assert (status, body["count"]) == (200, 0)
    status, body = page.evaluate(fetch, "/api/catalogue/offerings")
    assert [item["name"] for item in body["items"]] == ["Business rides"]
    status, body = page.evaluate(fetch, "/api/relationships/organisations")
    assert [item["name"] for item in body["items"]] == [org_a.name]

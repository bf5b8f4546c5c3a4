"""Trust pages in a real browser.

Done means (issue 14): the affected organisation's trust page shows the drop after a major incident
and the recovery credit earned and pending, through the real flow — a major incident declared on the
service the organisation consumes, updates posted on the cadence, a recovery plan published, the
incident resolved; the events delivered to the evidence receivers, which refresh the state.

The other tests read rows written directly (tests/trust_page_rows.py): staff find a falling
relationship with the keyboard and read why; a customer reads their own, once it is shown to them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.desk.tests.test_browser_email_roundtrip import sign_in
from serviceloop.experience import trust_evidence, trust_states
from serviceloop.experience.tests.factories import deliver
from serviceloop.experience.tests.trust_page_rows import evidence, major, share, state_of, weeks
from serviceloop.experience.trust_models import TrustPoint, TrustState
from serviceloop.incidents.tests.factories_review import make_incident
from serviceloop.relationships.models import Relationship

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def _rows(org_a: Organisation, org_b: Organisation, service: Service) -> TrustState:
    incident = make_incident(
        declared_at=datetime(2026, 11, 16, 9, 0, tzinfo=UTC),
        status="resolved",
        resolved_at=datetime(2026, 11, 17, 9, 0, tzinfo=UTC),
    )
    weeks(org_a, service, date(2024, 11, 1), 109)
    major(org_a, service, incident, date(2026, 11, 16), resolved=date(2026, 11, 17))
    weeks(org_b, service, date(2026, 6, 1), 26, share=0.5)
    for day in range(12):
        evidence(org_b, service, date(2026, 11, 10) + timedelta(days=day), "small_failure", label=f"SLA breach {day}")
    state_of(org_b, service, NOW.date())
    return state_of(org_a, service, NOW.date())


def test_staff_find_a_falling_relationship_with_the_keyboard_and_read_why(
    live_server: Any,
    page: Any,
    travel: Any,
    org_a: Organisation,
    org_b: Organisation,
    service: Service,
    alex: User,
    tmp_path: Path,
) -> None:
    travel.to(NOW)
    acme = _rows(org_a, org_b, service)
    sign_in(page, live_server.url, alex.email, "/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Trust", exact=True).click()
    page.get_by_role("heading", name="Trust per relationship").wait_for()
    rows = page.locator("table.trust-states tbody tr")
    assert rows.count() == 2 and "Borealis Health" in rows.nth(0).inner_text()  # lowest first
    # The filters: labelled controls; typing a name and pressing Enter submits the form.
    page.get_by_label("Band", exact=True).select_option("good")
    page.get_by_label("Order").select_option("change")
    page.get_by_label("Organisation name").focus()
    page.keyboard.type("acme")
    page.keyboard.press("Enter")
    page.wait_for_url("**/experience/trust/?*band=good*")
    assert rows.count() == 1 and "Acme Logistics" in rows.nth(0).inner_text()
    assert page.locator('.band-chips a[aria-current="true"]').inner_text().startswith("Good")
    # Tab to the relationship's link and follow it.
    link = page.get_by_role("link", name="Acme Logistics", exact=True)
    link.focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Trust of Acme Logistics in Email & collaboration").wait_for()
    assert page.locator("#trust-level").inner_text().startswith(f"{acme.trust:.1f}")
    assert "−12.1" in page.locator("#trust-change").inner_text()
    why = page.locator("#trust-explanations").inner_text()
    assert "recovery credit earned +5.2, pending +2.6 until review actions close" in why
    # The chart's text alternative opens from the keyboard.
    summary = page.locator("details.chart-table summary")
    summary.focus()
    page.keyboard.press("Enter")
    assert page.locator("details.chart-table table.chart-data").is_visible()
    assert page.locator("figure.chart svg[role=img]").count() == 1
    page.screenshot(path=str(tmp_path / "trust.png"), full_page=True)
    # The evidence log: the kind filter, then back to every kind.
    page.get_by_label("Kind").select_option("major_incident")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**kind=major_incident*")
    assert page.locator("table.trust-evidence tbody tr").count() == 1


def test_a_customer_reads_their_own_trust_once_the_provider_shows_it(
    live_server: Any,
    page: Any,
    travel: Any,
    org_a: Organisation,
    org_b: Organisation,
    service: Service,
    carol: User,
) -> None:
    travel.to(NOW)
    acme = _rows(org_a, org_b, service)
    url = f"/experience/trust/{acme.organisation.public_id}/{acme.service.public_id}/"
    sign_in(page, live_server.url, carol.email, "/")
    page.wait_for_load_state()
    assert page.goto(f"{live_server.url}{url}").status == 404  # their own, but not shown to them
    share(org_a)
    assert page.goto(f"{live_server.url}{url}").status == 200
    page.get_by_role("heading", name="Trust of Acme Logistics in Email & collaboration").wait_for()
    assert "recovery credit earned" in page.locator("#trust-explanations").inner_text()
    assert page.get_by_role("link", name="Trust per relationship").count() == 0


def test_done_means_the_trust_page_shows_the_drop_and_the_credit_after_a_real_major_incident(
    live_server: Any,
    page: Any,
    travel: Any,
    org_a: Organisation,
    offering: Offering,
    service: Service,
    alex: User,
    tmp_path: Path,
) -> None:
    from serviceloop.incidents.services import incident_declare
    from serviceloop.incidents.services_base import allowed_audiences
    from serviceloop.incidents.services_recovery import recovery_plan_publish, recovery_step_add
    from serviceloop.incidents.services_updates import incident_resolve, incident_update_post

    # A long relationship: two years of weeks, each recorded by the weekly task as it ran.
    start = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    travel.to(datetime(2024, 11, 1, 9, 0, tzinfo=UTC))
    Relationship.objects.create(organisation=org_a, offering=offering, started_on=date(2024, 11, 1))
    monday = date(2024, 11, 4)
    while monday + timedelta(days=7) <= start.date():
        travel.to(datetime.combine(monday + timedelta(days=7), datetime.min.time(), UTC) + timedelta(hours=1))
        trust_evidence.weeks_record(monday)
        monday += timedelta(days=7)
    travel.to(start)
    deliver()
    trust_states.states_refresh_stale()
    before = TrustState.objects.get(organisation=org_a, service=service)
    assert before.trust > 75, before.trust

    # The major incident, handled well: updates on the cadence, a plan published, resolved.
    incident = incident_declare(
        by=alex, title="Mail is down", severity="sev1", services={service: "major_outage"}, visibility="public"
    )
    assert incident.affected_organisations.filter(organisation=org_a).exists()
    audiences = allowed_audiences(incident)
    update = {"affected": "Mail", "impacted": "Everyone on mail", "actions": "We are moving mailboxes."}
    incident_update_post(incident=incident, by=alex, audiences=audiences, status="investigating", **update)
    recovery_step_add(incident=incident, by=alex, title="Move the mailboxes", customer_facing=True)
    recovery_plan_publish(incident=incident, by=alex)
    for minutes, status in ((20, "identified"), (40, "monitoring")):
        travel.to(start + timedelta(minutes=minutes))
        incident_update_post(incident=incident, by=alex, audiences=audiences, status=status, **update)
    travel.to(start + timedelta(minutes=60))
    incident_resolve(incident=incident, by=alex, body="Mail flows again; delayed mail was delivered.")
    deliver()

    after = TrustState.objects.get(organisation=org_a, service=service)
    assert after.trust < before.trust - 5, (before.trust, after.trust)
    [shown] = after.majors
    assert shown["credit_earned"] > 0 and shown["credit_pending"] > 0, shown

    sign_in(page, live_server.url, alex.email, f"/experience/trust/{org_a.public_id}/{service.public_id}/")
    page.get_by_role("heading", name=f"Trust of {org_a.name} in {service.name}").wait_for()
    assert page.locator("#trust-level").inner_text().startswith(f"{after.trust:.1f}")
    why = page.locator("#trust-explanations").inner_text()
    assert f"Major incident {incident.reference}: −" in why
    assert "recovery credit earned +" in why and "until review actions close" in why
    last_sunday = TrustPoint.objects.filter(organisation=org_a, service=service, day__lt=start.date()).last()
    assert last_sunday is not None and last_sunday.trust > after.trust  # the drop, on the chart too
    majors = page.locator("table.trust-majors tbody tr")
    assert majors.count() == 1 and incident.reference in majors.inner_text()
    page.screenshot(path=str(tmp_path / "trust-after-incident.png"), full_page=True)

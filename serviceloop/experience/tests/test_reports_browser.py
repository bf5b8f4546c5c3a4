"""A service manager asks for a review in the browser; the customer reads it and downloads its PDF."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.testing import PASSWORD, api_client_for
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core.testing import MediaStore
from serviceloop.experience.models import ServiceReview
from serviceloop.experience.tests.report_factories import seed


def sign_in(page: Any, url: str, email: str) -> None:
    page.goto(url)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.browser
def test_a_review_is_asked_for_read_and_downloaded(
    live_server: Any,
    page: Any,
    settings: Any,
    travel: Any,
    service: Service,
    offering: Offering,
    org_a: Organisation,
    org_b: Organisation,
    sam: User,
    carol: User,
    filesystem_media: MediaStore,
    tmp_path: Path,
) -> None:
    settings.SERVICELOOP_MIN_SAMPLE = 3
    travel.to(datetime(2026, 12, 5, 12, 0, tzinfo=UTC))
    seeded = seed(service, offering, org_a, org_b)
    sign_in(page, f"{live_server.url}/accounts/login/?next=/", sam.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reviews", exact=True).click()
    page.get_by_role("link", name="Ask for a review").click()
    page.get_by_label("Relationship (organisation × offering)").select_option(seeded["relationship"].public_id)
    page.get_by_label("Period").select_option("last_month")
    page.get_by_role("button", name="Make the review").click()
    page.get_by_role("heading", name="Service review: Email & collaboration for Acme Logistics (Mailbox)").wait_for()
    happiness = page.locator('#figures tr[data-metric="happiness"] .value').inner_text()
    # The page says what the metrics API says for the same scope.
    answer = api_client_for(sam).get(
        "/api/experience/metrics",
        {
            "service": service.public_id,
            "offering": offering.public_id,
            "organisation": org_a.public_id,
            "from": "2026-11-01",
            "to": "2026-11-30",
            "metrics": "happiness",
        },
    )
    assert happiness == f"{answer.json()['groups'][0]['figures'][0]['value']:+.1f}" == "+33.3"
    assert page.locator("figure.chart svg").count() == 5
    page.screenshot(path=str(tmp_path / "review.png"), full_page=True)
    review = ServiceReview.objects.get()
    # Tests run tasks eagerly after the commit: the PDF is there when the page is.
    assert review.state == ServiceReview.State.READY, review.failure

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, f"{live_server.url}/accounts/login/?next=/experience/reports/", carol.email)
    row = page.locator(f'tr[data-review="{review.public_id}"]')
    assert "Ready" in row.inner_text()
    with page.expect_download() as download:
        row.get_by_role("link", name="Download the PDF").click()
    saved = tmp_path / "download.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes() == filesystem_media.read(review.pdf.name)
    assert saved.read_bytes().startswith(b"%PDF-")

"""The trust section of a service review (issue 14), on the page and in the PDF: a relationship's trust
over the period and what moved it most; a service's lowest and falling fastest relationships.

A relationship's review is read by its organisation's customers and its PDF downloaded by them, so
its trust is in their view and in the PDF only when the provider shows that organisation its trust.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.experience.models import ServiceReview
from serviceloop.experience.report_pdf import review_html
from serviceloop.experience.reports import report_data
from serviceloop.experience.tests.report_factories import review_of, seed
from serviceloop.experience.trust_models import TrustBand, TrustPoint, TrustState
from serviceloop.experience.trust_sharing import trust_sharing_set

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
CONTRIBUTIONS = [
    {"group": "major:9", "label": "major incident MI-9", "effect": -17.6, "count": 1, "pending": 0.0},
    {
        "group": "credit:9",
        "label": "recovery credit for major incident MI-9",
        "effect": 4.2,
        "count": 1,
        "pending": 2.1,
    },
    {"group": "kind:week_met", "label": "weeks with targets met", "effect": 14.0, "count": 60, "pending": 0.0},
    {"group": "kind:small_failure", "label": "small failures", "effect": -3.1, "count": 4, "pending": 0.0},
]


@pytest.fixture
def seeded(
    settings: Any,
    travel: Any,
    service: Service,
    offering: Offering,
    org_a: Organisation,
    org_b: Organisation,
) -> dict[str, Any]:
    settings.SERVICELOOP_MIN_SAMPLE = 3
    travel.to(NOW)
    rows = seed(service, offering, org_a, org_b)
    # The seeded answers' events built real states already; these tests read fixed figures instead.
    TrustState.objects.all().delete()
    TrustPoint.objects.all().delete()
    TrustState.objects.create(
        organisation=org_a,
        service=service,
        as_of=NOW.date(),
        trust=66.3,
        confidence=0.71,
        band=TrustBand.WATCH,
        trust_before=80.1,
        change=-13.8,
        evidence_count=70,
        first_day=date(2025, 9, 1),
        contributions=CONTRIBUTIONS,
        majors=[],
        parameters_version=1,
    )
    TrustState.objects.create(
        organisation=org_b,
        service=service,
        as_of=NOW.date(),
        trust=48.9,
        confidence=0.5,
        band=TrustBand.RED,
        trust_before=50.0,
        change=-1.1,
        evidence_count=30,
        first_day=date(2026, 2, 2),
        contributions=[],
        majors=[],
        parameters_version=1,
    )
    for day, trust in (("2026-10-25", 80.4), ("2026-11-01", 79.5), ("2026-11-29", 66.9), ("2026-12-02", 66.3)):
        TrustPoint.objects.create(
            organisation=org_a,
            service=service,
            day=date.fromisoformat(day),
            trust=trust,
            confidence=0.7,
            parameters_version=1,
        )
    return rows


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def trust_section(html: str) -> str:
    start = html.find('<section class="report-section" id="trust"')
    return "" if start < 0 else html[start : html.find("</section>", start)]


def test_a_relationship_s_review_shows_its_trust_over_the_period_and_what_moved_it(
    seeded: dict[str, Any], service: Service, sam: User
) -> None:
    review = review_of(service=service, relationship=seeded["relationship"], by=sam)
    trust = report_data(review).trust
    assert trust is not None and trust.is_relationship and not trust.for_customers
    # November: the last point on or before 1 Nov and on or before 30 Nov (weekly points: Sundays).
    assert (trust.at_start, trust.at_end, trust.end_day) == (79.5, 66.9, date(2026, 11, 29))
    assert trust.period_change == "−12.6"
    assert trust.contributions[:2] == [
        "major incident MI-9: −17.6",
        "recovery credit for major incident MI-9: +4.2, pending +2.1 until review actions close",
    ]
    html = trust_section(client_for(sam).get(f"/experience/reports/{review.public_id}/").content.decode())
    assert "66.3" in html and "Watch" in html and "79.5 → 66.9" in html and "−12.6" in html
    assert "weeks with targets met (60): +14" in html and "small failures (4): −3.1" in html
    assert "left out of the PDF" in html  # staff are told why the PDF has no trust


def test_the_customer_and_the_pdf_see_the_relationship_s_trust_only_when_shared(
    seeded: dict[str, Any], service: Service, sam: User, carol: User, org_a: Organisation
) -> None:
    review = review_of(service=service, relationship=seeded["relationship"], by=sam)
    page = f"/experience/reports/{review.public_id}/"
    answer = client_for(carol).get(page)
    assert answer.status_code == 200 and trust_section(answer.content.decode()) == ""
    assert "66.3" not in answer.content.decode() and "MI-9" not in answer.content.decode()
    assert trust_section(review_html(review)) == "" and "MI-9" not in review_html(review)

    trust_sharing_set(organisation=org_a, shown=True, by=sam)
    html = trust_section(client_for(carol).get(page).content.decode())
    assert "66.3" in html and "major incident MI-9: −17.6" in html and "left out of the PDF" not in html
    printed = trust_section(review_html(review))
    assert "79.5 → 66.9" in printed and "major incident MI-9: −17.6" in printed
    assert "href=" not in printed  # a PDF links nowhere


def test_turning_sharing_on_or_off_makes_the_organisation_s_stored_pdfs_again(
    seeded: dict[str, Any], service: Service, sam: User, carol: User, org_a: Organisation
) -> None:
    ready = review_of(service=service, relationship=seeded["relationship"], by=sam, state=ServiceReview.State.READY)
    other = review_of(service=service, relationship=seeded["relationship_b"], by=sam, state=ServiceReview.State.READY)
    trust_sharing_set(organisation=org_a, shown=True, by=sam)
    ready.refresh_from_db()
    other.refresh_from_db()
    # A PDF made while the trust was hidden would not show it, one made while shared would keep it
    # after sharing stops: organisation A's is queued again (and not served meanwhile), B's is not.
    assert ready.state == ServiceReview.State.QUEUED and other.state == ServiceReview.State.READY
    assert client_for(carol).get(f"/experience/reports/{ready.public_id}/pdf/").status_code == 404


def test_a_service_s_review_lists_the_lowest_and_the_falling_fastest(
    seeded: dict[str, Any], service: Service, sam: User, carol: User, org_a: Organisation, org_b: Organisation
) -> None:
    review = review_of(service=service, by=sam)
    trust = report_data(review).trust
    assert trust is not None and not trust.is_relationship
    assert [(row.organisation, row.trust) for row in trust.lowest] == [(org_b.name, 48.9), (org_a.name, 66.3)]
    assert [(row.organisation, row.change) for row in trust.falling] == [(org_a.name, -13.8), (org_b.name, -1.1)]
    html = trust_section(client_for(sam).get(f"/experience/reports/{review.public_id}/").content.decode())
    assert "Lowest trust" in html and "Falling fastest" in html and org_b.name in html and "−13.8" in html
    printed = trust_section(review_html(review))  # staff-only review: the PDF has it
    assert org_a.name in printed and "48.9" in printed
    # A service's review is the provider's: a customer cannot open it at all.
    assert client_for(carol).get(f"/experience/reports/{review.public_id}/").status_code == 404


def test_a_relationship_without_evidence_says_so(
    seeded: dict[str, Any], service: Service, sam: User, org_b: Organisation
) -> None:
    TrustState.objects.filter(organisation=org_b).delete()
    review = review_of(service=service, relationship=seeded["relationship_b"], by=sam)
    html = trust_section(client_for(sam).get(f"/experience/reports/{review.public_id}/").content.decode())
    assert "No trust evidence yet for this relationship" in html


def test_the_real_pdf_prints_the_shared_trust(
    seeded: dict[str, Any], service: Service, sam: User, org_a: Organisation, tmp_path: Path
) -> None:
    from serviceloop.experience.report_pdf import render_review_pdf

    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.fail("pdftotext is missing: apt-get install poppler-utils (.ci/run installs it)")
    trust_sharing_set(organisation=org_a, shown=True, by=sam)
    review = review_of(service=service, relationship=seeded["relationship"], by=sam)
    path = tmp_path / "review.pdf"
    path.write_bytes(render_review_pdf(review))
    text = " ".join(subprocess.run([tool, str(path), "-"], capture_output=True, check=True, text=True).stdout.split())
    assert "Trust" in text and "79.5 → 66.9" in text and "major incident MI-9: −17.6" in text

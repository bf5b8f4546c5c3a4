"""Service review reports: the data against compute(), the page, the list, the request form, tenancy."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.test import Client

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.experience.api import compute
from serviceloop.experience.models import ServiceReview
from serviceloop.experience.reports import (
    DRIVER_FIGURES,
    FIGURES,
    TREND_METRICS,
    buckets,
    hotspots_for,
    period_label,
    report_data,
    review_scope,
    xla_states_for,
)
from serviceloop.experience.tally import Scope
from serviceloop.experience.tests.report_factories import NOVEMBER, review_of, seed

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(
    settings: Any, service: Service, offering: Offering, org_a: Organisation, org_b: Organisation
) -> dict[str, Any]:
    settings.SERVICELOOP_MIN_SAMPLE = 3
    return seed(service, offering, org_a, org_b)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def shown(rows: list[Any]) -> dict[str, Any]:
    return {row.figure.metric: row.figure for row in rows}


def test_the_report_says_what_compute_says_for_the_same_scope(
    seeded: dict[str, Any], service: Service, offering: Offering, org_a: Organisation, sam: User
) -> None:
    relationship = seeded["relationship"]
    review = review_of(service=service, relationship=relationship, by=sam)
    data = report_data(review)
    scope = Scope(
        service_ids=(service.pk,),
        offering_ids=(offering.pk,),
        organisation_ids=(org_a.pk,),
        since=date(2026, 11, 1),
        until=date(2026, 11, 30),
    )
    assert review_scope(review) == scope
    ((_key, expected),) = compute(scope, [], list(FIGURES + DRIVER_FIGURES))
    figures = shown(data.experience + data.desk + data.sla + data.drivers)
    assert figures == {figure.metric: figure for figure in expected}
    # By hand: 4 promoters, 2 detractors of 6 → +33.3; organisation B's and December's answers are not in it.
    happiness = figures["happiness"]
    assert (happiness.value, happiness.n) == (33.3, 6)
    assert shown(data.experience)["happiness"] is not None and data.experience[0].shown == "+33.3"
    # Drivers: speed named by 3 of 6 answers (50%), attitude by 1 (n 6 ≥ 3: shown), most named first.
    assert [(row.figure.metric, row.figure.value) for row in data.drivers[:2]] == [
        ("driver_speed", 50.0),
        ("driver_attitude", 16.7),
    ]
    # No resolved tickets: the desk's figures say "not enough data", with n 0.
    assert all(row.figure.value is None and row.figure.n == 0 for row in data.desk)
    assert {row.shown for row in data.desk} == {"not enough data"}


def test_the_whole_service_counts_every_organisation(seeded: dict[str, Any], service: Service, sam: User) -> None:
    data = report_data(review_of(service=service, by=sam))
    happiness = shown(data.experience)["happiness"]
    # 4 promoters, 5 detractors of 9 → −11.1
    assert (happiness.value, happiness.n) == (-11.1, 9)
    ((_key, expected),) = compute(review_scope(data.review), [], ["happiness"])
    assert expected[0] == happiness


def test_trends_have_a_point_for_every_week_of_the_period_gaps_included(
    seeded: dict[str, Any], service: Service, sam: User
) -> None:
    review = review_of(service=service, relationship=seeded["relationship"], by=sam)
    data = report_data(review)
    assert data.grain == "week"
    weeks = buckets(*NOVEMBER, "week")
    # 1 November 2026 is a Sunday: its week starts on Monday 26 October; the last week on 30 November.
    assert weeks[0] == date(2026, 10, 26) and weeks[-1] == date(2026, 11, 30) and len(weeks) == 6
    expected = {
        key["week"]: {figure.metric: figure for figure in figures}
        for key, figures in compute(review_scope(review), ["week"], list(TREND_METRICS))
    }
    happiness_chart = data.trends[0]
    table = str(happiness_chart)
    assert "Happiness" in table
    # The week of 2 November: 9, 10, 10 → +100 (n 3); the week of 16 November: 9, 3, 1 → −33.3 (n 3).
    assert expected["2026-11-02"]["happiness"].value == 100.0
    assert expected["2026-11-16"]["happiness"].value == -33.3
    assert "-33.3" in table and "100.0" in table


def test_months_beyond_a_quarter_and_period_names() -> None:
    assert buckets(date(2026, 1, 15), date(2026, 6, 30), "month") == [date(2026, m, 1) for m in range(1, 7)]
    assert period_label(date(2026, 11, 1), date(2026, 11, 30)) == "November 2026"
    assert period_label(date(2026, 10, 1), date(2026, 12, 31)) == "Q4 2026"
    assert period_label(date(2026, 11, 3), date(2027, 1, 9)) == "3 Nov 2026 – 9 Jan 2027"


def test_comments_are_the_scopes_latest_negative_and_positive_ones_masked(
    seeded: dict[str, Any], service: Service, sam: User, settings: Any
) -> None:
    settings.SERVICELOOP_MASK_PERSONAL_DATA = True
    data = report_data(review_of(service=service, relationship=seeded["relationship"], by=sam))
    assert [comment.text[:8] for comment in data.negative_comments] == ["Terrible", "Slow aga"]
    assert [comment.text[:8] for comment in data.positive_comments] == ["Friendly", "Wonderfu"]
    # Stored before masking was on: masked when shown, as the feedback pages store them.
    slow = data.negative_comments[1].text
    assert "pat@acme.example" not in slow and "7946" not in slow
    assert data.negative_comments[0].score == "Happiness 1"
    # Organisation B's complaints are in the whole service's review only.
    everyone = report_data(review_of(service=service, by=sam))
    assert any("Borealis" in comment.text for comment in everyone.negative_comments)
    assert not any("Borealis" in comment.text for comment in data.negative_comments)


def test_the_page_shows_the_figures_and_every_section(
    seeded: dict[str, Any], service: Service, sam: User, django_assert_max_num_queries: Any
) -> None:
    review = review_of(service=service, relationship=seeded["relationship"], by=sam)
    client = client_for(sam)
    # Set-wise: compute() twice (the figures, the trends), two comment lists, the trust section, the
    # session: 20 today, however many answers or weeks.
    with django_assert_max_num_queries(24):
        answer = client.get(f"/experience/reports/{review.public_id}/")
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "Service review: Email &amp; collaboration for Acme Logistics (Mailbox)" in page
    assert "November 2026" in page
    assert 'data-metric="happiness"' in page and "+33.3" in page
    for section in ("Trends by week", "XLAs and SLAs", "Top drivers", "Comments", "Hotspots", "Improvement items"):
        assert section in page, section
    assert "No XLA is set for this relationship" in page
    assert "The improvement register is not part of serviceloop yet" in page
    assert "Queued" in page  # the PDF's state
    # Four trend charts and the drivers' bars, as inline SVG (not escaped text).
    assert page.count('<figure class="chart"><svg') == 5 and "&lt;svg" not in page
    # No asset from another host.
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page


def test_a_period_without_answers_says_so(service: Service, sam: User) -> None:
    review = review_of(service=service, by=sam)
    page = client_for(sam).get(f"/experience/reports/{review.public_id}/").content.decode()
    assert "No answers and no resolved tickets in this period" in page
    assert "No negative comments in this period." in page


def test_customers_see_their_own_organisations_reviews_only(
    seeded: dict[str, Any], service: Service, sam: User, carol: User, bob: User
) -> None:
    theirs = review_of(service=service, relationship=seeded["relationship"], by=sam)
    whole = review_of(service=service, by=sam)
    borealis = review_of(service=service, relationship=seeded["relationship_b"], by=sam)
    carol_client = client_for(carol)
    assert carol_client.get(f"/experience/reports/{theirs.public_id}/").status_code == 200
    # A review of the whole service counts every organisation; another organisation's is theirs alone.
    assert carol_client.get(f"/experience/reports/{whole.public_id}/").status_code == 404
    assert carol_client.get(f"/experience/reports/{borealis.public_id}/").status_code == 404
    assert client_for(bob).get(f"/experience/reports/{theirs.public_id}/").status_code == 404
    listed = carol_client.get("/experience/reports/").content.decode()
    assert theirs.public_id in listed and whole.public_id not in listed and borealis.public_id not in listed
    # A filter naming another organisation's relationship shows nothing of it.
    filtered = carol_client.get("/experience/reports/", {"relationship": seeded["relationship_b"].public_id})
    assert "Borealis" not in filtered.content.decode()
    # Customers do not ask for reviews nor make PDFs again.
    assert carol_client.get("/experience/reports/new/").status_code == 403
    assert carol_client.post(f"/experience/reports/{theirs.public_id}/regenerate/").status_code == 403
    anonymous = Client().get(f"/experience/reports/{theirs.public_id}/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_the_list_pages_and_shows_each_pdfs_state(
    seeded: dict[str, Any], service: Service, sam: User, settings: Any, django_assert_max_num_queries: Any
) -> None:
    settings.SERVICELOOP_PAGE_SIZE = 5
    review_of(service=service, by=sam, state=ServiceReview.State.FAILED, failure="WeasyPrint could not be loaded")
    review_of(service=service, relationship=seeded["relationship"], by=sam, state=ServiceReview.State.GENERATING)
    for _ in range(5):
        review_of(service=service, by=sam)
    client = client_for(sam)
    with django_assert_max_num_queries(8):
        first = client.get("/experience/reports/")
    page = first.content.decode()
    assert page.count("data-review=") == 5 and "Page 1 of 2" in page
    second = client.get("/experience/reports/", {"page": 2}).content.decode()
    assert "Failed" in second and "WeasyPrint could not be loaded" in second and "Generating" in second
    narrowed = client.get("/experience/reports/", {"relationship": seeded["relationship"].public_id}).content.decode()
    assert narrowed.count("data-review=") == 1 and "for Acme Logistics (Mailbox)" in narrowed


def test_an_empty_list_says_what_to_do(sam: User, carol: User) -> None:
    assert "No service review yet. Ask for one" in client_for(sam).get("/experience/reports/").content.decode()
    assert "No service review has been shared with" in client_for(carol).get("/experience/reports/").content.decode()


def test_staff_ask_for_a_review_of_last_month(
    seeded: dict[str, Any], service: Service, sam: User, travel: Any, django_capture_on_commit_callbacks: Any
) -> None:
    travel.to(datetime(2026, 12, 5, 12, 0, tzinfo=UTC))
    client = client_for(sam)
    form = client.get("/experience/reports/new/", {"relationship": seeded["relationship"].public_id})
    assert form.status_code == 200 and f'value="{seeded["relationship"].public_id}" selected' in form.content.decode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = client.post(
            "/experience/reports/new/", {"relationship": seeded["relationship"].public_id, "period": "last_month"}
        )
    assert answer.status_code == 302
    review = ServiceReview.objects.get()
    assert answer["Location"] == f"/experience/reports/{review.public_id}/"
    assert (review.period_start, review.period_end) == NOVEMBER
    assert review.service == service and review.organisation == seeded["relationship"].organisation
    assert review.state == ServiceReview.State.QUEUED and review.requested_by == sam
    assert len(callbacks) == 1  # the worker is asked after commit


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"period": "last_month"}, "Choose a service, or a relationship below."),
        ({"service": "nosuchservice", "period": "last_month"}, "Select a valid choice"),
        ({"service": "SERVICE", "period": "custom"}, "Give the first day of the period."),
        (
            {"service": "SERVICE", "period": "custom", "period_start": "2026-11-30", "period_end": "2026-11-01"},
            "The first day is after the last day.",
        ),
        (
            {"service": "SERVICE", "period": "custom", "period_start": "2020-01-01", "period_end": "2026-11-01"},
            "A review covers at most two years.",
        ),
        (
            {"service": "SERVICE", "period": "custom", "period_start": "2030-01-01", "period_end": "2030-01-31"},
            "The period has not started yet.",
        ),
        (
            {"service": "SERVICE", "relationship": "RELATIONSHIP_B", "period": "last_month"},
            "The relationship is not one of this service&#x27;s offerings.",
        ),
    ],
)
def test_a_bad_request_answers_422_next_to_the_field(
    seeded: dict[str, Any], sam: User, data: dict[str, str], message: str
) -> None:
    other_service = Service.objects.create(name="Ride booking", slug="rides", service_manager=sam)
    values = {
        key: {"SERVICE": other_service.public_id, "RELATIONSHIP_B": seeded["relationship_b"].public_id}.get(
            value, value
        )
        for key, value in data.items()
    }
    answer = client_for(sam).post("/experience/reports/new/", values)
    assert answer.status_code == 422
    assert message in answer.content.decode()
    assert not ServiceReview.objects.exists()


def test_a_failed_pdf_is_made_again_on_request(
    service: Service, sam: User, django_capture_on_commit_callbacks: Any
) -> None:
    review = review_of(service=service, by=sam, state=ServiceReview.State.FAILED, failure="no pango", attempts=1)
    client = client_for(sam)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = client.post(f"/experience/reports/{review.public_id}/regenerate/")
    assert answer.status_code == 302 and len(callbacks) == 1
    review.refresh_from_db()
    assert (review.state, review.failure, review.attempts) == ("queued", "", 0)
    # Asked again while it waits: said plainly, nothing changes.
    again = client.post(f"/experience/reports/{review.public_id}/regenerate/", follow=True)
    assert "already being made" in again.content.decode()


def test_a_chart_renders_as_markup_in_a_template_not_as_escaped_text() -> None:
    from django.template import Context, Template

    from serviceloop.experience.charts import Point, Series, line_chart

    chart = line_chart([Series("Happiness", [Point("2 Nov", 41.2, 30.0, 50.0, 40)])], title="Happiness", unit="points")
    html = Template("{{ chart }}").render(Context({"chart": chart}))
    assert html.startswith('<figure class="chart"><svg') and "&lt;svg" not in html


def test_a_service_review_names_its_hotspots_by_impact_and_a_relationship_review_none(
    seeded: dict[str, Any], service: Service, org_b: Organisation, sam: User
) -> None:
    # The service: 4 promoters, 5 detractors of 9 → −11.1. Organisation B: 3 detractors of 3 → −100,
    # impact 3 × (−100 − (−11.1)) = −267; its offering "Shared drives" the same. A's +33.3 is above.
    review = review_of(service=service, by=sam)
    hotspots = hotspots_for(review)
    assert hotspots == [
        f"Organisation {org_b.name}: happiness -100.0 against -11.1 for the service (n 3), impact -267",
        "Offering Shared drives: happiness -100.0 against -11.1 for the service (n 3), impact -267",
    ]
    assert hotspots_for(review_of(service=service, relationship=seeded["relationship"], by=sam)) == []


def test_the_review_judges_each_xla_of_its_scope_over_its_period(
    seeded: dict[str, Any], service: Service, sam: User
) -> None:
    from decimal import Decimal

    from serviceloop.experience.xlas import xla_create

    xla_create(by=sam, name="Mail happiness", service=service, metric="happiness", target=Decimal("0"))
    xla_create(
        by=sam, name="Acme happiness", relationship=seeded["relationship"], metric="happiness", target=Decimal("30")
    )
    whole = xla_states_for(review_of(service=service, by=sam))
    assert whole == [
        # +33.3 is above +30 by less than the default margin (5 points): at risk.
        "Acme happiness (Happiness ≥ +30.0): at risk over the period — +33.3, n 6",
        "Mail happiness (Happiness ≥ +0.0): breached over the period — -11.1, n 9",
    ]
    # A relationship's review shows its own XLAs only (service-wide XLAs are the provider's).
    mine = xla_states_for(review_of(service=service, relationship=seeded["relationship"], by=sam))
    assert mine == ["Acme happiness (Happiness ≥ +30.0): at risk over the period — +33.3, n 6"]

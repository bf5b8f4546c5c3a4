"""Trust pages on stored rows: the list (filters, band chips, order, sparklines, empty states), one
relationship's page (level, band, confidence, change, chart with its table, the sentences, majors,
the evidence log), who sees what, and the queries staying the same however many rows there are.

The rows are written directly (tests/trust_page_rows.py) with the engine's own figures, so these
tests need neither the evidence receivers nor the state refresh; test_trust_browser.py goes through
the real incident flow.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.testing import make_organisation
from serviceloop.catalogue.models import Service
from serviceloop.desk.tests.factories import make_service
from serviceloop.experience.tests.trust_page_rows import evidence, major, share, state_of, weeks
from serviceloop.experience.trust_models import TrustParameterSet, TrustState
from serviceloop.incidents.models import Incident
from serviceloop.incidents.tests.factories_review import make_incident

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def detail_url(state: TrustState) -> str:
    return reverse("experience:trust_detail", args=[state.organisation.public_id, state.service.public_id])


@pytest.fixture
def incident(travel: Any) -> Incident:
    travel.to(NOW)
    return make_incident(
        declared_at=datetime(2026, 11, 16, 9, 0, tzinfo=UTC),
        status="resolved",
        resolved_at=datetime(2026, 11, 17, 9, 0, tzinfo=UTC),
        title="Mail is down",
    )


@pytest.fixture
def acme(org_a: Organisation, service: Service, incident: Incident) -> TrustState:
    """Two years of met weeks, then a major incident resolved with good communication and a plan; its
    review's actions still open: credit earned, more pending."""
    weeks(org_a, service, date(2024, 11, 1), 109)
    major(org_a, service, incident, date(2026, 11, 16), resolved=date(2026, 11, 17))
    TrustParameterSet.objects.create(version=1, values={})
    return state_of(org_a, service, TODAY)


@pytest.fixture
def borealis(org_b: Organisation, service: Service, travel: Any) -> TrustState:
    """Half a year of weeks and a run of small failures: red, falling."""
    travel.to(NOW)
    weeks(org_b, service, date(2026, 6, 1), 26, share=0.5)
    for day in range(12):
        evidence(org_b, service, date(2026, 11, 10) + timedelta(days=day), "small_failure", label=f"SLA breach T-{day}")
    return state_of(org_b, service, TODAY)


def test_the_list_shows_each_relationship_lowest_first_with_its_band_change_and_trend(
    acme: TrustState, borealis: TrustState, alex: User
) -> None:
    page = client_for(alex).get(reverse("experience:trust_list")).content.decode()
    assert page.index("Borealis Health") < page.index("Acme Logistics")  # lowest first
    acme_row = page.split(f'data-organisation="{acme.organisation.public_id}"')[1].split("</tr>")[0]
    assert f"{acme.trust:.1f}" in acme_row and acme.get_band_display() in acme_row
    assert "−12.1" in acme_row  # the change over 30 days, with a real minus sign
    assert '<svg class="sparkline"' in acme_row and "Trust of Acme Logistics in Email &amp; collaboration" in acme_row
    assert borealis.band == "red" and '<span class="badge bad">Red</span>' in page
    # Band chips: a count per band, each a link that filters (the chips are a labelled navigation).
    chips = page.split('<nav aria-label="Bands">')[1].split("</nav>")[0]
    assert re.search(r'data-band="red"><span class="badge bad">Red</span> 1</a>', chips)
    assert re.search(r'data-band="good"><span class="badge ok">Good</span> 1</a>', chips)
    assert re.search(r'data-band="watch"><span class="badge warn">Watch</span> 0</a>', chips)
    assert '<a href="?order=trust&amp;band=red"' in chips
    assert "Download CSV" in page


def test_the_filters_narrow_the_list_and_falling_fastest_orders_by_change(
    acme: TrustState, borealis: TrustState, alex: User, service: Service, org_a: Organisation
) -> None:
    client = client_for(alex)
    url = reverse("experience:trust_list")
    red = client.get(url, {"band": "red"}).content.decode()
    assert "Borealis Health" in red and "Acme Logistics</a>" not in red
    assert 'aria-current="true"><span class="badge bad">Red</span>' in red
    named = client.get(url, {"q": "acme"}).content.decode()
    assert "Acme Logistics</a>" in named and "Borealis Health</a>" not in named
    other = make_service("Ride booking")
    weeks(org_a, other, date(2026, 1, 1), 40)
    state_of(org_a, other, TODAY)
    by_service = client.get(url, {"service": other.public_id}).content.decode()
    assert "Ride booking" in by_service and "Email &amp; collaboration</td>" not in by_service
    # Steady Co's trust is the lowest but not falling: first by trust, after the falling two by change.
    steady = make_organisation("Steady Co", domain="steady.example")
    weeks(steady, service, date(2026, 1, 1), 48, share=0.3)
    for _ in range(20):
        evidence(steady, service, date(2026, 1, 10), "small_failure")
    steady_state = state_of(steady, service, TODAY)
    assert steady_state.trust < borealis.trust < acme.trust
    assert borealis.change is not None and acme.change is not None and steady_state.change is not None
    assert borealis.change < acme.change < 0 <= steady_state.change
    lowest = client.get(url).content.decode()
    assert lowest.index("Steady Co</a>") < lowest.index("Borealis Health</a>") < lowest.index("Acme Logistics</a>")
    falling = client.get(url, {"order": "change"}).content.decode()
    assert falling.index("Borealis Health</a>") < falling.index("Acme Logistics</a>") < falling.index("Steady Co</a>")
    assert "Falling fastest first" in falling
    # Every control has its label; values the page does not offer are ignored, never an error.
    for control in ("trust-service", "trust-band", "trust-q", "trust-order"):
        assert f'<label for="{control}">' in falling and f'id="{control}"' in falling
    odd = client.get(url, {"band": "purple", "order": "sideways", "service": "nope", "page": "x"})
    assert odd.status_code == 200 and "No relationship matches these filters." in odd.content.decode()
    nothing = client.get(url, {"q": "zzz"}).content.decode()
    assert "No relationship matches these filters." in nothing and "Clear the filters" in nothing


def test_the_list_before_any_trust_says_how_trust_comes_about(alex: User) -> None:
    page = client_for(alex).get(reverse("experience:trust_list")).content.decode()
    assert "No trust yet." in page and "serviceloop trust recompute --backfill" in page
    assert "Download CSV" not in page


def test_the_list_pages_and_its_queries_do_not_grow_with_the_rows(
    acme: TrustState, alex: User, service: Service, settings: Any, django_assert_max_num_queries: Any
) -> None:
    settings.SERVICELOOP_PAGE_SIZE = 10
    client = client_for(alex)
    with django_assert_max_num_queries(14) as few:
        client.get(reverse("experience:trust_list"))
    for index in range(14):
        organisation = make_organisation(f"Organisation {index:02}", domain=f"o{index}.example")
        weeks(organisation, service, date(2026, 6, 1) + timedelta(days=index), 10)
        state_of(organisation, service, TODAY)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("experience:trust_list")).content.decode()
    assert "Page 1 of 2 · 15 in all" in page and page.count('<svg class="sparkline"') == 10
    second = client.get(reverse("experience:trust_list"), {"page": 2}).content.decode()
    assert second.count("data-organisation=") == 5


def test_a_relationship_page_explains_its_trust_point_by_point(
    acme: TrustState, incident: Incident, alex: User
) -> None:
    page = client_for(alex).get(detail_url(acme)).content.decode()
    assert "Trust of Acme Logistics in Email &amp; collaboration" in page
    level = page.split('id="trust-level">')[1].split("</p>")[0]
    assert level.startswith(f"{acme.trust:.1f}") and acme.band == "good"
    assert '<span class="badge ok" id="trust-band">Good</span>' in page
    assert "<strong>−12.1</strong> over 30 days" in page and "(from 82.7)" in page
    assert 'id="trust-confidence">71%' in page
    # The sentences: the incident with its credit, earned and pending; then the met weeks.
    why = page.split('id="trust-explanations">')[1].split("</ul>")[0]
    assert (
        f"Major incident {incident.reference}: −17.5; recovery credit earned +5.2, pending +2.6 until review actions close"
        in why
    )
    assert "Weeks with targets met (109): +37.4" in why
    assert why.count("<li") == 2  # the credit is told with its incident, not on a line of its own
    # The chart: an SVG with the band thresholds, and its data as a table (the text alternative).
    chart = page.split('<figure class="chart">')[1].split("</figure>")[0]
    assert "<svg" in chart and "Watch below" in chart and "Red below" in chart
    assert '<table class="chart-data">' in chart and '<th scope="row">2026-11-15</th><td class="num">82.9</td>' in chart
    # The majors table links the incident; the evidence log pages, newest first; the parameter version.
    majors = page.split('class="table reflow trust-majors"')[1].split("</table>")[0]
    assert reverse("incidents:incident", args=[incident.public_id]) in majors
    assert "2026-11-16" in majors and "2026-11-17" in majors and "100%" in majors
    log = page.split('class="table reflow trust-evidence"')[1].split("</table>")[0]
    assert log.index("2026-11-17") < log.index("2026-11-16")
    assert "Page 1 of 3 · 111 in all" in page
    assert "parameters version 1" in page
    assert "Not shown to Acme Logistics" in page


def test_the_evidence_log_filters_by_kind(acme: TrustState, alex: User) -> None:
    client = client_for(alex)
    majors_only = client.get(detail_url(acme), {"kind": "major_incident"}).content.decode()
    log = majors_only.split('class="table reflow trust-evidence"')[1].split("</table>")[0]
    assert log.count('data-kind="major_incident"') == 1 and 'data-kind="week_met"' not in log
    none = client.get(detail_url(acme), {"kind": "availability_missed"}).content.decode()
    assert "No evidence of this kind." in none
    ignored = client.get(detail_url(acme), {"kind": "<script>", "page": "999"})
    assert ignored.status_code == 200 and "<script>" not in ignored.content.decode().split("<main")[1]


def test_poor_communication_and_an_open_incident_are_said_so(
    org_a: Organisation, service: Service, incident: Incident, alex: User
) -> None:
    weeks(org_a, service, date(2025, 6, 1), 70)
    major(org_a, service, incident, date(2026, 11, 16), resolved=date(2026, 11, 17), communication=0.1)
    second = make_incident(declared_at=NOW - timedelta(days=1), title="Mail is slow")
    major(org_a, service, second, date(2026, 12, 1))
    page = client_for(alex).get(detail_url(state_of(org_a, service, TODAY))).content.decode()
    why = page.split('id="trust-explanations">')[1].split("</ul>")[0]
    assert f"Major incident {incident.reference}: " in why
    assert (
        "communication was poor, so it earns no recovery credit and a further quarter of its weight counts against"
        in why
    )
    assert f"Major incident {second.reference}: " in why and "recovery credit comes when it is resolved" in why
    assert "poor communication: no credit" in page


def test_a_state_of_an_older_parameter_version_says_a_newer_one_is_in_use(acme: TrustState, alex: User) -> None:
    TrustParameterSet.objects.create(version=2, values={"negativity": 2.5}, note="Bad evidence weighs less")
    page = client_for(alex).get(detail_url(acme)).content.decode()
    assert "parameters version 1" in page and "version 2 is in use" in page


def test_the_relationship_page_queries_do_not_grow_with_the_evidence(
    acme: TrustState, org_b: Organisation, service: Service, alex: User, django_assert_max_num_queries: Any
) -> None:
    client = client_for(alex)
    small = make_organisation("Small Co", domain="small.example")
    weeks(small, service, date(2026, 9, 1), 5)
    with django_assert_max_num_queries(20) as few:
        client.get(detail_url(state_of(small, service, TODAY)))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(detail_url(acme)).status_code == 200


def test_customers_see_their_own_trust_only_when_the_provider_shows_it(
    acme: TrustState, borealis: TrustState, carol: User, bob: User, sam: User
) -> None:
    carols = client_for(carol)
    assert carols.get(reverse("experience:trust_list")).status_code == 403
    assert carols.get(detail_url(acme)).status_code == 404  # their own, not shown to them: as if it did not exist
    share(acme.organisation)
    page = carols.get(detail_url(acme))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Major incident" in text and "Trust per relationship</a>" not in text
    assert reverse("incidents:portal_incident", args=[_incident_public_id(acme)]) in text
    # Another organisation's trust: 404, shown or not.
    share(borealis.organisation)
    assert carols.get(detail_url(borealis)).status_code == 404
    assert client_for(bob).get(detail_url(acme)).status_code == 404
    assert client_for(bob).get(detail_url(borealis)).status_code == 200
    # Staff see both, and the navigation has a "Trust" item for them only.
    assert client_for(sam).get(detail_url(borealis)).status_code == 200
    staff_nav = client_for(sam).get(reverse("experience:trust_list")).content.decode()
    assert f'<a href="{reverse("experience:trust_list")}" aria-current="page">Trust</a>' in staff_nav
    customer_page = carols.get(reverse("experience:mine"), follow=True).content.decode()
    customer_nav = customer_page.split('id="mainnav"')[1].split("</nav>")[0]
    assert "Trust" not in customer_nav and reverse("experience:trust_list") not in customer_nav


def _incident_public_id(state: TrustState) -> str:
    return Incident.objects.get(pk=state.majors[0]["incident_id"]).public_id


def test_a_missing_pair_answers_404(acme: TrustState, alex: User, service: Service, org_b: Organisation) -> None:
    client = client_for(alex)
    assert client.get(reverse("experience:trust_detail", args=[org_b.public_id, service.public_id])).status_code == 404
    assert client.get(reverse("experience:trust_detail", args=["nope", "nope"])).status_code == 404

"""Trust on the service page and the organisation page (issue 14): a service's lowest and falling fastest
relationships, an organisation's trust per service, the staff's portal-sharing toggle, and tenancy —
a customer never sees another organisation's trust, and sees their own only when the provider shares it.

The states are written directly (trust_states.py computes them from the evidence in production; its
own tests prove that); these tests prove what the pages read and who sees it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.testing import make_organisation
from serviceloop.catalogue.models import Service
from serviceloop.core.errors import NotAllowed
from serviceloop.core.models import Event
from serviceloop.experience.tests.factories import make_service
from serviceloop.experience.tests.page_data import NOW, World, seed
from serviceloop.experience.trust_models import TrustBand, TrustSharing, TrustState
from serviceloop.experience.trust_panels import contribution_sentence, signed
from serviceloop.experience.trust_sharing import trust_sharing_set, trust_shown_to_customers
from serviceloop.relationships.services import relationship_create

pytestmark = pytest.mark.django_db

AS_OF = NOW.date()


@pytest.fixture
def world(settings: Any, travel: Any, sam: User, org_a: Organisation, org_b: Organisation) -> World:
    settings.SERVICELOOP_MIN_SAMPLE = 3
    travel.to(NOW)
    return seed(sam, org_a, org_b)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def state(
    organisation: Organisation,
    service: Service,
    trust: float,
    *,
    change: float | None = None,
    band: str | None = None,
    confidence: float = 0.6,
    contributions: list[dict[str, Any]] | None = None,
) -> TrustState:
    if band is None:
        band = TrustBand.RED if trust < 50 else TrustBand.WATCH if trust < 70 else TrustBand.GOOD
    return TrustState.objects.create(
        organisation=organisation,
        service=service,
        as_of=AS_OF,
        trust=trust,
        confidence=confidence,
        band=band,
        trust_before=None if change is None else trust - change,
        change=change,
        evidence_count=10,
        first_day=date(2025, 8, 4),
        contributions=contributions or [],
        majors=[],
        parameters_version=1,
    )


def trust_href(organisation: Organisation, service: Service) -> str | None:
    """The relationship's trust page (helper D's route); None on a branch where it is not mounted yet."""
    try:
        return reverse("experience:trust_detail", args=[organisation.public_id, service.public_id])
    except NoReverseMatch:
        return None


def section(html: str, anchor: str = 'id="trust"') -> str:
    """The trust panel's HTML (empty when the page has none)."""
    start = html.find(f'<section class="panel" {anchor}')
    if start < 0:
        return ""
    return html[start : html.find("</section>", start)]


def cell(trust: str) -> str:
    """A trust figure as a panel's table cell shows it (a bare number could be a chart's coordinate)."""
    return f'<td class="num">{trust}</td>'


def service_url(service: Service) -> str:
    return reverse("experience:service", args=[service.public_id])


def organisation_url(organisation: Organisation) -> str:
    return reverse("experience:organisation", args=[organisation.public_id])


def many_organisations(service: Service, sam: User, count: int, offset: int = 0) -> list[Organisation]:
    offering = service.offerings.order_by("pk").first()
    assert offering is not None
    made = []
    for index in range(offset, offset + count):
        organisation = make_organisation(f"Org {index:02d}", domain=f"org{index:02d}.example")
        relationship_create(by=sam, organisation=organisation, offering=offering, started_on=date(2025, 1, 1))
        state(organisation, service, 40 + index, change=-(index % 7) - 0.5)
        made.append(organisation)
    return made


# ---------------------------------------------------------------- sharing


def test_trust_is_not_shown_to_customers_until_staff_turn_it_on(world: World, sam: User, carol: User) -> None:
    organisation = world.org_a
    assert not trust_shown_to_customers(organisation)
    with pytest.raises(NotAllowed):
        trust_sharing_set(organisation=organisation, shown=True, by=carol)
    assert not trust_shown_to_customers(organisation) and not TrustSharing.objects.exists()

    row = trust_sharing_set(organisation=organisation, shown=True, by=sam)
    assert row.shown_in_portal and row.changed_by == sam and row.changed_at == NOW
    assert trust_shown_to_customers(organisation)
    assert not trust_shown_to_customers(world.org_b)  # one organisation's choice only
    # Sent twice (a form resubmitted): no second record.
    trust_sharing_set(organisation=organisation, shown=True, by=sam)
    trust_sharing_set(organisation=organisation, shown=False, by=sam)
    assert not trust_shown_to_customers(organisation)
    changes = list(Event.objects.filter(name="trust.sharing_changed").order_by("pk"))
    assert [(e.data["shown_in_portal"], e.data["previous"]) for e in changes] == [(True, False), (False, True)]
    assert {(e.subject_type, e.subject_id, e.actor_id) for e in changes} == {
        ("accounts.organisation", organisation.pk, sam.pk)
    }


# ---------------------------------------------------------------- the service page


def test_the_service_page_lists_the_lowest_and_the_falling_fastest(world: World, sam: User) -> None:
    payroll = world.payroll
    made = many_organisations(payroll, sam, 7)  # trust 40..46, change −0.5..−6.5
    state(world.org_a, payroll, 88.0, change=-12.0)  # high, but falling fastest
    state(world.org_b, payroll, 50.0, change=None, band=TrustBand.UNKNOWN, confidence=0.1)  # too little evidence
    state(world.org_a, world.rides, 10.0, change=-30.0)  # another service's: not on payroll's page

    answer = client_for(sam).get(service_url(payroll))
    assert answer.status_code == 200
    panel = answer.context["trust"]
    assert [row.organisation for row in panel.lowest] == [o.name for o in made[:5]]
    assert [row.trust for row in panel.lowest] == [40.0, 41.0, 42.0, 43.0, 44.0]
    assert world.org_b.name not in [row.organisation for row in panel.lowest]  # unknown is not "lowest"
    assert [(row.organisation, row.change) for row in panel.falling][:2] == [
        (world.org_a.name, -12.0),
        (made[6].name, -6.5),
    ]
    assert len(panel.falling) == 5 and panel.relationships == 9
    html = section(answer.content.decode())
    assert "Lowest trust" in html and "Falling fastest" in html
    assert "−12" in html and 'class="badge bad"' in html and 'class="badge good"' not in html
    href = trust_href(world.org_a, payroll)
    if href is not None:
        assert f'href="{href}"' in html


def test_the_service_page_says_when_there_is_no_trust_yet(world: World, sam: User) -> None:
    html = section(client_for(sam).get(service_url(world.payroll)).content.decode())
    assert "No trust yet" in html


def test_a_customer_sees_only_their_own_trust_on_the_service_page_and_only_when_shared(
    world: World, sam: User, carol: User, bob: User
) -> None:
    payroll = world.payroll
    state(world.org_a, payroll, 61.5, change=-4.0)
    state(world.org_b, payroll, 23.9, change=-20.0)
    many_organisations(payroll, sam, 3)

    answer = client_for(carol).get(service_url(payroll))
    assert answer.status_code == 200
    assert section(answer.content.decode()) == "" and cell("23.9") not in answer.content.decode()

    trust_sharing_set(organisation=world.org_a, shown=True, by=sam)
    html = section(client_for(carol).get(service_url(payroll)).content.decode())
    assert cell("61.5") in html and "Your trust in this service" in html
    # Never another organisation's: not B's, not the lists staff see.
    assert cell("23.9") not in html and world.org_b.name not in html and "Org 0" not in html
    assert "Lowest trust" not in html and "Falling fastest" not in html
    # B's customer: B's trust is not shared, so nothing (and A's sharing shows B nothing of A).
    html_b = client_for(bob).get(service_url(payroll)).content.decode()
    assert section(html_b) == "" and cell("61.5") not in html_b


# ---------------------------------------------------------------- the organisation page


def test_the_organisation_page_shows_trust_per_consumed_service(world: World, sam: User) -> None:
    state(world.org_a, world.payroll, 72.4, change=3.0)
    answer = client_for(sam).get(organisation_url(world.org_a))
    panel = answer.context["trust"]
    # Payroll has a state; Rides is consumed but has no evidence yet: it says so.
    assert [(row.service, row.trust, row.band) for row in panel.rows] == [
        ("Payroll", 72.4, TrustBand.GOOD),
        ("Rides", None, TrustBand.UNKNOWN),
    ]
    html = section(answer.content.decode())
    assert cell("72.4") in html and "+3" in html and "no evidence yet" in html
    assert "Show this organisation its own trust in the portal" in html
    href = trust_href(world.org_a, world.payroll)
    if href is not None:
        assert f'href="{href}"' in html


def test_the_staff_toggle_shares_the_organisation_s_trust_with_its_customers(
    world: World, sam: User, alex: User, carol: User
) -> None:
    state(world.org_a, world.payroll, 72.4, change=3.0)
    url = organisation_url(world.org_a)
    # Carol's own organisation's page (where "mine" sends her): no trust while it is not shared.
    mine = client_for(carol).get(reverse("experience:mine"), follow=True)
    assert mine.redirect_chain[-1][0] == url
    assert section(mine.content.decode()) == "" and cell("72.4") not in mine.content.decode()

    answer = client_for(alex).post(url, {"shown_in_portal": "on"})  # any staff member, an agent too
    assert answer.status_code == 302 and answer["Location"] == url + "#trust"
    assert trust_shown_to_customers(world.org_a)
    staff_html = section(client_for(alex).get(url).content.decode())
    assert "shown in the portal" in staff_html and "Stop showing" in staff_html

    html = section(client_for(carol).get(url).content.decode())
    assert cell("72.4") in html and "Payroll" in html
    assert "<form" not in html and "shown_in_portal" not in html  # the toggle is the provider's

    client_for(sam).post(url, {"shown_in_portal": "off"})
    assert not trust_shown_to_customers(world.org_a)
    assert section(client_for(carol).get(url).content.decode()) == ""


def test_the_toggle_is_staff_only(world: World, sam: User, carol: User, bob: User) -> None:
    url = organisation_url(world.org_a)
    # A's customer may read A's page but not change what it shows: 403, nothing recorded.
    assert client_for(carol).post(url, {"shown_in_portal": "on"}).status_code == 403
    # B's customer does not learn A exists.
    assert client_for(bob).post(url, {"shown_in_portal": "on"}).status_code == 404
    anonymous = Client().post(url, {"shown_in_portal": "on"})
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    assert not TrustSharing.objects.exists() and not Event.objects.filter(name="trust.sharing_changed").exists()
    # Anything but on or off is refused, by name.
    bad = client_for(sam).post(url, {"shown_in_portal": "yes please"})
    assert bad.status_code == 400 and b"shown_in_portal" in bad.content
    assert not TrustSharing.objects.exists()


def test_a_customer_never_sees_another_organisation_s_trust(world: World, sam: User, carol: User, bob: User) -> None:
    state(world.org_a, world.payroll, 72.4)
    state(world.org_b, world.payroll, 31.7)
    trust_sharing_set(organisation=world.org_a, shown=True, by=sam)
    trust_sharing_set(organisation=world.org_b, shown=True, by=sam)
    # Each sees their own organisation's page with their own trust; the other's page is a 404.
    assert client_for(carol).get(organisation_url(world.org_b)).status_code == 404
    assert client_for(bob).get(organisation_url(world.org_a)).status_code == 404
    html_a = client_for(carol).get(organisation_url(world.org_a)).content.decode()
    html_b = client_for(bob).get(organisation_url(world.org_b)).content.decode()
    assert cell("72.4") in section(html_a) and cell("31.7") not in html_a
    assert cell("31.7") in section(html_b) and cell("72.4") not in html_b


# ---------------------------------------------------------------- reads: no N+1


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_panels_read_a_constant_number_of_queries(world: World, sam: User, carol: User) -> None:
    staff = client_for(sam)
    trust_sharing_set(organisation=world.org_a, shown=True, by=sam)
    state(world.org_a, world.payroll, 70.0, change=-1.0)
    many_organisations(world.payroll, sam, 2)
    few = _queries(staff, service_url(world.payroll)), _queries(staff, organisation_url(world.org_a))
    few_customer = _queries(client_for(carol), organisation_url(world.org_a))
    many_organisations(world.payroll, sam, 12, offset=2)
    for index in range(4):  # more services with a state for A
        extra = make_service(f"Extra {index}", manager=sam)
        state(world.org_a, extra, 50.0 + index, change=-2.0)
    many = _queries(staff, service_url(world.payroll)), _queries(staff, organisation_url(world.org_a))
    assert many == few
    assert _queries(client_for(carol), organisation_url(world.org_a)) == few_customer


# ---------------------------------------------------------------- words


def test_contributions_read_as_sentences() -> None:
    assert signed(-18.04) == "−18" and signed(6.0) == "+6" and signed(0.01) == "±0" and signed(None) == "—"
    major = {"group": "major:7", "label": "major incident MI-12", "effect": -18.0, "count": 1, "pending": 0.0}
    credit = {
        "group": "credit:7",
        "label": "recovery credit for major incident MI-12",
        "effect": 6.0,
        "count": 1,
        "pending": 3.0,
    }
    small = {"group": "kind:small_failure", "label": "small failures", "effect": -9.5, "count": 14, "pending": 0}
    assert contribution_sentence(major) == "major incident MI-12: −18"
    assert (
        contribution_sentence(credit)
        == "recovery credit for major incident MI-12: +6, pending +3 until review actions close"
    )
    assert contribution_sentence(small) == "small failures (14): −9.5"

"""The suppressed-invitation log for staff: counts per reason, filters, links, pages, and the API twin."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from serviceloop.accounts.models import Organisation
from serviceloop.accounts.testing import api_client_for
from serviceloop.catalogue.models import Service
from serviceloop.desk.models import Ticket
from serviceloop.feedback.models import SuppressedInvitation, Trigger
from serviceloop.feedback.tests.survey_factories import make_person, make_service, make_ticket, resolve
from serviceloop.relationships.models import Person

pytestmark = pytest.mark.django_db

Reason = SuppressedInvitation.Reason
URL = reverse("feedback:suppressed_list")
API = "/api/feedback/suppressed-invitations"


def suppressed(
    person: Person,
    service: Service,
    reason: str,
    *,
    at: datetime | None = None,
    ticket: Ticket | None = None,
    detail: str = "",
) -> SuppressedInvitation:
    row = SuppressedInvitation.objects.create(
        person=person,
        organisation=person.organisation,
        service=service,
        trigger=Trigger.TICKET_RESOLVED if ticket else Trigger.API,
        ticket=ticket,
        reason=reason,
        detail=detail,
    )
    if at is not None:
        SuppressedInvitation.objects.filter(pk=row.pk).update(created_at=at)
    return row


@pytest.fixture
def world(sam: Any, org_a: Organisation, org_b: Organisation) -> dict[str, Any]:
    payroll, laptops = make_service("Payroll", sam), make_service("Laptops", sam)
    pat = make_person(org_a, "pat@acme.example", name="Pat Pay")
    quinn = make_person(org_a, "quinn@acme.example", name="Quinn Quiet")
    bea = make_person(org_b, "bea@borealis.example", name="Bea Boreal")
    ticket = make_ticket(payroll, pat)
    rows = {
        "pat_throttled": suppressed(
            pat,
            payroll,
            Reason.THROTTLED,
            at=datetime(2026, 11, 3, 9, tzinfo=UTC),
            ticket=ticket,
            detail="Invited 2 days ago.",
        ),
        "quinn_opted_out": suppressed(quinn, payroll, Reason.OPTED_OUT, at=datetime(2026, 11, 10, 9, tzinfo=UTC)),
        "bea_sampled": suppressed(bea, laptops, Reason.SAMPLED_OUT, at=datetime(2026, 11, 20, 9, tzinfo=UTC)),
        "bea_duplicate": suppressed(bea, payroll, Reason.DUPLICATE, at=datetime(2026, 11, 25, 9, tzinfo=UTC)),
    }
    return {"payroll": payroll, "laptops": laptops, "pat": pat, "bea": bea, "ticket": ticket, **rows}


def _get(user: Any, query: str = "", status: int = 200) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"{URL}?{query}" if query else URL)
    assert response.status_code == status, response.content[:500]
    return response.content.decode()


def _shown(page: str) -> list[str]:
    """The reasons of the rows listed, in order."""
    table = page.split('id="suppressed"')[1].split("</table>")[0]
    return [part.split('"')[0] for part in table.split('class="suppressed" data-reason="')[1:]]


def _card(page: str, reason: str) -> str:
    cards = page.split('id="reason-counts"')[1].split("</div>\n<form")[0]
    return cards.split(f'data-reason="{reason}"')[1].split('class="kpi">')[1].split("<")[0]


def test_staff_see_every_suppressed_invitation_newest_first_with_counts_per_reason(alex: Any, world: Any) -> None:
    page = _get(alex)
    assert _shown(page) == ["duplicate", "sampled_out", "opted_out", "throttled"]
    assert [_card(page, r) for r in ("", "throttled", "opted_out", "sampled_out", "duplicate")] == [
        "4",
        "1",
        "1",
        "1",
        "1",
    ]


def test_each_row_links_the_person_organisation_ticket_and_service_and_says_the_reason(alex: Any, world: Any) -> None:
    page = _get(alex, "reason=throttled")
    row = page.split('class="suppressed" data-reason="throttled"')[1].split("</tr>")[0]
    assert reverse("relationships:person_detail", args=[world["pat"].public_id]) in row and "Pat Pay" in row
    assert reverse("relationships:organisation_detail", args=[world["pat"].organisation.public_id]) in row
    assert reverse("desk:ticket", args=[world["ticket"].public_id]) in row and world["ticket"].reference in row
    assert reverse("feedback:service_stream", args=[world["payroll"].public_id]) in row
    assert "Throttled" in row and "Invited 2 days ago." in row


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("reason=opted_out", ["opted_out"]),
        ("service={laptops}", ["sampled_out"]),
        ("organisation={org_b}", ["duplicate", "sampled_out"]),
        ("since=2026-11-10&until=2026-11-20", ["sampled_out", "opted_out"]),
        ("since=2026-11-21", ["duplicate"]),
        ("until=2026-11-03", ["throttled"]),
        ("q=quinn", ["opted_out"]),
        ("q=BOREALIS.example", ["duplicate", "sampled_out"]),
        ("person={pat}", ["throttled"]),
        ("ticket={ticket}", ["throttled"]),
        ("ticket={reference}", ["throttled"]),
        ("service={payroll}&organisation={org_b}&reason=duplicate", ["duplicate"]),
    ],
)
def test_each_filter_narrows_the_list(
    alex: Any, world: Any, org_b: Organisation, query: str, expected: list[str]
) -> None:
    query = query.format(
        laptops=world["laptops"].public_id,
        payroll=world["payroll"].public_id,
        org_b=org_b.public_id,
        pat=world["pat"].public_id,
        ticket=world["ticket"].public_id,
        reference=world["ticket"].reference,
    )
    assert _shown(_get(alex, query)) == expected


def test_the_counts_follow_every_filter_but_the_reason(alex: Any, world: Any, org_b: Organisation) -> None:
    page = _get(alex, f"organisation={org_b.public_id}&reason=duplicate")
    assert _shown(page) == ["duplicate"]
    assert [_card(page, r) for r in ("", "throttled", "sampled_out", "duplicate")] == ["2", "0", "1", "1"]
    # A card keeps the other filters and sets its reason.
    assert f'href="?organisation={org_b.public_id}&reason=sampled_out"' in page


def test_a_filter_that_does_not_parse_is_refused_beside_its_field(alex: Any, world: Any) -> None:
    page = _get(alex, "since=2026-13-45&reason=throttled", status=422)
    assert "Enter a valid date." in page
    assert _shown(page) == ["throttled"]  # the filters that parsed still apply
    page = _get(alex, "since=2026-11-20&until=2026-11-01", status=422)
    assert "The end date is before the start date." in page
    assert "Select a valid choice" in _get(alex, "reason=bored", status=422)


def test_an_empty_log_says_what_would_appear_here(alex: Any) -> None:
    page = _get(alex)
    assert "No invitation has been held back yet" in page
    assert "held back in all" in page


def test_no_match_says_how_to_widen_the_search(alex: Any, world: Any) -> None:
    page = _get(alex, "q=nobody-of-that-name")
    assert "No suppressed invitations match these filters" in page and f'href="{URL}"' in page


def test_the_list_pages_through_many_rows(alex: Any, world: Any, settings: Any) -> None:
    settings.SERVICELOOP_PAGE_SIZE = 3
    page = _get(alex)
    assert len(_shown(page)) == 3 and "Page 1 of 2" in page
    assert _shown(_get(alex, "page=2")) == ["throttled"]


def test_a_page_of_50_rows_costs_a_fixed_number_of_queries(
    alex: Any, sam: Any, org_a: Organisation, django_assert_max_num_queries: Any, settings: Any
) -> None:
    settings.SERVICELOOP_PAGE_SIZE = 50
    service = make_service("Payroll", sam)
    for n in range(60):
        person = make_person(org_a, f"p{n}@acme.example", name=f"Person {n}")
        suppressed(person, service, Reason.THROTTLED, ticket=make_ticket(service, person))
    client = Client()
    client.force_login(alex)
    with django_assert_max_num_queries(10):
        response = client.get(URL)
    assert response.status_code == 200
    assert len(_shown(response.content.decode())) == 50


def test_customers_may_not_see_the_log(carol: Any, world: Any) -> None:
    client = Client()
    client.force_login(carol)
    assert client.get(URL).status_code == 403
    assert api_client_for(carol).get(API).status_code == 403


def test_the_service_streams_suppressed_count_links_to_the_log_of_that_service(alex: Any, world: Any) -> None:
    client = Client()
    client.force_login(alex)
    page = client.get(reverse("feedback:service_stream", args=[world["payroll"].public_id])).content.decode()
    card = page.split('id="suppressed-count"')[1].split("</a>")[0]
    assert f'href="{URL}?service={world["payroll"].public_id}"' in page
    assert 'class="kpi">3<' in card


def test_the_ticket_panel_of_a_suppressed_invitation_links_to_the_log(sam: Any, alex: Any, org_a: Organisation) -> None:
    service = make_service("Payroll", sam)
    person = make_person(org_a)
    resolve(make_ticket(service, person))
    second = resolve(make_ticket(service, person))  # the same person again within the day: throttled
    client = Client()
    client.force_login(alex)
    page = client.get(reverse("desk:ticket", args=[second.public_id])).content.decode()
    panel = page.split('id="survey-h"')[1].split("</section>")[0]
    assert f"{URL}?ticket={second.public_id}" in panel
    assert _shown(_get(alex, f"ticket={second.public_id}")) == ["throttled"]


def test_the_person_organisation_and_service_pages_link_to_their_part_of_the_log(alex: Any, world: Any) -> None:
    client = Client()
    client.force_login(alex)
    person_page = client.get(reverse("relationships:person_detail", args=[world["pat"].public_id])).content.decode()
    assert f"{URL}?person={world['pat'].public_id}" in person_page
    org = world["pat"].organisation
    org_page = client.get(reverse("relationships:organisation_detail", args=[org.public_id])).content.decode()
    assert f"{URL}?organisation={org.public_id}" in org_page
    service_page = client.get(reverse("catalogue:service_detail", args=[world["payroll"].public_id])).content.decode()
    assert f"{URL}?service={world['payroll'].public_id}" in service_page


def test_the_api_takes_the_same_filters(alex: Any, world: Any, org_b: Organisation) -> None:
    client = api_client_for(alex)
    answer = client.get(f"{API}?organisation={org_b.public_id}&since=2026-11-21&q=bea")
    assert answer.status_code == 200
    [row] = answer.json()["items"]
    assert (row["reason"], row["reason_label"], row["person"]) == ("duplicate", "Duplicate", world["bea"].public_id)
    assert client.get(f"{API}?ticket={world['ticket'].reference}").json()["count"] == 1


def test_the_api_refuses_a_period_backwards_and_a_bad_reason(alex: Any, world: Any) -> None:
    client = api_client_for(alex)
    backwards = client.get(f"{API}?since=2026-11-20&until=2026-11-01")
    assert backwards.status_code == 422 and "start comes after its end" in backwards.json()["message"]
    assert client.get(f"{API}?reason=bored").status_code == 422
    assert client.get(f"{API}?since=1066-10-14").status_code == 422

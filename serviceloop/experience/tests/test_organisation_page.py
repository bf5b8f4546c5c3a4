"""The organisation page: one consumer organisation across its services — figures equal compute()'s, a
row per service, a line per service, comments, CSV, tenancy, the customers' "Experience" item."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.testing import make_organisation
from serviceloop.catalogue.services import offering_create
from serviceloop.experience.api import compute
from serviceloop.experience.queries import HEADLINE
from serviceloop.experience.rollups import rollups_rebuild
from serviceloop.experience.tally import Scope
from serviceloop.experience.tests.factories import make_service, respond
from serviceloop.experience.tests.page_data import NOW, SINCE, UNTIL, World, seed
from serviceloop.experience.views import ROW_METRICS
from serviceloop.relationships.services import relationship_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings: Any, travel: Any, sam: User, org_a: Organisation, org_b: Organisation) -> World:
    settings.SERVICELOOP_MIN_SAMPLE = 3
    travel.to(NOW)
    return seed(sam, org_a, org_b)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(organisation: Organisation, **params: str) -> str:
    base = reverse("experience:organisation", args=[organisation.public_id])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def rows_of(answer: Any) -> list[dict[str, str]]:
    assert answer.status_code == 200, answer.content[:500]
    return list(csv.DictReader(io.StringIO(b"".join(answer.streaming_content).decode())))


def test_figures_are_compute_s_for_the_organisation(world: World, sam: User, org_a: Organisation) -> None:
    answer = client_for(sam).get(url(org_a))
    assert answer.status_code == 200
    ((_key, expected),) = compute(Scope(organisation_ids=(org_a.pk,), since=SINCE, until=UNTIL), [], list(HEADLINE))
    assert [answer.context["figures"][f.metric] for f in expected] == expected
    # A: 5 promoters (4 on Payroll, 1 on Rides) and 1 detractor of 6 → +66.7.
    assert (answer.context["figures"]["happiness"].value, answer.context["figures"]["happiness"].n) == (66.7, 6)


def test_a_row_per_service_linking_to_the_service_page_seen_from_the_organisation(world: World, sam: User) -> None:
    organisation = world.org_a
    answer = client_for(sam).get(url(organisation))
    table = answer.context["services_table"]
    scope = Scope(organisation_ids=(organisation.pk,), since=SINCE, until=UNTIL)
    expected = {key["service"]: figures for key, figures in compute(scope, ["service"], list(ROW_METRICS))}
    assert {row.key["service"]: row.figures for row in table.rows} == expected
    assert [row.labels[0] for row in table.rows] == ["Payroll", "Rides"]
    payroll = table.rows[0]
    assert payroll.href.startswith(reverse("experience:service", args=[world.payroll.public_id]) + "?")
    assert f"organisation={organisation.public_id}" in payroll.href
    # The link opens the service page narrowed to A: A's 5 Payroll answers.
    assert client_for(sam).get(payroll.href).context["figures"]["happiness"].n == 5


def test_a_consumed_service_without_answers_has_its_row_with_not_enough_data(
    world: World, sam: User, org_b: Organisation
) -> None:
    quiet = make_service("Quiet", manager=sam)
    offering = offering_create(service=quiet, by=sam, name="Quiet offering")
    relationship_create(by=sam, organisation=org_b, offering=offering, started_on=date(2026, 1, 1))
    answer = client_for(sam).get(url(org_b))
    rows = {row.labels[0]: row for row in answer.context["services_table"].rows}
    assert set(rows) == {"Payroll", "Quiet"}
    assert all(not figure.enough and figure.n == 0 for figure in rows["Quiet"].figures)
    assert "not enough data" in answer.content.decode()


def test_happiness_by_period_a_line_per_service(world: World, sam: User, org_a: Organisation) -> None:
    answer = client_for(sam).get(url(org_a, grouping="month"))
    html = answer.context["service_lines"].__html__()
    assert "Payroll" in html and "Rides" in html
    trend = answer.context["service_trend"]
    scope = Scope(organisation_ids=(org_a.pk,), since=SINCE, until=UNTIL)
    expected = {(k["service"], k["month"]): f for k, f in compute(scope, ["service", "month"], ["happiness"])}
    assert {(row.key["service"], row.key["month"]): row.figures for row in trend.rows} == expected
    # Staff: each point of a service's line links to that service's stream, narrowed to A and the month.
    stream = reverse("feedback:service_stream", args=[world.payroll.public_id])
    assert f"{stream}?since=2026-06-01&amp;until=2026-06-30&amp;organisation={org_a.public_id}#responses" in html


def test_comments_across_services_of_the_organisation_only(world: World, carol: User, org_a: Organisation) -> None:
    answer = client_for(carol).get(url(org_a))
    assert answer.status_code == 200
    comments = [response.comment for response in answer.context["page_obj"]]
    assert len(comments) == 5 and all("Borealis" not in comment for comment in comments)
    assert "Too old to show" not in comments  # April: outside the period
    html = answer.content.decode()
    assert "Borealis" not in html
    exported = rows_of(client_for(carol).get(url(org_a, export="comments")))
    assert len(exported) == 5 and "organisation" not in exported[0]


def test_a_customer_opens_their_own_organisation_only(
    world: World, carol: User, bob: User, org_a: Organisation, org_b: Organisation
) -> None:
    assert client_for(carol).get(url(org_a)).status_code == 200
    assert client_for(bob).get(url(org_a)).status_code == 404
    assert client_for(bob).get(url(org_a, export="service")).status_code == 404
    assert client_for(bob).get(url(org_b) + f"?organisation={org_a.public_id}").status_code == 404
    # A customer's link to a service row stays on the experience pages, never the staff stream.
    answer = client_for(bob).get(url(org_b))
    html = answer.content.decode()
    assert "/feedback/services/" not in html
    assert answer.context["figures"]["happiness"].n == 3


def test_the_customers_experience_item_opens_their_organisation(
    world: World, carol: User, sam: User, org_a: Organisation
) -> None:
    home = client_for(carol).get(reverse("catalogue:our_services"))
    mine = reverse("experience:mine")
    assert f'href="{mine}"' in home.content.decode() and ">Experience<" in home.content.decode()
    answer = client_for(carol).get(mine)
    assert answer.status_code == 302 and answer["Location"] == url(org_a)
    assert client_for(sam).get(mine).status_code == 403
    assert f'href="{mine}"' not in client_for(sam).get(url(org_a)).content.decode()


def test_the_organisation_s_page_links_to_its_experience(world: World, sam: User, org_a: Organisation) -> None:
    page = client_for(sam).get(reverse("relationships:organisation_detail", args=[org_a.public_id]))
    assert f'href="{url(org_a)}"' in page.content.decode()


def test_every_table_exports_as_csv(world: World, sam: User, org_a: Organisation) -> None:
    client = client_for(sam)
    services = rows_of(client.get(url(org_a, export="service")))
    happiness = {row["Service"]: row for row in services if row["metric"] == "happiness"}
    assert happiness["Payroll"]["value"] == "60.0" and happiness["Payroll"]["n"] == "5"
    assert happiness["Payroll"]["service"] == world.payroll.public_id
    for name in (
        "headline",
        "trend",
        "drivers",
        "sentiment",
        "offering",
        "channel",
        "priority",
        "fcr",
        "service_trend",
    ):
        assert rows_of(client.get(url(org_a, export=name))), name


def test_no_responses_yet(travel: Any, sam: User) -> None:
    travel.to(NOW)
    organisation = make_organisation("Newcomer", domain="new.example")
    answer = client_for(sam).get(url(organisation))
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "No responses in this period yet" in html and "No comments in this period yet." in html


def test_the_number_of_queries_does_not_grow_with_services(
    world: World, sam: User, org_a: Organisation, django_assert_max_num_queries: Any
) -> None:
    client = client_for(sam)
    client.get(url(org_a))
    with CaptureQueriesContext(connection) as few:
        client.get(url(org_a))
    for number in range(8):
        service = make_service(f"Extra {number}", manager=sam)
        offering = offering_create(service=service, by=sam, name=f"Extra offering {number}")
        relationship_create(by=sam, organisation=org_a, offering=offering, started_on=date(2026, 1, 1))
        respond(service, "2026-06-15 10:00", organisation=org_a, offering=offering, happiness=8, comment="ok")
    rollups_rebuild()
    with CaptureQueriesContext(connection) as many:
        client.get(url(org_a))
    assert len(many) == len(few)
    with django_assert_max_num_queries(60):
        client.get(url(org_a))

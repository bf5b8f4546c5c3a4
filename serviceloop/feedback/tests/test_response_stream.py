"""The per-service stream of responses: page and API, filters, tenancy."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from serviceloop.accounts.testing import api_client_for
from serviceloop.feedback.models import Response
from serviceloop.feedback.services.responses import response_record
from serviceloop.feedback.tests.survey_factories import make_person, make_service, make_ticket


@pytest.fixture
def world(sam: Any, org_a: Any, org_b: Any) -> dict[str, Any]:
    payroll = make_service("Payroll", sam)
    pat = make_person(org_a, "pat@acme.example")
    ben = make_person(org_b, "ben@borealis.example")
    ticket = make_ticket(payroll, pat)
    rows = {
        "promoter": response_record(
            service=payroll, person=pat, ticket=ticket, channel="email", happiness=10, drivers=["speed"]
        ),
        "detractor": response_record(
            service=payroll, person=ben, channel="email", happiness=3, drivers=["communication"]
        ),
        "csat": response_record(service=payroll, person=pat, channel="widget", csat=2),
        "old": response_record(
            service=payroll, person=ben, channel="api", nps=8, responded_at=timezone.now() - timedelta(days=60)
        ),
    }
    Response.objects.filter(pk=rows["detractor"].pk).update(sentiment_label="negative", sentiment_score=-0.6)
    return {"service": payroll, "ticket": ticket, **rows}


def ids(payload: dict[str, Any]) -> set[str]:
    return {item["public_id"] for item in payload["items"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("band=promoter", {"promoter"}),
        ("band=detractor", {"detractor"}),
        ("band=passive", {"old"}),
        ("band=2", {"csat"}),
        ("channel=widget", {"csat"}),
        ("driver=communication", {"detractor"}),
        ("sentiment=negative", {"detractor"}),
        ("period=30d", {"promoter", "detractor", "csat"}),
    ],
)
def test_stream_filters(world: dict[str, Any], alex: Any, query: str, expected: set[str]) -> None:
    found = api_client_for(alex).get(f"/api/feedback/responses?service={world['service'].public_id}&{query}").json()
    assert ids(found) == {world[name].public_id for name in expected}


def test_organisation_filter(world: dict[str, Any], alex: Any, org_b: Any) -> None:
    found = api_client_for(alex).get(f"/api/feedback/responses?organisation={org_b.public_id}").json()
    assert ids(found) == {world["detractor"].public_id, world["old"].public_id}


def test_customer_sees_only_their_organisations_responses(world: dict[str, Any], carol: Any) -> None:
    found = api_client_for(carol).get("/api/feedback/responses").json()
    assert ids(found) == {world["promoter"].public_id, world["csat"].public_id}


def test_customer_cannot_read_another_organisations_response(world: dict[str, Any], carol: Any) -> None:
    refused = api_client_for(carol).get(f"/api/feedback/responses/{world['detractor'].public_id}")
    assert refused.status_code == 404


def test_a_bad_filter_is_refused_with_its_message(world: dict[str, Any], alex: Any) -> None:
    refused = api_client_for(alex).get("/api/feedback/responses?band=fabulous")
    assert refused.status_code == 422
    assert "band" in refused.json()["message"]


def test_response_list_reads_in_a_fixed_number_of_queries(
    world: dict[str, Any], alex: Any, django_assert_max_num_queries: Any
) -> None:
    client = api_client_for(alex)
    with django_assert_max_num_queries(8):
        assert client.get("/api/feedback/responses").status_code == 200


def test_service_page_lists_responses_linked_to_their_ticket(world: dict[str, Any], alex: Any) -> None:
    client = Client()
    client.force_login(alex)
    page = client.get(f"/feedback/services/{world['service'].public_id}/").content.decode()
    assert world["ticket"].reference in page
    assert "Happiness 10" in page and "negative" in page


def test_service_page_filters_by_score_band(world: dict[str, Any], alex: Any) -> None:
    client = Client()
    client.force_login(alex)
    page = client.get(f"/feedback/services/{world['service'].public_id}/?band=detractor").content.decode()
    assert world["detractor"].public_id in page and world["promoter"].public_id not in page


def test_service_page_reads_in_a_fixed_number_of_queries(
    world: dict[str, Any], alex: Any, django_assert_max_num_queries: Any
) -> None:
    client = Client()
    client.force_login(alex)
    with django_assert_max_num_queries(14):
        client.get(f"/feedback/services/{world['service'].public_id}/")


def test_customers_have_no_staff_pages(world: dict[str, Any], carol: Any) -> None:
    client = Client()
    client.force_login(carol)
    assert client.get(f"/feedback/services/{world['service'].public_id}/").status_code == 403


def test_designer_previews_the_email_and_the_follow_up_page(sam: Any) -> None:
    payroll = make_service("Payroll", sam)
    client = Client()
    client.force_login(sam)
    created = client.post(
        "/feedback/surveys/new/",
        {
            "name": "Quick CSAT",
            "service": payroll.pk,
            "kind": "transactional",
            "is_active": "on",
            "score_kind": "csat",
            "ask_comment": "on",
        },
    )
    assert created.status_code == 302
    preview = client.get(created["Location"]).content.decode()
    assert "Anything you would like to tell us?" in preview
    # The email's HTML (inline styles, as mail clients need) is framed with a styles-only policy.
    frame = re.search(r'<iframe class="email-preview" sandbox [^>]*src="([^"]+)"', preview)
    assert frame, preview
    email = client.get(frame.group(1))
    assert email.status_code == 200
    html = email.content.decode()
    assert 'data-score="5"' in html and 'data-score="6"' not in html
    assert "sandbox" in email["Content-Security-Policy"] and email["X-Frame-Options"] == "SAMEORIGIN"


def test_designer_shows_the_error_next_to_the_field(sam: Any) -> None:
    payroll = make_service("Payroll", sam)
    client = Client()
    client.force_login(sam)
    page = client.post(
        "/feedback/surveys/new/", {"name": "", "service": payroll.pk, "kind": "transactional", "score_kind": "csat"}
    )
    assert page.status_code == 200
    assert "This field is required." in page.content.decode()


def test_a_response_about_a_ticket_links_to_the_ticket(world: dict[str, Any], alex: Any) -> None:
    from django.urls import reverse

    client = Client()
    client.force_login(alex)
    page = client.get(reverse("feedback:service_stream", args=[world["service"].public_id])).content.decode()
    href = reverse("desk:ticket", args=[world["ticket"].public_id])
    assert f'<a href="{href}">{world["ticket"].reference}</a>' in page
    assert client.get(href).status_code == 200


def test_staff_correct_a_responses_sentiment_from_the_stream(world: dict[str, Any], alex: Any) -> None:
    from django.urls import reverse

    client = Client()
    client.force_login(alex)
    stream = reverse("feedback:service_stream", args=[world["service"].public_id])
    detractor = world["detractor"]
    page = client.get(stream).content.decode()
    action = reverse("feedback:sentiment_correct", args=["response", detractor.public_id])
    assert f'action="{action}"' in page
    answer = client.post(action, {"label": "neutral", "next": stream})
    assert answer.status_code == 302 and answer["Location"] == stream
    detractor.refresh_from_db()
    assert detractor.sentiment_label == "neutral"

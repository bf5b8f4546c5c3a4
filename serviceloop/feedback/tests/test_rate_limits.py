"""Rate limits at feedback's public doors: widget, QR page, one-click link, ingest API, post webhook.

Each answers 429 with Retry-After past its limit, stores nothing for a refused request, shares its
count between clients (a database row), and opens again when the window has passed.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from serviceloop.accounts.services import api_token_create
from serviceloop.core.models import RateLimitCounter
from serviceloop.feedback import links
from serviceloop.feedback.models import Invitation, Post, PostSource, Response, WidgetSite
from serviceloop.feedback.tests.factories_channels import make_service, make_widget_site, ndjson, sign
from serviceloop.feedback.tests.survey_factories import make_person, make_ticket, resolve
from serviceloop.feedback.tests.survey_factories import make_service as make_survey_service

HOST = "https://intranet.acme.example"
WEBHOOK_SECRET = "mastodon-secret-0123456789"


@pytest.fixture
def service(sam: Any) -> Any:
    return make_service("Cloud Desktop", manager=sam)


@pytest.fixture
def site(service: Any) -> WidgetSite:
    return make_widget_site(service, origins=[HOST])


def _widget_answer(site: WidgetSite, address: str) -> Any:
    client = Client(REMOTE_ADDR=address)
    page = client.get(reverse("feedback:widget_frame", args=[site.key]), HTTP_REFERER=f"{HOST}/help")
    match = re.search(r'name="ticket" value="([^"]+)"', page.content.decode())
    assert match
    return client.post(
        reverse("feedback:widget_frame", args=[site.key]),
        {"score": "9", "ticket": match.group(1)},
        HTTP_ORIGIN="http://testserver",
    )


def _assert_refused(response: Any, retry_after: int) -> None:
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= retry_after


@override_settings(SERVICELOOP_RATE_WIDGET_IP="20/10m", SERVICELOOP_RATE_WIDGET_SITE="1000/1h")
def test_widget_answers_past_the_limit_of_one_address_are_refused_and_not_stored(site: WidgetSite, travel: Any) -> None:
    answers = [_widget_answer(site, "198.51.100.7").status_code for _ in range(20)]
    assert answers == [200] * 20
    refused = _widget_answer(site, "198.51.100.7")
    _assert_refused(refused, 600)
    assert refused.get("X-Frame-Options") is None  # the frame shows the page instead of a blank
    assert Response.objects.count() == 20
    assert _widget_answer(site, "198.51.100.8").status_code == 200  # another address
    travel.by(minutes=10)
    assert _widget_answer(site, "198.51.100.7").status_code == 200
    assert Response.objects.count() == 22


@override_settings(SERVICELOOP_RATE_WIDGET_IP="20/10m", SERVICELOOP_RATE_WIDGET_SITE="30/1h")
def test_one_site_takes_at_most_its_limit_from_all_addresses_together(site: WidgetSite) -> None:
    for n in range(30):
        assert _widget_answer(site, f"198.51.100.{n}").status_code == 200
    _assert_refused(_widget_answer(site, "203.0.113.1"), 3600)
    assert Response.objects.count() == 30
    assert RateLimitCounter.objects.get(rule="widget_site").hits == 31


@override_settings(SERVICELOOP_RATE_QR_IP="10/10m", SERVICELOOP_RATE_QR_PAGE="500/1h")
def test_qr_answers_are_limited_per_address_without_a_cookie(service: Any, travel: Any) -> None:
    url = reverse("feedback:qr_public", args=[service.public_id])
    # Ten phones behind one address (a shop's Wi-Fi): each its own client to the repeat guard, but the
    # address takes at most ten answers in ten minutes.
    answers = [Client(HTTP_USER_AGENT=f"phone {n}").post(url, {"score": "3"}).status_code for n in range(10)]
    assert answers == [200] * 10
    refused = Client(HTTP_USER_AGENT="phone 10").post(url, {"score": "3"})
    _assert_refused(refused, 600)
    assert "Please wait" in refused.content.decode()
    assert Response.objects.count() == 10
    assert Client().get(url).status_code == 200  # the page still opens
    travel.by(minutes=10)
    assert Client().post(url, {"score": "3"}).status_code == 200
    assert Response.objects.count() == 11


@override_settings(SERVICELOOP_RATE_QR_IP="10/10m", SERVICELOOP_RATE_QR_PAGE="25/1h")
def test_one_qr_page_takes_at_most_its_limit_from_all_addresses(service: Any) -> None:
    url = reverse("feedback:qr_public", args=[service.public_id])
    for n in range(25):
        assert Client(REMOTE_ADDR=f"198.51.100.{n}").post(url, {"score": "8"}).status_code == 200
    _assert_refused(Client(REMOTE_ADDR="203.0.113.1").post(url, {"score": "8"}), 3600)
    assert Response.objects.count() == 25


@pytest.fixture
def invitation(sam: Any, org_a: Any) -> Invitation:
    ticket = resolve(make_ticket(make_survey_service("Payroll", sam), make_person(org_a)))
    return Invitation.objects.get(ticket=ticket)


@override_settings(SERVICELOOP_RATE_SURVEY_LINK="20/10m", SERVICELOOP_RATE_SURVEY_LINK_IP="600/10m")
def test_one_click_links_are_limited_per_address_and_link(invitation: Invitation, travel: Any) -> None:
    url = links.answer_url(invitation.public_id, 9).removeprefix("http://testserver")
    assert [Client().get(url).status_code for _ in range(20)] == [200] * 20
    Response.objects.all().delete()
    _assert_refused(Client().get(url), 600)
    # Another button (another link) from the same address is its own count: a gateway that fetches
    # every button for the people behind it does not use up their clicks.
    other = links.answer_url(invitation.public_id, 3).removeprefix("http://testserver")
    assert Client().get(other).status_code == 200
    assert Client(REMOTE_ADDR="198.51.100.30").get(url).status_code == 200
    assert not Response.objects.exists()
    travel.by(minutes=10)
    assert Client().get(url).status_code == 200


@override_settings(SERVICELOOP_RATE_SURVEY_LINK="20/10m", SERVICELOOP_RATE_SURVEY_LINK_IP="30/10m")
def test_one_address_fetching_many_links_meets_the_address_limit(invitation: Invitation) -> None:
    for score in range(11):
        for _ in range(2):
            Client().get(links.answer_url(invitation.public_id, score).removeprefix("http://testserver"))
    answers = [
        Client().get(links.answer_url(invitation.public_id, score).removeprefix("http://testserver")).status_code
        for score in range(11)
    ]
    assert answers[:8] == [200] * 8 and set(answers[8:]) == {429}


@override_settings(SERVICELOOP_RATE_INGEST_TOKEN="60/1m")
def test_the_ingest_api_is_limited_per_token_across_clients(alex: Any, service: Any, travel: Any) -> None:
    secret = api_token_create(user=alex, name="kiosk").secret
    # Two clients (two processes of the caller) with one token share the count.
    first, second = (Client(HTTP_AUTHORIZATION=f"Bearer {secret}") for _ in range(2))
    line = {"source": "kiosk", "service": "cloud-desktop", "happiness": 8}
    for n in range(30):
        assert (
            first.post("/api/feedback/ingest", {**line, "external_id": f"a{n}"}, "application/json").status_code == 201
        )
        batch = ndjson([{**line, "external_id": f"b{n}"}])
        assert second.post("/api/feedback/ingest/batch", batch, "application/x-ndjson").status_code == 200
    refused = first.post("/api/feedback/ingest", {**line, "external_id": "late"}, "application/json")
    _assert_refused(refused, 60)
    assert refused.json()["code"] == "rate_limited"
    assert "try again in" in refused.json()["message"]
    assert Response.objects.count() == 60
    other = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=alex, name='other').secret}")
    assert other.post("/api/feedback/ingest", {**line, "external_id": "other"}, "application/json").status_code == 201
    travel.by(minutes=1)
    assert first.post("/api/feedback/ingest", {**line, "external_id": "late"}, "application/json").status_code == 201


@override_settings(SERVICELOOP_RATE_INGEST_TOKEN="60/1m")
def test_a_refused_request_with_an_idempotency_key_works_once_the_wait_is_over(
    alex: Any, service: Any, travel: Any
) -> None:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=alex, name='kiosk').secret}")
    line = {"source": "kiosk", "service": "cloud-desktop", "happiness": 8}
    for n in range(60):
        client.post("/api/feedback/ingest", {**line, "external_id": f"a{n}"}, "application/json")
    body = {**line, "external_id": "retry"}
    assert client.post("/api/feedback/ingest", body, "application/json", HTTP_IDEMPOTENCY_KEY="k1").status_code == 429
    travel.by(minutes=1)
    # The 429 was not remembered as the key's answer: the retry is served.
    assert client.post("/api/feedback/ingest", body, "application/json", HTTP_IDEMPOTENCY_KEY="k1").status_code == 201


@override_settings(SERVICELOOP_RATE_POST_WEBHOOK_IP="60/1m")
def test_the_post_webhook_is_limited_per_address_signed_or_not(service: Any, travel: Any) -> None:
    PostSource.objects.create(name="mastodon", secret=WEBHOOK_SECRET)

    def hook(external_id: str, secret: str = WEBHOOK_SECRET) -> Any:
        raw = json.dumps(
            {"external_id": external_id, "text": "hello", "posted_at": "2026-11-24T10:00:00Z", "kind": "mention"}
        ).encode()
        return Client().post(
            "/api/feedback/posts/webhook",
            data=raw,
            content_type="application/json",
            HTTP_X_SERVICELOOP_SOURCE="mastodon",
            HTTP_X_SERVICELOOP_SIGNATURE=sign(raw, secret),
        )

    assert [hook("bad", secret="guess").status_code for _ in range(30)] == [401] * 30
    assert [hook(f"p{n}").status_code for n in range(30)] == [200] * 30
    refused = hook("late")
    _assert_refused(refused, 60)
    assert refused.json()["code"] == "rate_limited"
    assert Post.objects.count() == 30
    travel.by(minutes=1)
    assert hook("late").status_code == 200

"""The embeddable widget's frame and the public "How was it?" page with its printable QR code."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from serviceloop.feedback.models import Channel, Response, WidgetSite
from serviceloop.feedback.tests.factories_channels import make_offering, make_service, make_widget_site

HOST = "https://intranet.acme.example"


@pytest.fixture
def service(sam: Any) -> Any:
    return make_service("Cloud Desktop", manager=sam)


@pytest.fixture
def site(service: Any) -> WidgetSite:
    return make_widget_site(service, origins=[HOST])


def _ticket(client: Client, site: WidgetSite) -> str:
    page = client.get(reverse("feedback:widget_frame", args=[site.key]), HTTP_REFERER=f"{HOST}/help")
    match = re.search(r'name="ticket" value="([^"]+)"', page.content.decode())
    assert match
    return match.group(1)


def test_widget_frame_may_be_framed_only_by_the_allowed_origins(site: WidgetSite) -> None:
    response = Client().get(reverse("feedback:widget_frame", args=[site.key]), HTTP_REFERER=f"{HOST}/help")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert f"frame-ancestors {HOST}" in csp and "script-src 'self'" in csp
    assert "X-Frame-Options" not in response
    assert "<script>" not in response.content.decode()


def test_widget_answer_from_the_frame_is_stored_with_the_site_key(site: WidgetSite) -> None:
    client = Client(enforce_csrf_checks=True)
    ticket = _ticket(client, site)
    response = client.post(
        reverse("feedback:widget_frame", args=[site.key]),
        {"score": "9", "comment": "Quick fix", "ticket": ticket},
        HTTP_ORIGIN="http://testserver",
    )
    assert response.status_code == 200
    assert "Thank you" in response.content.decode()
    stored = Response.objects.get()
    assert (stored.channel, stored.source, stored.happiness, stored.service) == (
        Channel.WIDGET,
        site.key,
        9,
        site.service,
    )


def test_widget_answer_from_another_origin_is_refused(site: WidgetSite) -> None:
    client = Client()
    ticket = _ticket(client, site)
    response = client.post(
        reverse("feedback:widget_frame", args=[site.key]),
        {"score": "9", "ticket": ticket},
        HTTP_ORIGIN="https://evil.example",
    )
    assert response.status_code == 403
    assert not Response.objects.exists()


def test_widget_frame_shown_on_another_origin_is_refused(site: WidgetSite) -> None:
    response = Client().get(reverse("feedback:widget_frame", args=[site.key]), HTTP_REFERER="https://evil.example/")
    assert response.status_code == 403


def test_widget_answer_without_the_form_ticket_is_refused(site: WidgetSite) -> None:
    response = Client().post(reverse("feedback:widget_frame", args=[site.key]), {"score": "9"}, HTTP_ORIGIN=HOST)
    assert response.status_code == 403
    assert not Response.objects.exists()


def test_widget_score_out_of_range_is_refused_with_the_message(site: WidgetSite) -> None:
    client = Client()
    ticket = _ticket(client, site)
    response = client.post(
        reverse("feedback:widget_frame", args=[site.key]), {"score": "42", "ticket": ticket}, HTTP_ORIGIN=HOST
    )
    assert response.status_code == 422
    assert "less than or equal to 10" in response.content.decode()
    assert not Response.objects.exists()


def test_csat_widget_stores_satisfaction(service: Any) -> None:
    site = make_widget_site(service, origins=[HOST], question="csat")
    client = Client()
    ticket = _ticket(client, site)
    client.post(reverse("feedback:widget_frame", args=[site.key]), {"score": "4", "ticket": ticket}, HTTP_ORIGIN=HOST)
    assert Response.objects.get().csat == 4
    response = client.post(
        reverse("feedback:widget_frame", args=[site.key]), {"score": "0", "ticket": ticket}, HTTP_ORIGIN=HOST
    )
    assert response.status_code == 422 and "1 to 5" in response.content.decode()


def test_switched_off_widget_is_not_found(service: Any) -> None:
    site = make_widget_site(service, origins=[HOST], is_active=False)
    assert Client().get(reverse("feedback:widget_frame", args=[site.key])).status_code == 404


def test_manager_adds_a_widget_site_and_gets_the_snippet(sam: Any, service: Any) -> None:
    client = Client()
    client.force_login(sam)
    response = client.post(
        reverse("feedback:widget_sites"),
        {
            "name": "Help pages",
            "service": service.public_id,
            "allowed_origins": "https://Help.Acme.example/\nhttp://localhost:8080",
            "question": "happiness",
            "is_active": "on",
        },
        follow=True,
    )
    site = WidgetSite.objects.get()
    assert site.allowed_origins == ["http://localhost:8080", "https://help.acme.example"]
    assert f'data-site="{site.key}"' in response.content.decode().replace("&quot;", '"')


def test_widget_site_origin_with_a_path_is_refused(sam: Any, service: Any) -> None:
    client = Client()
    client.force_login(sam)
    response = client.post(
        reverse("feedback:widget_sites"),
        {
            "name": "Help",
            "service": service.public_id,
            "allowed_origins": "https://acme.example/help",
            "question": "csat",
        },
    )
    assert "has more than an origin" in response.content.decode()
    assert not WidgetSite.objects.exists()


def test_public_page_records_an_answer_from_someone_unknown(service: Any) -> None:
    client = Client()
    url = reverse("feedback:qr_public", args=[service.public_id])
    assert "How was it?" in client.get(url).content.decode()
    response = client.post(url, {"score": "3", "comment": "Long queue at the counter"})
    assert response.status_code == 200
    stored = Response.objects.get()
    assert (stored.channel, stored.happiness, stored.person, stored.organisation) == (Channel.QR, 3, None, None)
    assert stored.sentiment_label is not None


def test_public_page_takes_one_answer_per_browser_per_ten_minutes(service: Any) -> None:
    client = Client()
    url = reverse("feedback:qr_public", args=[service.public_id])
    client.post(url, {"score": "10"})
    again = client.post(url, {"score": "0"})
    assert "already have your answer" in again.content.decode()
    assert Response.objects.count() == 1
    Client().post(url, {"score": "7"})  # another browser
    assert Response.objects.count() == 2


def test_public_offering_page_records_the_offering_on_the_csat_scale(service: Any) -> None:
    offering = make_offering(service, "Counter")
    url = reverse("feedback:qr_public_offering", args=[service.public_id, offering.public_id]) + "?scale=csat"
    Client().post(url, {"score": "5"})
    stored = Response.objects.get()
    assert (stored.offering, stored.csat, stored.happiness) == (offering, 5, None)


def test_public_page_of_an_unknown_service_is_not_found(service: Any) -> None:
    assert Client().get(reverse("feedback:qr_public", args=["nosuchservice"])).status_code == 404


def test_public_page_refuses_a_score_outside_the_scale(service: Any) -> None:
    response = Client().post(reverse("feedback:qr_public", args=[service.public_id]), {"score": "11"})
    assert response.status_code == 422
    assert not Response.objects.exists()


def test_staff_print_the_qr_code_as_svg_pointing_at_the_public_page(alex: Any, service: Any, settings: Any) -> None:
    client = Client()
    client.force_login(alex)
    page = client.get(reverse("feedback:service_qr", args=[service.public_id]))
    body = page.content.decode()
    assert "<svg" in body
    assert f"{settings.SITE_URL}/feedback/q/{service.public_id}/" in body
    download = client.get(reverse("feedback:service_qr", args=[service.public_id]) + "?download=1")
    assert download["Content-Type"] == "image/svg+xml"
    assert download.content.startswith(b"<svg")

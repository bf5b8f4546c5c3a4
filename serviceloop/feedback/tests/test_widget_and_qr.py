"""The embeddable widget's frame and the public "How was it?" page with its printable QR code."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from serviceloop.feedback.models import Channel, QrAnswerMark, Response, WidgetSite
from serviceloop.feedback.tasks import housekeeping
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
        reverse("feedback:widget_frame", args=[site.key]),
        {"score": "0", "ticket": _ticket(client, site)},
        HTTP_ORIGIN=HOST,
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


# ---- integrity: widget tickets bound to their site and used once; QR answers limited on the server ----


def _post(site: WidgetSite, ticket: str, score: str = "9", **headers: str) -> Any:
    headers.setdefault("HTTP_ORIGIN", "http://testserver")
    return Client().post(
        reverse("feedback:widget_frame", args=[site.key]), {"score": score, "ticket": ticket}, **headers
    )


def test_a_replayed_widget_ticket_stores_one_answer(site: WidgetSite) -> None:
    ticket = _ticket(Client(), site)
    answers = [_post(site, ticket) for _ in range(50)]
    assert [a.status_code for a in answers].count(200) == 1
    assert {a.status_code for a in answers[1:]} == {409}
    assert "already sent" in answers[-1].content.decode()
    assert Response.objects.count() == 1


def test_a_refused_score_leaves_the_ticket_usable(site: WidgetSite) -> None:
    ticket = _ticket(Client(), site)
    assert _post(site, ticket, score="42").status_code == 422
    assert _post(site, ticket, score="8").status_code == 200
    assert Response.objects.get().happiness == 8


def test_a_ticket_of_one_site_is_refused_on_another(site: WidgetSite, service: Any) -> None:
    other = make_widget_site(service, origins=[HOST], name="Other pages")
    ticket = _ticket(Client(), site)
    refused = _post(other, ticket)
    assert refused.status_code == 403
    assert "another feedback widget" in refused.content.decode()
    assert not Response.objects.exists()


def test_a_post_from_another_sites_frame_is_refused(site: WidgetSite, service: Any) -> None:
    other = make_widget_site(service, origins=[HOST], name="Other pages")
    ticket = _ticket(Client(), other)
    frame_of_site = "http://testserver" + reverse("feedback:widget_frame", args=[site.key])
    refused = _post(other, ticket, HTTP_REFERER=frame_of_site)
    assert refused.status_code == 403
    assert not Response.objects.exists()


def test_a_ticket_issued_before_the_sites_origins_changed_is_refused(site: WidgetSite) -> None:
    ticket = _ticket(Client(), site)
    site.allowed_origins = ["https://portal.acme.example"]
    site.save()
    refused = _post(site, ticket, HTTP_ORIGIN="https://portal.acme.example")
    assert refused.status_code == 403 and "settings changed" in refused.content.decode()
    assert not Response.objects.exists()


def test_a_tampered_ticket_is_refused(site: WidgetSite) -> None:
    ticket = _ticket(Client(), site)
    refused = _post(site, ticket[:-4] + "AAAA")
    assert refused.status_code == 403 and "not valid" in refused.content.decode()
    assert not Response.objects.exists()


def test_a_ticket_shown_on_one_allowed_page_is_refused_from_another(service: Any) -> None:
    site = make_widget_site(service, origins=[HOST, "https://portal.acme.example"])
    ticket = _ticket(Client(), site)  # framed by HOST
    refused = _post(site, ticket, HTTP_ORIGIN="https://portal.acme.example")
    assert refused.status_code == 403 and "another page" in refused.content.decode()
    assert _post(site, ticket, HTTP_ORIGIN=HOST).status_code == 200


def test_origin_and_referer_naming_different_sites_are_refused(site: WidgetSite) -> None:
    ticket = _ticket(Client(), site)
    refused = _post(site, ticket, HTTP_ORIGIN=HOST, HTTP_REFERER="https://evil.example/page")
    assert refused.status_code == 403
    assert _post(site, ticket, HTTP_ORIGIN="null", HTTP_REFERER=f"{HOST}/help").status_code == 403
    assert not Response.objects.exists()


def test_an_origin_field_in_the_form_is_not_taken_for_the_sender(site: WidgetSite) -> None:
    ticket = _ticket(Client(), site)
    refused = Client().post(
        reverse("feedback:widget_frame", args=[site.key]),
        {"score": "9", "ticket": ticket, "origin": HOST},
        HTTP_ORIGIN="https://evil.example",
    )
    assert refused.status_code == 403
    assert not Response.objects.exists()


def test_each_widget_frame_is_framed_only_by_its_own_sites_origins(service: Any) -> None:
    first = make_widget_site(service, origins=[HOST])
    second = make_widget_site(service, origins=["https://portal.acme.example"], name="Portal")
    csp_first = Client().get(reverse("feedback:widget_frame", args=[first.key]))["Content-Security-Policy"]
    csp_second = Client().get(reverse("feedback:widget_frame", args=[second.key]))["Content-Security-Policy"]
    assert csp_first.endswith(f"frame-ancestors {HOST}")
    assert csp_second.endswith("frame-ancestors https://portal.acme.example")


def _qr_answer(url: str, score: str, **client_defaults: str) -> Any:
    # A fresh client each time, as someone who drops every cookie: it must fetch the page for its CSRF token.
    client = Client(enforce_csrf_checks=True, **client_defaults)
    client.get(url)
    return client.post(url, {"score": score, "csrfmiddlewaretoken": client.cookies["csrftoken"].value})


def test_public_page_takes_one_answer_per_client_even_without_cookies(service: Any, travel: Any) -> None:
    travel.to(timezone.now())
    url = reverse("feedback:qr_public", args=[service.public_id])
    answers = [_qr_answer(url, "0") for _ in range(40)]
    assert answers[0].status_code == 200
    assert {a.status_code for a in answers[1:]} == {409}
    assert "already have your answer" in answers[-1].content.decode()
    assert Response.objects.count() == 1
    travel.by(seconds=599)
    assert _qr_answer(url, "0").status_code == 409
    travel.by(seconds=2)
    assert _qr_answer(url, "7").status_code == 200
    assert sorted(Response.objects.values_list("happiness", flat=True)) == [0, 7]


def test_public_page_limit_is_per_client_and_page_and_stores_no_address(service: Any) -> None:
    url = reverse("feedback:qr_public", args=[service.public_id])
    assert _qr_answer(url, "9", REMOTE_ADDR="198.51.100.7").status_code == 200
    assert _qr_answer(url, "9", REMOTE_ADDR="198.51.100.8").status_code == 200
    assert _qr_answer(url, "9", REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="Other phone").status_code == 200
    # Another scale on the same QR code is the same page.
    assert _qr_answer(url + "?scale=csat", "4", REMOTE_ADDR="198.51.100.7").status_code == 409
    offering = make_offering(service, "Counter")
    other_page = reverse("feedback:qr_public_offering", args=[service.public_id, offering.public_id])
    assert _qr_answer(other_page, "9", REMOTE_ADDR="198.51.100.7").status_code == 200
    assert Response.objects.count() == 4
    marks = list(QrAnswerMark.objects.values_list("client", flat=True))
    assert len(marks) == 4 and all(len(mark) == 64 and "198.51" not in mark for mark in marks)


def test_public_page_setting_changes_the_window(service: Any, travel: Any, settings: Any) -> None:
    settings.SERVICELOOP_QR_REPEAT_SECONDS = 60
    travel.to(timezone.now())
    url = reverse("feedback:qr_public", args=[service.public_id])
    assert _qr_answer(url, "5").status_code == 200
    travel.by(seconds=61)
    assert _qr_answer(url, "6").status_code == 200


def test_housekeeping_forgets_used_tickets_and_marks_past_their_windows(
    site: WidgetSite, service: Any, travel: Any
) -> None:
    travel.to(timezone.now())
    _post(site, _ticket(Client(), site))
    _qr_answer(reverse("feedback:qr_public", args=[service.public_id]), "5")
    assert housekeeping() == {"widget_tickets": 0, "qr_marks": 0, "link_clicks": 0}
    travel.by(hours=26)
    assert housekeeping() == {"widget_tickets": 1, "qr_marks": 1, "link_clicks": 0}


def test_an_origin_that_would_add_to_the_frames_policy_is_refused(sam: Any, service: Any) -> None:
    client = Client()
    client.force_login(sam)
    response = client.post(
        reverse("feedback:widget_sites"),
        {
            "name": "Help",
            "service": service.public_id,
            "allowed_origins": "https://acme.example;script-src",
            "question": "csat",
        },
    )
    assert "not valid" in response.content.decode()
    assert not WidgetSite.objects.exists()


def test_a_stored_origin_that_is_not_well_formed_never_reaches_the_frames_policy(service: Any) -> None:
    site = make_widget_site(service, origins=[HOST, "https://x.example; frame-ancestors *"])
    csp = Client().get(reverse("feedback:widget_frame", args=[site.key]))["Content-Security-Policy"]
    assert csp.endswith(f"frame-ancestors {HOST}")

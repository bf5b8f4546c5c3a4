"""Styled 403/404/500 pages with a way back; the API answers JSON errors, never an HTML page."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


def test_a_missing_page_is_styled_with_a_way_back(client: Client, carol) -> None:
    client.force_login(carol)
    response = client.get("/desk/portal/tickets/no-such-ticket-here/", HTTP_REFERER="http://testserver/desk/portal/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "There is nothing here" in html
    assert 'href="/"' in html and "Go to your start page" in html
    assert 'href="http://testserver/desk/portal/"' in html  # back to where they were, on this site only
    assert 'class="topbar"' in html  # the shared layout, not Django's bare page


def test_the_way_back_never_leads_to_another_site(client: Client, carol) -> None:
    client.force_login(carol)
    response = client.get("/nowhere/", HTTP_REFERER="https://evil.example/phish")
    assert response.status_code == 404
    assert "evil.example" not in response.content.decode()


def test_an_anonymous_visitor_is_offered_the_sign_in(client: Client) -> None:
    response = client.get("/nowhere/")
    assert response.status_code == 404
    assert "Sign in" in response.content.decode()


def test_a_refused_page_says_why(client: Client, carol) -> None:
    client.force_login(carol)
    response = client.get("/core/operations/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "You may not open this page" in html
    assert "Only administrators may do this." in html


def test_an_unknown_api_route_answers_json(client: Client) -> None:
    response = client.get("/api/no-such-route/")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"


@override_settings(ROOT_URLCONF="serviceloop.tests.error_urls", DEBUG=False)
def test_a_defect_shows_the_styled_500_page_and_json_on_the_api() -> None:
    client = Client(raise_request_exception=False)
    page = client.get("/explode/")
    assert page.status_code == 500
    assert "Something went wrong on our side" in page.content.decode()
    assert "a defect" not in page.content.decode()  # nothing of the defect leaks to the visitor
    api = client.get("/api/explode/")
    assert api.status_code == 500
    assert api.json()["code"] == "server_error"


def test_an_expired_form_explains_itself(carol) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(carol)
    response = client.post("/accounts/logout/")
    assert response.status_code == 403
    assert "This form expired" in response.content.decode()


def test_a_host_we_do_not_serve_answers_the_styled_400_not_a_500() -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/accounts/login/", HTTP_HOST="evil.example", HTTP_REFERER="https://evil.example/")
    assert response.status_code == 400
    assert "This request could not be understood" in response.content.decode()
    assert "evil.example" not in response.content.decode()


def test_an_if_match_of_other_digits_is_no_version_not_a_500(sam) -> None:
    from serviceloop.accounts.testing import api_client_for
    from serviceloop.catalogue.tests.factories import make_service

    service = make_service(by=sam)
    response = api_client_for(sam).patch(
        f"/api/catalogue/services/{service.public_id}",
        data={"name": "Renamed"},
        content_type="application/json",
        HTTP_IF_MATCH='"²"',
    )
    assert response.status_code in (400, 412, 428), response.content

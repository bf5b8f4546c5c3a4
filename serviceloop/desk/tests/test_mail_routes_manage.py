"""Staff keep the mail routes: the API, the staff page and the Django admin, with the same rules
(one address per route, stored lower-case, a duplicate refused next to the field)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.testing import api_client_for
from serviceloop.catalogue.models import Service
from serviceloop.core.models import Event
from serviceloop.desk.models import MailRoute
from serviceloop.desk.tests.factories import make_offering, make_service

pytestmark = pytest.mark.django_db
ROUTES = "/api/desk/mail/routes"


@pytest.fixture
def payroll(sam: User) -> Service:
    return make_service("Payroll", manager=sam)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(user: User, body: dict[str, Any]) -> Any:
    return api_client_for(user).post(ROUTES, body, content_type="application/json")


# ---------------------------------------------------------------- the API


def test_a_manager_adds_an_address_route_stored_lower_case(sam: User, payroll: Service) -> None:
    response = post(sam, {"service": payroll.public_id, "address": "  Payroll@Desk.Example "})
    assert response.status_code == 201, response.content
    assert response.json()["address"] == "payroll@desk.example"
    assert MailRoute.objects.get().address == "payroll@desk.example"
    assert Event.objects.filter(name="mail_route.created").count() == 1


def test_a_duplicate_address_is_a_409_naming_the_field_whatever_its_case(sam: User, payroll: Service) -> None:
    post(sam, {"service": payroll.public_id, "address": "payroll@desk.example"})
    response = post(sam, {"service": payroll.public_id, "address": "PAYROLL@desk.example"})
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_address"
    assert response.json()["message"] == "payroll@desk.example already routes to Payroll."
    assert MailRoute.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"address": "not an address"}, "invalid_address"),
        ({"address": "payroll@desk.example", "keywords": ["payslip"]}, "address_or_rule"),
        ({}, "route_matches_nothing"),
        ({"keywords": [" ", ","]}, "route_matches_nothing"),
    ],
)
def test_a_route_that_means_nothing_clear_is_a_422_with_a_message(
    sam: User, payroll: Service, body: dict[str, Any], code: str
) -> None:
    response = post(sam, {"service": payroll.public_id, **body})
    assert response.status_code == 422, response.content
    assert response.json()["code"] == code and response.json()["message"]
    assert not MailRoute.objects.exists()


def test_an_offering_of_another_service_is_refused(sam: User, payroll: Service) -> None:
    other = make_offering(name="Mailbox")
    response = post(sam, {"service": payroll.public_id, "offering": other.public_id, "address": "p@desk.example"})
    assert (response.status_code, response.json()["code"]) == (422, "offering_not_of_service")


def test_an_unknown_service_is_a_404(sam: User) -> None:
    assert post(sam, {"service": "nope", "address": "p@desk.example"}).status_code == 404


def test_a_rule_keeps_its_keywords_and_organisation(sam: User, payroll: Service, org_a: Organisation) -> None:
    response = post(
        sam,
        {
            "service": payroll.public_id,
            "keywords": ["Payslip", "salary", "payslip"],
            "sender_organisation": org_a.public_id,
            "position": 5,
        },
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["keywords"], data["sender_organisation"]["name"], data["position"]) == (
        ["payslip", "salary"],
        "Acme Logistics",
        5,
    )


def test_a_manager_changes_and_deletes_a_route(sam: User, payroll: Service) -> None:
    client = api_client_for(sam)
    created = post(sam, {"service": payroll.public_id, "keywords": ["payslip"]}).json()
    url = f"{ROUTES}/{created['id']}"
    changed = client.patch(url, {"keywords": ["salary"], "is_active": False}, content_type="application/json")
    assert changed.status_code == 200, changed.content
    assert (changed.json()["keywords"], changed.json()["is_active"]) == (["salary"], False)
    # A PATCH that would give the rule an address as well is refused.
    both = client.patch(url, {"address": "p@desk.example"}, content_type="application/json")
    assert (both.status_code, both.json()["code"]) == (422, "address_or_rule")
    assert client.delete(url).status_code == 204
    assert not MailRoute.objects.exists()
    assert client.get(url).status_code == 404


def test_a_patch_cannot_take_another_routes_address(sam: User, payroll: Service) -> None:
    post(sam, {"service": payroll.public_id, "address": "payroll@desk.example"})
    other = post(sam, {"service": payroll.public_id, "address": "salary@desk.example"}).json()
    response = api_client_for(sam).patch(
        f"{ROUTES}/{other['id']}", {"address": "Payroll@desk.example"}, content_type="application/json"
    )
    assert (response.status_code, response.json()["code"]) == (409, "duplicate_address")


def test_agents_read_routes_but_only_managers_change_them(alex: User, sam: User, payroll: Service) -> None:
    created = post(sam, {"service": payroll.public_id, "address": "payroll@desk.example"}).json()
    agent = api_client_for(alex)
    assert agent.get(ROUTES).json()["items"][0]["address"] == "payroll@desk.example"
    assert post(alex, {"service": payroll.public_id, "address": "x@desk.example"}).status_code == 403
    assert agent.delete(f"{ROUTES}/{created['id']}").status_code == 403
    assert MailRoute.objects.count() == 1


def test_customers_see_no_routes(carol: User, sam: User, payroll: Service) -> None:
    created = post(sam, {"service": payroll.public_id, "address": "payroll@desk.example"}).json()
    customer = api_client_for(carol)
    assert customer.get(ROUTES).status_code == 403
    assert customer.get(f"{ROUTES}/{created['id']}").status_code == 403
    assert post(carol, {"service": payroll.public_id, "address": "x@desk.example"}).status_code == 403


# ---------------------------------------------------------------- the staff page


def form(service: Service, **fields: Any) -> dict[str, Any]:
    return {"service": service.pk, "position": 100, "is_active": "on", **fields}


def test_the_page_says_what_happens_without_routes(alex: User) -> None:
    page = client_for(alex).get(reverse("desk:mail_routes")).content.decode()
    assert "No mail routes yet" in page
    assert 'id="new-route"' not in page  # agents read; managers change


def test_a_manager_adds_a_route_on_the_page_and_sees_it_listed(sam: User, payroll: Service) -> None:
    client = client_for(sam)
    response = client.post(reverse("desk:mail_routes"), form(payroll, address="Payroll@Desk.Example"))
    assert response.status_code == 302 and response["Location"] == reverse("desk:mail_routes")
    page = client.get(reverse("desk:mail_routes")).content.decode()
    assert "<code>payroll@desk.example</code>" in page and "Route added" in page


def test_a_duplicate_address_on_the_page_is_shown_next_to_the_field(sam: User, payroll: Service) -> None:
    MailRoute.objects.create(service=payroll, address="payroll@desk.example")
    response = client_for(sam).post(reverse("desk:mail_routes"), form(payroll, address="PAYROLL@desk.example"))
    assert response.status_code == 422
    assert "payroll@desk.example already routes to Payroll." in response.content.decode()
    assert MailRoute.objects.count() == 1


def test_a_manager_edits_and_deletes_a_route_on_the_page(sam: User, payroll: Service) -> None:
    route = MailRoute.objects.create(service=payroll, keywords="payslip")
    client = client_for(sam)
    edit = reverse("desk:mail_route_edit", args=[route.public_id])
    assert "payslip" in client.get(edit).content.decode()
    response = client.post(edit, form(payroll, keywords="Salary, payslip", position=7))
    assert response.status_code == 302
    route.refresh_from_db()
    assert (route.keywords, route.position) == ("salary, payslip", 7)
    assert client.post(reverse("desk:mail_route_delete", args=[route.public_id])).status_code == 302
    assert not MailRoute.objects.exists()


def test_an_agent_cannot_change_routes_on_the_page(alex: User, payroll: Service) -> None:
    route = MailRoute.objects.create(service=payroll, keywords="payslip")
    client = client_for(alex)
    assert client.post(reverse("desk:mail_routes"), form(payroll, address="x@desk.example")).status_code == 403
    assert client.get(reverse("desk:mail_route_edit", args=[route.public_id])).status_code == 403
    assert client.post(reverse("desk:mail_route_delete", args=[route.public_id])).status_code == 403
    assert MailRoute.objects.count() == 1


def test_customers_cannot_open_the_routes_page(carol: User) -> None:
    assert client_for(carol).get(reverse("desk:mail_routes")).status_code == 403


# ---------------------------------------------------------------- the Django admin


def test_the_admin_stores_the_address_lower_case(ada: User, payroll: Service) -> None:
    response = client_for(ada).post(
        reverse("admin:desk_mailroute_add"),
        {"service": payroll.pk, "address": "IT@Desk.Example", "position": 100, "is_active": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert MailRoute.objects.get().address == "it@desk.example"


def test_the_admin_refuses_a_duplicate_address_next_to_the_field(ada: User, payroll: Service) -> None:
    MailRoute.objects.create(service=payroll, address="it@desk.example")
    response = client_for(ada).post(
        reverse("admin:desk_mailroute_add"),
        {"service": payroll.pk, "address": "IT@desk.example", "position": 100, "is_active": "on"},
    )
    assert response.status_code == 200
    assert "Another route already has this address." in response.content.decode()
    assert MailRoute.objects.count() == 1


def test_the_admin_refuses_a_route_with_an_address_and_keywords(ada: User, payroll: Service) -> None:
    response = client_for(ada).post(
        reverse("admin:desk_mailroute_add"),
        {"service": payroll.pk, "address": "it@desk.example", "keywords": "payslip", "position": 100},
    )
    assert response.status_code == 200
    assert "A route matches an address or a rule" in response.content.decode()
    assert not MailRoute.objects.exists()

"""Catalogue pages as staff use them: forms, errors next to fields, the customer-facing preview."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from serviceloop.accounts.models import User
from serviceloop.catalogue.models import CatalogueChange, Service
from serviceloop.catalogue.tests.factories import make_offering, make_service, make_value_item


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_creating_a_service_with_an_agent_as_manager_shows_the_error_next_to_the_field(sam: User, alex: User) -> None:
    response = _client(sam).post(
        reverse("catalogue:service_create"),
        {"name": "VPN", "lifecycle": "live", "criticality": "high", "service_manager": alex.pk},
    )
    assert response.status_code == 422
    assert "service manager or administrator" in str(response.context["form"].errors["service_manager"])
    assert not Service.objects.exists()


def test_the_service_manager_list_offers_only_those_who_may_be_accountable(sam: User, alex: User, ada: User) -> None:
    form = _client(sam).get(reverse("catalogue:service_create")).context["form"]
    offered = list(form.fields["service_manager"].queryset)
    assert sam in offered and ada in offered
    assert alex not in offered  # an agent is not offered, then refused
    html = _client(sam).get(reverse("catalogue:service_create")).content.decode()
    assert f"{sam.display_name} (service manager)" in html


def test_duplicate_name_on_the_page_is_shown_on_the_name_field(sam: User) -> None:
    make_service(sam, name="VPN")
    response = _client(sam).post(
        reverse("catalogue:service_create"),
        {"name": "VPN", "lifecycle": "live", "criticality": "high", "service_manager": sam.pk},
    )
    assert response.status_code == 422
    assert "already exists" in str(response.context["form"].errors["name"])


def test_editing_a_service_shows_the_change_in_the_history_panel(sam: User) -> None:
    service = make_service(sam, name="VPN", criticality="medium")
    client = _client(sam)
    client.post(
        reverse("catalogue:service_edit", args=[service.public_id]),
        {
            "name": "VPN remote access",
            "slug": "vpn",
            "lifecycle": "live",
            "criticality": "high",
            "service_manager": sam.pk,
        },
    )
    page = client.get(reverse("catalogue:service_detail", args=[service.public_id])).content.decode()
    assert "criticality: medium → high" in page
    assert "name: VPN → VPN remote access" in page
    assert CatalogueChange.objects.filter(action="updated").count() == 1


def test_customer_page_shows_gives_and_asks_side_by_side_for_staff_preview(sam: User, alex: User) -> None:
    offering = make_offering(sam)
    make_value_item(sam, offering, kind="risk_removed", description="No lost mail")
    make_value_item(sam, offering, kind="risk_imposed", description="Depends on our network")
    make_value_item(
        sam, offering, kind="cost_imposed", description="Fee", financial=True, estimate="1800", unit="EUR per year"
    )
    html = _client(alex).get(reverse("catalogue:offering_public", args=[offering.public_id])).content.decode()
    gives, asks = html.split('class="panel asks"')
    assert "No lost mail" in gives and "Depends on our network" not in gives
    assert "Depends on our network" in asks and "1,800" in asks and "EUR per year" in asks
    assert "Preview" in html


def test_service_list_page_does_not_grow_queries_with_rows(sam: User, django_assert_max_num_queries: Any) -> None:
    for index in range(10):
        make_offering(sam, make_service(sam, name=f"Service {index}"))
    client = _client(sam)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("catalogue:service_list"))
    assert response.content.decode().count("/catalogue/services/") >= 10


def test_our_services_for_a_customer_without_relationships_is_empty(carol: User, sam: User) -> None:
    make_offering(sam)
    response = _client(carol).get(reverse("catalogue:our_services"))
    assert "does not use any of our services yet" in response.content.decode()


def test_history_names_rows_as_a_service_manager_would(sam: User) -> None:
    from serviceloop.catalogue.tests.factories import make_offering

    offering = make_offering(sam, name="Mailbox")
    html = _client(sam).get(reverse("catalogue:service_detail", args=[offering.service.public_id])).content.decode()
    assert "created offering" in html
    assert "offeringcomponent" not in html and "valueitem" not in html

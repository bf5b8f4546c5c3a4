"""An organisation's hourly cost (lost time in money): set and cleared on the form and the API, validated,
the provider default when empty, recorded in the audit trail."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from serviceloop.accounts.models import Organisation, User, provider_hourly_cost
from serviceloop.accounts.services import validate_hourly_cost
from serviceloop.accounts.testing import api_client_for
from serviceloop.core.errors import InvalidInput
from serviceloop.core.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def default_cost(settings: Any) -> None:
    settings.SERVICELOOP_HOURLY_COST = Decimal("60")
    settings.SERVICELOOP_CURRENCY = "EUR"


def _page(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _patch(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.patch(url, data=json.dumps(body), content_type="application/json")


def test_an_organisation_without_its_own_cost_costs_the_provider_default(settings: Any, org_a: Organisation) -> None:
    assert org_a.hourly_cost is None and org_a.cost_per_hour == Decimal("60")
    settings.SERVICELOOP_HOURLY_COST = Decimal("72.50")
    assert provider_hourly_cost() == Decimal("72.50") and org_a.cost_per_hour == Decimal("72.50")


def test_the_edit_form_sets_and_clears_the_hourly_cost(sam: User, org_a: Organisation) -> None:
    page = _page(sam)
    url = reverse("relationships:organisation_edit", args=[org_a.public_id])
    form = page.get(url)
    assert "Empty: the default, 60 EUR." in form.content.decode()
    initial = {k: v for k, v in form.context["form"].initial.items() if v is not None}
    assert page.post(url, {**initial, "hourly_cost": "85.50"}).status_code == 302
    org_a.refresh_from_db()
    assert org_a.hourly_cost == Decimal("85.50")
    event = Event.objects.filter(name="organisation.updated").latest("pk")
    assert event.data["changed"] == ["hourly_cost"]
    detail = page.get(reverse("relationships:organisation_detail", args=[org_a.public_id])).content.decode()
    assert "lost time costed at 85.50 EUR an hour" in detail

    initial = {k: v for k, v in page.get(url).context["form"].initial.items() if v is not None}
    assert page.post(url, {**initial, "hourly_cost": ""}).status_code == 302
    org_a.refresh_from_db()
    assert org_a.hourly_cost is None
    detail = page.get(reverse("relationships:organisation_detail", args=[org_a.public_id])).content.decode()
    assert "lost time costed at 60 EUR an hour (the default)" in detail


def test_the_form_refuses_a_negative_cost_next_to_the_field(sam: User, org_a: Organisation) -> None:
    page = _page(sam)
    url = reverse("relationships:organisation_edit", args=[org_a.public_id])
    initial = {k: v for k, v in page.get(url).context["form"].initial.items() if v is not None}
    answer = page.post(url, {**initial, "hourly_cost": "-5"})
    assert answer.status_code in (200, 422)
    assert answer.context["form"].errors["hourly_cost"]
    org_a.refresh_from_db()
    assert org_a.hourly_cost is None


def test_the_api_creates_changes_and_clears_the_hourly_cost(sam: User) -> None:
    client = api_client_for(sam)
    created = client.post(
        "/api/relationships/organisations",
        data=json.dumps({"name": "Cobalt Mining", "hourly_cost": "95.25"}),
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert Decimal(str(body["hourly_cost"])) == Decimal("95.25")
    assert Decimal(str(body["cost_per_hour"])) == Decimal("95.25") and body["currency"] == "EUR"
    url = f"/api/relationships/organisations/{body['public_id']}"
    assert Decimal(str(_patch(client, url, {"hourly_cost": 40}).json()["hourly_cost"])) == Decimal("40")
    kept = _patch(client, url, {"notes": "Renewal in March"}).json()  # left out: kept
    assert Decimal(str(kept["hourly_cost"])) == Decimal("40")
    cleared = _patch(client, url, {"hourly_cost": None}).json()  # null: back to the default
    assert cleared["hourly_cost"] is None and Decimal(str(cleared["cost_per_hour"])) == Decimal("60")
    assert Organisation.objects.get(public_id=body["public_id"]).hourly_cost is None


@pytest.mark.parametrize("value", [-1, "12.345", "abc", 1e12])
def test_the_api_refuses_a_cost_that_is_no_amount_with_422(sam: User, org_a: Organisation, value: Any) -> None:
    answer = _patch(api_client_for(sam), f"/api/relationships/organisations/{org_a.public_id}", {"hourly_cost": value})
    assert answer.status_code == 422, answer.content
    assert "hourly_cost" in answer.content.decode()
    org_a.refresh_from_db()
    assert org_a.hourly_cost is None


def test_a_customer_may_not_change_the_hourly_cost(carol: User, org_a: Organisation) -> None:
    answer = _patch(api_client_for(carol), f"/api/relationships/organisations/{org_a.public_id}", {"hourly_cost": 1})
    assert answer.status_code == 403
    org_a.refresh_from_db()
    assert org_a.hourly_cost is None


@pytest.mark.parametrize(
    ("value", "message"),
    [("-0.01", "zero or more"), ("1.005", "two decimals"), ("100000000", "at most"), ("NaN", "zero or more")],
)
def test_the_service_validates_the_hourly_cost(value: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as error:
        validate_hourly_cost(value)
    assert error.value.field == "hourly_cost"
    assert validate_hourly_cost("72.5") == Decimal("72.50") and validate_hourly_cost(None) is None

"""Creating and changing services, offerings, components and value items through the API."""

from __future__ import annotations

from typing import Any

from serviceloop.accounts.models import User
from serviceloop.accounts.testing import api_client_for, make_user
from serviceloop.catalogue.models import CatalogueChange, Service, ValueItem
from serviceloop.catalogue.tests.factories import make_offering, make_service, make_value_item


def _post(client: Any, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, body, content_type="application/json")


def _patch(client: Any, path: str, body: dict[str, Any]) -> Any:
    return client.patch(path, body, content_type="application/json")


def test_service_manager_creates_a_service_and_the_history_records_it(sam: User) -> None:
    response = _post(
        api_client_for(sam),
        "/api/catalogue/services",
        {"name": "Payroll", "lifecycle": "live", "criticality": "critical", "service_manager": sam.public_id},
    )
    assert response.status_code == 201, response.content
    service = Service.objects.get(public_id=response.json()["public_id"])
    assert (service.slug, service.service_manager) == ("payroll", sam)
    change = CatalogueChange.objects.get(service=service)
    assert (change.action, change.by, change.changes["name"]) == ("created", sam, [None, "Payroll"])


def test_service_manager_must_be_a_service_manager_or_administrator(sam: User, alex: User) -> None:
    response = _post(api_client_for(sam), "/api/catalogue/services", {"name": "VPN", "service_manager": alex.public_id})
    assert response.status_code == 422
    assert response.json()["field"] == "service_manager"
    assert not Service.objects.exists()


def test_customer_cannot_be_service_manager(sam: User, carol: User) -> None:
    response = _post(
        api_client_for(sam), "/api/catalogue/services", {"name": "VPN", "service_manager": carol.public_id}
    )
    assert (response.status_code, response.json()["field"]) == (422, "service_manager")


def test_duplicate_service_name_is_a_conflict_on_the_name(sam: User) -> None:
    make_service(sam, name="Payroll")
    response = _post(
        api_client_for(sam), "/api/catalogue/services", {"name": "Payroll", "service_manager": sam.public_id}
    )
    assert (response.status_code, response.json()["code"], response.json()["field"]) == (409, "name_taken", "name")


def test_duplicate_given_slug_is_a_conflict_on_the_slug(sam: User) -> None:
    make_service(sam, name="Payroll")
    response = _post(
        api_client_for(sam),
        "/api/catalogue/services",
        {"name": "Payroll two", "slug": "payroll", "service_manager": sam.public_id},
    )
    assert (response.status_code, response.json()["code"], response.json()["field"]) == (409, "slug_taken", "slug")


def test_duplicate_offering_slug_within_a_service_is_a_conflict(sam: User) -> None:
    offering = make_offering(sam, name="Mailbox")
    response = _post(
        api_client_for(sam), f"/api/catalogue/services/{offering.service.public_id}/offerings", {"name": "Mailbox"}
    )
    assert response.status_code == 409


def test_update_records_each_changed_field_old_and_new(sam: User, ada: User) -> None:
    service = make_service(sam, name="VPN", criticality="medium")
    response = _patch(
        api_client_for(ada), f"/api/catalogue/services/{service.public_id}", {"criticality": "high", "name": "VPN"}
    )
    assert response.status_code == 200
    change = CatalogueChange.objects.filter(action="updated").get()
    assert change.changes == {"criticality": ["medium", "high"]}
    assert change.by == ada


def test_value_item_estimate_cannot_be_negative(sam: User) -> None:
    offering = make_offering(sam)
    response = _post(
        api_client_for(sam),
        f"/api/catalogue/offerings/{offering.public_id}/value-items",
        {"kind": "cost_imposed", "description": "Fee", "estimate": "-5"},
    )
    assert response.status_code == 422
    assert "estimate" in response.json()["message"]
    assert not ValueItem.objects.exists()


def test_value_item_with_unknown_kind_is_refused(sam: User) -> None:
    offering = make_offering(sam)
    response = _post(
        api_client_for(sam),
        f"/api/catalogue/offerings/{offering.public_id}/value-items",
        {"kind": "benefit", "description": "Fee"},
    )
    assert response.status_code == 422


def test_offering_lists_its_value_model_with_sides(sam: User) -> None:
    offering = make_offering(sam)
    make_value_item(sam, offering, kind="outcome", description="Mail from anywhere")
    make_value_item(sam, offering, kind="cost_imposed", description="Fee", financial=True, estimate="6.50", unit="EUR")
    body = api_client_for(sam).get(f"/api/catalogue/offerings/{offering.public_id}").json()
    sides = {item["description"]: (item["side"], item["financial"], item["estimate"]) for item in body["value_items"]}
    assert sides == {"Mail from anywhere": ("gives", False, None), "Fee": ("asks", True, "6.50")}


def test_clearing_an_estimate_with_null(sam: User) -> None:
    item = make_value_item(sam, make_offering(sam), estimate="3", unit="hours")
    response = _patch(api_client_for(sam), f"/api/catalogue/value-items/{item.public_id}", {"estimate": None})
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.estimate is None


def test_deleting_a_component_is_recorded_with_its_old_values(sam: User) -> None:
    offering = make_offering(sam)
    response = _post(
        api_client_for(sam),
        f"/api/catalogue/offerings/{offering.public_id}/components",
        {"kind": "goods", "name": "Headset"},
    )
    public_id = response.json()["public_id"]
    assert api_client_for(sam).delete(f"/api/catalogue/components/{public_id}").status_code == 204
    change = CatalogueChange.objects.get(action="deleted")
    assert change.changes["name"] == ["Headset", None]
    assert change.service == offering.service


def test_service_history_is_available_by_api(sam: User, alex: User) -> None:
    offering = make_offering(sam)
    make_value_item(sam, offering)
    body = api_client_for(alex).get(f"/api/catalogue/services/{offering.service.public_id}/changes").json()
    assert [(c["object_type"], c["action"]) for c in body["items"]] == [
        ("ValueItem", "created"),
        ("Offering", "created"),
        ("Service", "created"),
    ]


def test_agent_cannot_change_the_catalogue(sam: User, alex: User) -> None:
    service = make_service(sam)
    response = _patch(api_client_for(alex), f"/api/catalogue/services/{service.public_id}", {"name": "Mine"})
    assert response.status_code == 403


def test_service_list_filters_by_lifecycle_and_search(sam: User) -> None:
    make_service(sam, name="Payroll", lifecycle="live")
    make_service(sam, name="Video rooms", lifecycle="pipeline")
    client = api_client_for(sam)
    assert [s["name"] for s in client.get("/api/catalogue/services?lifecycle=pipeline").json()["items"]] == [
        "Video rooms"
    ]
    assert [s["name"] for s in client.get("/api/catalogue/services?q=pay").json()["items"]] == ["Payroll"]


def test_offering_list_does_not_grow_queries_with_rows(sam: User, django_assert_max_num_queries: Any) -> None:
    for index in range(8):
        offering = make_offering(sam, make_service(sam, name=f"Service {index}"))
        make_value_item(sam, offering)
    client = api_client_for(make_user("lee@provider.example", User.Role.AGENT))
    with django_assert_max_num_queries(10):
        response = client.get("/api/catalogue/offerings")
    assert response.json()["count"] == 8


def test_an_empty_service_manager_in_a_patch_is_refused_naming_the_field(sam: User) -> None:
    # Found by the API fuzz (issue 10): an empty string reached the service as a user and answered 500.
    service = make_service(sam, name="Payroll")
    response = _patch(
        api_client_for(sam),
        f"/api/catalogue/services/{service.public_id}",
        {"lifecycle": None, "service_manager": ""},
    )
    assert response.status_code == 422, response.content
    assert "service_manager" in [error["field"] for error in response.json()["errors"]]
    service.refresh_from_db()
    assert (service.service_manager, service.version) == (sam, 1)

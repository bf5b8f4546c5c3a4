"""Relationships (organisation × offering), their status and roles, and the service history they write."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.testing import api_client_for
from serviceloop.catalogue.queries import RELATIONSHIP_OPEN
from serviceloop.catalogue.tests.factories import make_offering
from serviceloop.relationships.models import Relationship, RelationshipEvent, RelationshipRole
from serviceloop.relationships.services import person_create, relationship_create, relationship_set_status


def _post(client: Any, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, body, content_type="application/json")


@pytest.fixture
def offering(sam: User) -> Any:
    return make_offering(sam)


@pytest.fixture
def relationship(sam: User, org_a: Organisation, offering: Any) -> Relationship:
    return relationship_create(by=sam, organisation=org_a, offering=offering, started_on=date(2025, 2, 1))


def test_catalogue_knows_which_relationship_statuses_are_open() -> None:
    assert set(RELATIONSHIP_OPEN) == set(Relationship.Status.values) - {Relationship.Status.ENDED}


def test_starting_a_relationship_writes_the_first_event(sam: User, org_a: Organisation, offering: Any) -> None:
    response = _post(
        api_client_for(sam),
        "/api/relationships/relationships",
        {"organisation": org_a.public_id, "offering": offering.public_id, "started_on": "2025-02-01"},
    )
    assert response.status_code == 201
    event = RelationshipEvent.objects.get()
    assert (event.kind, event.by) == ("started", sam)
    assert "01 Feb 2025" in event.description


def test_a_second_open_relationship_for_the_same_offering_is_a_conflict(
    sam: User, org_a: Organisation, offering: Any, relationship: Relationship
) -> None:
    response = _post(
        api_client_for(sam),
        "/api/relationships/relationships",
        {"organisation": org_a.public_id, "offering": offering.public_id, "started_on": "2025-03-01"},
    )
    assert response.status_code == 409


def test_ending_sets_the_end_date_and_is_final(sam: User, relationship: Relationship) -> None:
    client = api_client_for(sam)
    path = f"/api/relationships/relationships/{relationship.public_id}/status"
    body = _post(client, path, {"status": "ended", "on": "2025-06-30"}).json()
    assert (body["status"], body["ended_on"]) == ("ended", "2025-06-30")
    again = _post(client, path, {"status": "active"})
    assert (again.status_code, again.json()["code"]) == (409, "relationship_ended")


def test_ending_before_the_start_is_refused(sam: User, relationship: Relationship) -> None:
    response = _post(
        api_client_for(sam),
        f"/api/relationships/relationships/{relationship.public_id}/status",
        {"status": "ended", "on": "2024-12-31"},
    )
    assert response.status_code == 422
    relationship.refresh_from_db()
    assert relationship.status == Relationship.Status.ACTIVE


def test_after_ending_a_new_relationship_may_start(
    sam: User, org_a: Organisation, offering: Any, relationship: Relationship
) -> None:
    relationship_set_status(relationship=relationship, by=sam, status="ended", on=date(2025, 5, 1))
    again = relationship_create(by=sam, organisation=org_a, offering=offering, started_on=date(2025, 9, 1))
    assert Relationship.objects.filter(organisation=org_a, offering=offering).count() == 2
    assert again.status == Relationship.Status.ACTIVE


def test_pause_and_resume_are_in_the_history(sam: User, relationship: Relationship) -> None:
    relationship_set_status(relationship=relationship, by=sam, status="paused", note="Budget review")
    relationship_set_status(relationship=relationship, by=sam, status="active")
    kinds = list(
        RelationshipEvent.objects.filter(relationship=relationship).order_by("pk").values_list("kind", flat=True)
    )
    assert kinds == ["started", "paused", "resumed"]


def test_one_person_may_hold_several_roles(sam: User, org_a: Organisation, relationship: Relationship) -> None:
    petra = person_create(by=sam, organisation=org_a, email="petra@acme.example", name="Petra")
    client = api_client_for(sam)
    path = f"/api/relationships/relationships/{relationship.public_id}/roles"
    for role in ("customer", "user", "sponsor"):
        assert _post(client, path, {"person": petra.public_id, "role": role}).status_code == 201
    assert sorted(RelationshipRole.objects.filter(person=petra).values_list("role", flat=True)) == [
        "customer",
        "sponsor",
        "user",
    ]
    duplicate = _post(client, path, {"person": petra.public_id, "role": "user"})
    assert duplicate.status_code == 409


def test_a_person_of_another_organisation_cannot_hold_a_role(
    sam: User, org_b: Organisation, relationship: Relationship
) -> None:
    bea = person_create(by=sam, organisation=org_b, email="bea@borealis.example")
    response = _post(
        api_client_for(sam),
        f"/api/relationships/relationships/{relationship.public_id}/roles",
        {"person": bea.public_id, "role": "user"},
    )
    assert (response.status_code, response.json()["field"]) == (422, "person")
    assert not RelationshipRole.objects.exists()


def test_revoking_a_role_is_recorded(sam: User, org_a: Organisation, relationship: Relationship) -> None:
    petra = person_create(by=sam, organisation=org_a, email="petra@acme.example", name="Petra")
    client = api_client_for(sam)
    base = f"/api/relationships/relationships/{relationship.public_id}/roles"
    _post(client, base, {"person": petra.public_id, "role": "user"})
    assert _post(client, f"{base}/revoke", {"person": petra.public_id, "role": "user"}).json()["roles"] == []
    missing = _post(client, f"{base}/revoke", {"person": petra.public_id, "role": "user"})
    assert missing.status_code == 422
    events = client.get(f"/api/relationships/relationships/{relationship.public_id}/events").json()["items"]
    assert [e["kind"] for e in events] == ["role_revoked", "role_granted", "started"]


def test_relationship_filters(
    sam: User, org_a: Organisation, org_b: Organisation, offering: Any, relationship: Relationship
) -> None:
    other = relationship_create(by=sam, organisation=org_b, offering=offering, started_on=date(2025, 1, 1))
    relationship_set_status(relationship=other, by=sam, status="paused")
    client = api_client_for(sam)
    by_org = client.get(f"/api/relationships/relationships?organisation={org_b.public_id}").json()["items"]
    assert [r["public_id"] for r in by_org] == [other.public_id]
    by_status = client.get("/api/relationships/relationships?status=active").json()["items"]
    assert [r["public_id"] for r in by_status] == [relationship.public_id]
    assert client.get(f"/api/relationships/relationships?offering={offering.public_id}").json()["count"] == 2


def test_customer_sees_only_own_relationships_and_offerings(
    sam: User, carol: User, org_b: Organisation, relationship: Relationship
) -> None:
    theirs = relationship_create(
        by=sam,
        organisation=org_b,
        offering=make_offering(sam, relationship.offering.service, name="Other"),
        started_on=date(2025, 1, 1),
    )
    client = api_client_for(carol)
    assert [r["public_id"] for r in client.get("/api/relationships/relationships").json()["items"]] == [
        relationship.public_id
    ]
    assert client.get(f"/api/relationships/relationships/{theirs.public_id}").status_code == 404
    assert client.get(f"/api/relationships/relationships/{theirs.public_id}/events").status_code == 404


def test_ended_relationship_hides_the_offering_from_the_customer(
    sam: User, carol: User, relationship: Relationship
) -> None:
    client = api_client_for(carol)
    assert client.get(f"/api/catalogue/offerings/{relationship.offering.public_id}").status_code == 200
    relationship_set_status(relationship=relationship, by=sam, status="ended", on=date(2025, 3, 1))
    assert client.get(f"/api/catalogue/offerings/{relationship.offering.public_id}").status_code == 404
    assert client.get("/api/catalogue/offerings").json()["count"] == 0


def test_organisation_list_counts_without_growing_queries(
    sam: User, org_a: Organisation, offering: Any, django_assert_max_num_queries: Any
) -> None:
    for index in range(12):
        person_create(by=sam, organisation=org_a, email=f"p{index}@acme.example")
    client = Client()
    client.force_login(sam)
    with django_assert_max_num_queries(8):
        html = client.get(reverse("relationships:organisation_list")).content.decode()
    assert ">12</td>" in html
    api = api_client_for(sam)
    with django_assert_max_num_queries(8):
        items = api.get("/api/relationships/organisations").json()["items"]
    assert items[0]["people_count"] == 12


def test_status_page_form_refuses_ending_before_start_with_a_message(sam: User, relationship: Relationship) -> None:
    client = Client()
    client.force_login(sam)
    response = client.post(
        reverse("relationships:relationship_status", args=[relationship.public_id]),
        {"status": "ended", "on": "2020-01-01"},
        follow=True,
    )
    assert "cannot end before it started" in response.content.decode()
    relationship.refresh_from_db()
    assert relationship.status == Relationship.Status.ACTIVE


def test_role_grant_page_refuses_a_person_of_another_organisation(
    sam: User, org_b: Organisation, relationship: Relationship
) -> None:
    bea = person_create(by=sam, organisation=org_b, email="bea@borealis.example", name="Bea")
    client = Client()
    client.force_login(sam)
    response = client.post(
        reverse("relationships:role_grant", args=[relationship.public_id]),
        {"person": bea.pk, "role": "user"},
        follow=True,
    )
    assert "does not belong to" in response.content.decode()


def test_a_relationship_cannot_start_in_year_one(sam, org_a) -> None:
    from datetime import date

    import pytest

    from serviceloop.catalogue.tests.factories import make_offering
    from serviceloop.core.errors import InvalidInput
    from serviceloop.relationships.services import relationship_create

    offering = make_offering(sam, name="Mailbox")
    with pytest.raises(InvalidInput) as caught:
        relationship_create(by=sam, organisation=org_a, offering=offering, started_on=date(1, 1, 1))
    assert caught.value.field == "started_on"


def test_staff_list_every_relationship_by_state_and_name(
    alex: Any, sam: User, org_a: Any, org_b: Any, offering: Any, django_assert_max_num_queries: Any
) -> None:
    from django.test import Client
    from django.urls import reverse

    relationship_create(by=sam, organisation=org_a, offering=offering, started_on=date(2025, 2, 1))
    ended = relationship_create(by=sam, organisation=org_b, offering=offering, started_on=date(2025, 2, 1))
    Relationship.objects.filter(pk=ended.pk).update(status="ended")
    client = Client()
    client.force_login(alex)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("relationships:relationship_list")).content.decode()
    assert org_a.name in page and org_b.name in page
    active = client.get(reverse("relationships:relationship_list"), {"status": "active"}).content.decode()
    assert org_a.name in active and org_b.name not in active
    by_name = client.get(reverse("relationships:relationship_list"), {"q": org_b.name[:5]}).content.decode()
    assert org_b.name in by_name and org_a.name not in by_name

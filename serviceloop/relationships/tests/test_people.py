"""People of organisations: unique email per organisation, time zones, survey opt-out, linked login."""

from __future__ import annotations

from typing import Any

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.testing import api_client_for
from serviceloop.relationships.models import Person
from serviceloop.relationships.services import person_create


def _post(client: Any, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, body, content_type="application/json")


def test_email_is_unique_per_organisation_whatever_its_case(sam: User, org_a: Organisation) -> None:
    person_create(by=sam, organisation=org_a, email="petra@acme.example")
    response = _post(
        api_client_for(sam),
        "/api/relationships/people",
        {"organisation": org_a.public_id, "email": "Petra@ACME.example"},
    )
    assert (response.status_code, response.json()["field"]) == (409, "email")


def test_same_email_may_exist_in_another_organisation(sam: User, org_a: Organisation, org_b: Organisation) -> None:
    person_create(by=sam, organisation=org_a, email="shared@example.com")
    response = _post(
        api_client_for(sam),
        "/api/relationships/people",
        {"organisation": org_b.public_id, "email": "shared@example.com"},
    )
    assert response.status_code == 201


def test_unknown_time_zone_is_refused(sam: User, org_a: Organisation) -> None:
    response = _post(
        api_client_for(sam),
        "/api/relationships/people",
        {"organisation": org_a.public_id, "email": "x@acme.example", "time_zone": "Mars/Olympus"},
    )
    assert (response.status_code, response.json()["field"]) == (422, "time_zone")
    assert "Mars/Olympus" in response.json()["message"]


def test_invalid_email_is_refused(sam: User, org_a: Organisation) -> None:
    response = _post(
        api_client_for(sam), "/api/relationships/people", {"organisation": org_a.public_id, "email": "not-an-email"}
    )
    assert response.status_code == 422


def test_opting_out_records_when_and_opting_in_clears_it(sam: User, org_a: Organisation) -> None:
    person = person_create(by=sam, organisation=org_a, email="petra@acme.example")
    client = api_client_for(sam)
    body = client.patch(
        f"/api/relationships/people/{person.public_id}", {"survey_opt_out": True}, content_type="application/json"
    ).json()
    assert body["survey_opt_out"] is True and body["survey_opted_out_at"]
    client.patch(
        f"/api/relationships/people/{person.public_id}", {"survey_opt_out": False}, content_type="application/json"
    )
    person.refresh_from_db()
    assert (person.survey_opt_out, person.survey_opted_out_at) == (False, None)


def test_person_can_be_linked_only_to_a_login_of_their_own_organisation(
    sam: User, org_a: Organisation, carol: User, bob: User
) -> None:
    client = api_client_for(sam)
    wrong = _post(
        client,
        "/api/relationships/people",
        {"organisation": org_a.public_id, "email": "b@acme.example", "user": bob.public_id},
    )
    assert (wrong.status_code, wrong.json()["field"]) == (422, "user")
    right = _post(
        client,
        "/api/relationships/people",
        {"organisation": org_a.public_id, "email": "c@acme.example", "user": carol.public_id},
    )
    assert right.status_code == 201
    assert Person.objects.get(user=carol).email == "c@acme.example"


def test_people_search_by_name_or_email(sam: User, org_a: Organisation) -> None:
    person_create(by=sam, organisation=org_a, email="petra@acme.example", name="Petra Novak")
    person_create(by=sam, organisation=org_a, email="otto@acme.example", name="Otto Varga")
    client = api_client_for(sam)
    assert [p["email"] for p in client.get("/api/relationships/people?q=novak").json()["items"]] == [
        "petra@acme.example"
    ]
    assert [p["name"] for p in client.get("/api/relationships/people?q=otto@").json()["items"]] == ["Otto Varga"]


def test_customer_sees_only_own_organisations_people(
    sam: User, carol: User, org_a: Organisation, org_b: Organisation
) -> None:
    person_create(by=sam, organisation=org_a, email="petra@acme.example")
    other = person_create(by=sam, organisation=org_b, email="bea@borealis.example")
    client = api_client_for(carol)
    assert [p["email"] for p in client.get("/api/relationships/people").json()["items"]] == ["petra@acme.example"]
    assert client.get(f"/api/relationships/people/{other.public_id}").status_code == 404


def test_staff_find_people_of_every_organisation_on_one_page(
    alex: User, sam: User, org_a: Organisation, org_b: Organisation, django_assert_max_num_queries: Any
) -> None:
    from django.test import Client
    from django.urls import reverse

    person_create(by=sam, organisation=org_a, email="kim@acme.example", name="Kim Acme")
    person_create(by=sam, organisation=org_b, email="lee@borealis.example", name="Lee Borealis")
    for n in range(20):
        person_create(by=sam, organisation=org_b, email=f"p{n}@borealis.example", name=f"Person {n}")
    client = Client()
    client.force_login(alex)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("relationships:person_list")).content.decode()
    assert "Kim Acme" in page and org_a.name in page
    found = client.get(reverse("relationships:person_list"), {"q": "borealis.example"}).content.decode()
    assert "Lee Borealis" in found and "Kim Acme" not in found
    nobody = client.get(reverse("relationships:person_list"), {"q": "zed"}).content.decode()
    assert "Nobody matches" in nobody
    home = client.get("/").content.decode()
    assert 'href="/relationships/people/"' in home.split('class="mainnav"')[1].split("</nav>")[0]

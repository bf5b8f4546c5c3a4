"""Authorisation rows for relationships pages and API (see serviceloop/core/authz_matrix.py).

`build(world)` runs after catalogue's (it uses `world.offering` and `world.offering_b_only`) and adds:

- `world.person_a`: Petra Acme <petra@acme.example>, a person of organisation A, linked to the
  customer login `world.users["customer_a"]`; holds the roles customer and user in `world.relationship_a`
- `world.person_a2`: Otto Acme <otto@acme.example>, another person of A, sponsor of `world.relationship_a`
- `world.person_b`: Bea Borealis <bea@borealis.example>, a person of organisation B, linked to
  `world.users["customer_b"]`; user in `world.relationship_b`
- `world.relationship_a`: organisation A × `world.offering`, active, started 400 days ago
- `world.relationship_b`: organisation B × `world.offering_b_only`, active, started 100 days ago
"""

from __future__ import annotations

from datetime import timedelta

from serviceloop.core import clock
from serviceloop.core.authz_matrix import (
    ANY_USER_API,
    MANAGER_PAGE,
    ORG_A_API,
    ORG_A_PAGE,
    STAFF_PAGE,
    Endpoint,
    Page,
    World,
    expect,
    manager_post,
)
from serviceloop.relationships.services import person_create, relationship_create, role_grant

MANAGER_API = expect(anonymous=401, customer_a=403, agent=403, manager=200)
MANAGER_CREATE_API = expect(anonymous=401, customer_a=403, agent=403, manager=201)
TO_ORGANISATION = manager_post("relationships:organisation_detail")
TO_PERSON = manager_post("relationships:person_detail")
TO_RELATIONSHIP = manager_post("relationships:relationship_detail")


def build(world: World) -> None:
    manager = world.users["manager"]
    today = clock.now().date()
    world.person_a = person_create(
        by=manager,
        organisation=world.org_a,
        email="petra@acme.example",
        name="Petra Acme",
        time_zone="Europe/Berlin",
        user=world.users["customer_a"],
    )
    world.person_a2 = person_create(by=manager, organisation=world.org_a, email="otto@acme.example", name="Otto Acme")
    world.person_b = person_create(
        by=manager,
        organisation=world.org_b,
        email="bea@borealis.example",
        name="Bea Borealis",
        user=world.users["customer_b"],
    )
    world.relationship_a = relationship_create(
        by=manager, organisation=world.org_a, offering=world.offering, started_on=today - timedelta(days=400)
    )
    role_grant(relationship=world.relationship_a, person=world.person_a, role="customer", by=manager)
    role_grant(relationship=world.relationship_a, person=world.person_a, role="user", by=manager)
    role_grant(relationship=world.relationship_a, person=world.person_a2, role="sponsor", by=manager)
    world.relationship_b = relationship_create(
        by=manager, organisation=world.org_b, offering=world.offering_b_only, started_on=today - timedelta(days=100)
    )
    role_grant(relationship=world.relationship_b, person=world.person_b, role="user", by=manager)


def _org(w: World) -> dict[str, str]:
    return {"public_id": w.org_a.public_id}


def _person(w: World) -> dict[str, str]:
    return {"public_id": w.person_a.public_id}


def _rel(w: World) -> dict[str, str]:
    return {"public_id": w.relationship_a.public_id}


PAGES = [
    Page("relationships:organisation_list", STAFF_PAGE),
    Page("relationships:organisation_list", STAFF_PAGE, query="q=acme"),
    Page("relationships:person_list", STAFF_PAGE),
    Page("relationships:relationship_list", STAFF_PAGE),
    Page("relationships:relationship_list", STAFF_PAGE, query="status=active&q=acme"),
    Page("relationships:person_list", STAFF_PAGE, query="q=acme"),
    Page("relationships:organisation_create", MANAGER_PAGE),
    Page(
        "relationships:organisation_create",
        TO_ORGANISATION,
        method="POST",
        data=lambda w: {"name": "Cobalt Legal", "slug": "", "domain": "cobalt.example", "notes": ""},
    ),
    Page("relationships:organisation_detail", ORG_A_PAGE, kwargs=_org),
    Page("relationships:organisation_edit", MANAGER_PAGE, kwargs=_org),
    Page(
        "relationships:organisation_edit",
        TO_ORGANISATION,
        kwargs=_org,
        method="POST",
        data=lambda w: {"name": "Acme Logistics", "slug": w.org_a.slug, "domain": "acme.example", "notes": "Key"},
    ),
    Page("relationships:person_create", MANAGER_PAGE, kwargs=_org),
    Page(
        "relationships:person_create",
        TO_PERSON,
        kwargs=_org,
        method="POST",
        data=lambda w: {"name": "Nia Acme", "email": "nia@acme.example", "time_zone": "UTC"},
    ),
    Page("relationships:person_detail", ORG_A_PAGE, kwargs=_person),
    Page("relationships:person_edit", MANAGER_PAGE, kwargs=_person),
    Page(
        "relationships:person_edit",
        TO_PERSON,
        kwargs=_person,
        method="POST",
        data=lambda w: {"name": "Petra Acme", "email": "petra@acme.example", "time_zone": "Europe/Paris"},
    ),
    Page("relationships:relationship_create", MANAGER_PAGE, kwargs=_org),
    Page(
        "relationships:relationship_create",
        TO_RELATIONSHIP,
        kwargs=_org,
        method="POST",
        data=lambda w: {
            "offering": w.offering_b_only.pk,
            "started_on": str(clock.now().date()),
            "status": "active",
        },
    ),
    Page("relationships:relationship_detail", ORG_A_PAGE, kwargs=_rel),
    Page(
        "relationships:relationship_status",
        TO_RELATIONSHIP,
        kwargs=_rel,
        method="POST",
        data=lambda w: {"status": "paused", "note": "Budget review"},
    ),
    Page(
        "relationships:role_grant",
        TO_RELATIONSHIP,
        kwargs=_rel,
        method="POST",
        data=lambda w: {"person": w.person_a2.pk, "role": "user"},
    ),
    Page(
        "relationships:role_revoke",
        TO_RELATIONSHIP,
        kwargs=_rel,
        method="POST",
        data=lambda w: {"person": w.person_a.public_id, "role": "user"},
    ),
]

ENDPOINTS = [
    Endpoint("GET", "/api/relationships/organisations", ANY_USER_API),
    Endpoint(
        "POST",
        "/api/relationships/organisations",
        MANAGER_CREATE_API,
        body=lambda w: {"name": "Dunmore Council", "domain": "dunmore.example"},
    ),
    Endpoint("GET", "/api/relationships/organisations/{public_id}", ORG_A_API, params=_org),
    Endpoint(
        "PATCH",
        "/api/relationships/organisations/{public_id}",
        MANAGER_API,
        params=_org,
        body=lambda w: {"notes": "Key account"},
    ),
    Endpoint("GET", "/api/relationships/people", ANY_USER_API),
    Endpoint(
        "POST",
        "/api/relationships/people",
        MANAGER_CREATE_API,
        body=lambda w: {"organisation": w.org_a.public_id, "email": "new@acme.example", "time_zone": "Europe/Paris"},
    ),
    Endpoint("GET", "/api/relationships/people/{public_id}", ORG_A_API, params=_person),
    Endpoint(
        "PATCH",
        "/api/relationships/people/{public_id}",
        MANAGER_API,
        params=_person,
        body=lambda w: {"survey_opt_out": True},
    ),
    Endpoint("GET", "/api/relationships/relationships", ANY_USER_API),
    Endpoint(
        "POST",
        "/api/relationships/relationships",
        MANAGER_CREATE_API,
        body=lambda w: {
            "organisation": w.org_a.public_id,
            "offering": w.offering_b_only.public_id,
            "started_on": str(clock.now().date()),
        },
    ),
    Endpoint("GET", "/api/relationships/relationships/{public_id}", ORG_A_API, params=_rel),
    Endpoint(
        "PATCH",
        "/api/relationships/relationships/{public_id}",
        MANAGER_API,
        params=_rel,
        body=lambda w: {"notes": "Renewal due"},
    ),
    Endpoint(
        "POST",
        "/api/relationships/relationships/{public_id}/status",
        MANAGER_API,
        params=_rel,
        body=lambda w: {"status": "ended"},
    ),
    Endpoint("GET", "/api/relationships/relationships/{public_id}/events", ORG_A_API, params=_rel),
    Endpoint(
        "POST",
        "/api/relationships/relationships/{public_id}/roles",
        MANAGER_CREATE_API,
        params=_rel,
        body=lambda w: {"person": w.person_a2.public_id, "role": "customer"},
    ),
    Endpoint(
        "POST",
        "/api/relationships/relationships/{public_id}/roles/revoke",
        MANAGER_API,
        params=_rel,
        body=lambda w: {"person": w.person_a.public_id, "role": "user"},
    ),
]

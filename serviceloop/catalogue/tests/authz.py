"""Authorisation rows for catalogue pages and API (see serviceloop/core/authz_matrix.py).

`build(world)` adds, for later apps to use:

- `world.service`: a live service "Email & collaboration" managed by `world.users["manager"]`
- `world.offering`: its offering "Mailbox", consumed by organisation A (the relationship,
  `world.relationship_a`, is built by relationships/tests/authz.py, which runs after this one)
- `world.component`: a component (service action) of `world.offering`
- `world.value_item`: an outcome (gives side) of `world.offering`
- `world.value_item_asks`: a cost imposed (asks side) of `world.offering`
- `world.service_b`: a second live service "Ride booking"
- `world.offering_b_only`: its offering "Airport rides", consumed only by organisation B
  (`world.relationship_b`, built by relationships)

Customer A sees `world.offering` (200) and never `world.offering_b_only` (404); customer B the opposite.
"""

from __future__ import annotations

from serviceloop.catalogue.services import (
    component_create,
    offering_create,
    service_create,
    value_item_create,
)
from serviceloop.core.authz_matrix import (
    ANY_USER_API,
    ANY_USER_PAGE,
    MANAGER_PAGE,
    ORG_A_API,
    ORG_A_PAGE,
    SIGN_IN,
    STAFF_API,
    STAFF_PAGE,
    Endpoint,
    Page,
    World,
    expect,
    manager_post,
)

MANAGER_API = expect(anonymous=401, customer_a=403, agent=403, manager=200)
MANAGER_CREATE_API = expect(anonymous=401, customer_a=403, agent=403, manager=201)
MANAGER_DELETE_API = expect(anonymous=401, customer_a=403, agent=403, manager=204)
# Forms that redirect to the object after a successful POST.
TO_SERVICE = manager_post("catalogue:service_detail")
TO_OFFERING = manager_post("catalogue:offering_detail")


def build(world: World) -> None:
    manager = world.users["manager"]
    world.service = service_create(
        by=manager, name="Email & collaboration", service_manager=manager, lifecycle="live", criticality="high"
    )
    world.offering = offering_create(
        service=world.service, by=manager, name="Mailbox", target_group="Staff of client organisations"
    )
    world.component = component_create(offering=world.offering, by=manager, kind="action", name="Mailbox set-up")
    world.value_item = value_item_create(
        offering=world.offering, by=manager, kind="outcome", description="People can mail from anywhere"
    )
    world.value_item_asks = value_item_create(
        offering=world.offering,
        by=manager,
        kind="cost_imposed",
        description="Monthly fee",
        financial=True,
        estimate="6.50",
        unit="EUR per mailbox per month",
    )
    world.service_b = service_create(by=manager, name="Ride booking", service_manager=manager, lifecycle="live")
    world.offering_b_only = offering_create(service=world.service_b, by=manager, name="Airport rides")


def _service(w: World) -> dict[str, str]:
    return {"public_id": w.service.public_id}


def _offering(w: World) -> dict[str, str]:
    return {"public_id": w.offering.public_id}


PAGES = [
    Page("catalogue:service_list", STAFF_PAGE),
    Page("catalogue:service_list", STAFF_PAGE, query="q=mail&lifecycle=live"),
    Page("catalogue:service_create", MANAGER_PAGE),
    Page(
        "catalogue:service_create",
        TO_SERVICE,
        method="POST",
        data=lambda w: {
            "name": "VPN remote access",
            "slug": "",
            "lifecycle": "pipeline",
            "criticality": "medium",
            "service_manager": w.users["manager"].pk,
        },
    ),
    Page("catalogue:service_detail", STAFF_PAGE, kwargs=_service),
    Page("catalogue:service_edit", MANAGER_PAGE, kwargs=_service),
    Page(
        "catalogue:service_edit",
        TO_SERVICE,
        kwargs=_service,
        method="POST",
        data=lambda w: {
            "name": "Email & collaboration",
            "slug": w.service.slug,
            "lifecycle": "live",
            "criticality": "critical",
            "service_manager": w.users["manager"].pk,
        },
    ),
    Page("catalogue:offering_create", MANAGER_PAGE, kwargs=_service),
    Page(
        "catalogue:offering_create",
        TO_OFFERING,
        kwargs=_service,
        method="POST",
        data=lambda w: {"name": "Shared mailbox", "target_group": "Teams"},
    ),
    Page("catalogue:offering_detail", STAFF_PAGE, kwargs=_offering),
    Page("catalogue:offering_edit", MANAGER_PAGE, kwargs=_offering),
    Page(
        "catalogue:offering_edit",
        TO_OFFERING,
        kwargs=_offering,
        method="POST",
        data=lambda w: {"name": "Mailbox", "slug": w.offering.slug, "target_group": "Everyone"},
    ),
    Page("catalogue:offering_public", ORG_A_PAGE, kwargs=_offering),
    Page(
        "catalogue:offering_public",
        expect(anonymous=SIGN_IN, customer_a=404, customer_b=200, agent=200),
        kwargs=lambda w: {"public_id": w.offering_b_only.public_id},
    ),
    Page("catalogue:our_services", ANY_USER_PAGE),
    Page("catalogue:component_create", MANAGER_PAGE, kwargs=_offering),
    Page(
        "catalogue:component_create",
        TO_OFFERING,
        kwargs=_offering,
        method="POST",
        data=lambda w: {"kind": "goods", "name": "Headset"},
    ),
    Page("catalogue:component_edit", MANAGER_PAGE, kwargs=lambda w: {"public_id": w.component.public_id}),
    Page(
        "catalogue:component_edit",
        TO_OFFERING,
        kwargs=lambda w: {"public_id": w.component.public_id},
        method="POST",
        data=lambda w: {"kind": "action", "name": "Mailbox set-up within a day"},
    ),
    Page(
        "catalogue:component_delete",
        TO_OFFERING,
        kwargs=lambda w: {"public_id": w.component.public_id},
        method="POST",
    ),
    Page("catalogue:value_item_create", MANAGER_PAGE, kwargs=_offering),
    Page(
        "catalogue:value_item_create",
        TO_OFFERING,
        kwargs=_offering,
        method="POST",
        data=lambda w: {"kind": "risk_removed", "description": "No lost mail"},
    ),
    Page("catalogue:value_item_edit", MANAGER_PAGE, kwargs=lambda w: {"public_id": w.value_item.public_id}),
    Page(
        "catalogue:value_item_edit",
        TO_OFFERING,
        kwargs=lambda w: {"public_id": w.value_item.public_id},
        method="POST",
        data=lambda w: {"kind": "outcome", "description": "People can mail from anywhere, on any device"},
    ),
    Page(
        "catalogue:value_item_delete",
        TO_OFFERING,
        kwargs=lambda w: {"public_id": w.value_item.public_id},
        method="POST",
    ),
]

ENDPOINTS = [
    Endpoint("GET", "/api/catalogue/services", STAFF_API),
    Endpoint(
        "POST",
        "/api/catalogue/services",
        MANAGER_CREATE_API,
        body=lambda w: {"name": "Payroll", "service_manager": w.users["manager"].public_id},
    ),
    Endpoint("GET", "/api/catalogue/services/{public_id}", STAFF_API, params=_service),
    Endpoint(
        "PATCH",
        "/api/catalogue/services/{public_id}",
        MANAGER_API,
        params=_service,
        body=lambda w: {"criticality": "critical"},
    ),
    # The service's offering is consumed by organisation A (a protected row): deleting it is refused.
    Endpoint(
        "DELETE",
        "/api/catalogue/services/{public_id}",
        expect(anonymous=401, customer_a=403, agent=403, manager=409),
        params=_service,
    ),
    Endpoint("GET", "/api/catalogue/services/{public_id}/changes", STAFF_API, params=_service),
    Endpoint("GET", "/api/catalogue/changes", STAFF_API),
    Endpoint("GET", "/api/catalogue/offerings", ANY_USER_API),
    Endpoint(
        "POST",
        "/api/catalogue/services/{public_id}/offerings",
        MANAGER_CREATE_API,
        params=_service,
        body=lambda w: {"name": "Shared mailbox", "target_group": "Teams"},
    ),
    Endpoint("GET", "/api/catalogue/offerings/{public_id}", ORG_A_API, params=_offering),
    Endpoint(
        "PATCH",
        "/api/catalogue/offerings/{public_id}",
        MANAGER_API,
        params=_offering,
        body=lambda w: {"target_group": "Everyone"},
    ),
    Endpoint(
        "DELETE",
        "/api/catalogue/offerings/{public_id}",
        expect(anonymous=401, customer_a=403, agent=403, manager=409),
        params=_offering,
    ),
    Endpoint(
        "POST",
        "/api/catalogue/offerings/{public_id}/components",
        MANAGER_CREATE_API,
        params=_offering,
        body=lambda w: {"kind": "goods", "name": "Headset"},
    ),
    Endpoint(
        "PATCH",
        "/api/catalogue/components/{public_id}",
        MANAGER_API,
        params=lambda w: {"public_id": w.component.public_id},
        body=lambda w: {"name": "Mailbox set-up within a day"},
    ),
    Endpoint(
        "DELETE",
        "/api/catalogue/components/{public_id}",
        MANAGER_DELETE_API,
        params=lambda w: {"public_id": w.component.public_id},
    ),
    Endpoint(
        "POST",
        "/api/catalogue/offerings/{public_id}/value-items",
        MANAGER_CREATE_API,
        params=_offering,
        body=lambda w: {"kind": "risk_removed", "description": "No lost mail", "financial": False},
    ),
    Endpoint(
        "PATCH",
        "/api/catalogue/value-items/{public_id}",
        MANAGER_API,
        params=lambda w: {"public_id": w.value_item.public_id},
        body=lambda w: {"estimate": "2.5", "unit": "hours saved per week"},
    ),
    Endpoint(
        "DELETE",
        "/api/catalogue/value-items/{public_id}",
        MANAGER_DELETE_API,
        params=lambda w: {"public_id": w.value_item.public_id},
    ),
]

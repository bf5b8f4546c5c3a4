"""Authorisation rows for the experience API and pages (see serviceloop/core/authz_matrix.py).

Every signed-in user may read figures: staff of every organisation, a customer of their own only
(naming another organisation answers 404; test_api_metrics.py checks that with real ids).

Pages: the service page of `world.service` (organisation A consumes it through `world.relationship_a`;
B does not, so B's customer gets 404), organisation A's page (B's customer: 404), and the customers'
"Experience" item, which sends a customer to their own organisation's page (staff: 403, they open an
organisation's page from the organisation). test_service_page.py and test_organisation_page.py check
the tenancy with data.

Alerts are the provider's: staff see and acknowledge them, customers get 403 (test_alerts.py).

`build(world)` adds `world.alert`: an open drop alert of `world.service` (built by catalogue).
"""

from __future__ import annotations

from typing import Any

from serviceloop.core.authz_matrix import (
    ANY_USER_API,
    ORG_A_PAGE,
    SIGN_IN,
    STAFF_PAGE,
    Endpoint,
    Page,
    World,
    expect,
    staff_post,
    to,
)


def build(world: World) -> None:
    from serviceloop.experience.alerts import alert_raise

    world.alert = alert_raise(
        service=world.service,
        kind="drop",
        cause=f"drop:{world.service.public_id}:happiness",
        title=f"Happiness fell on {world.service.name}",
        figures={},
    )


def _alert(w: World) -> dict[str, Any]:
    return {"public_id": w.alert.public_id}


def _service(w: World) -> dict[str, Any]:
    return {"public_id": w.service.public_id}


def _org_a(w: World) -> dict[str, Any]:
    return {"public_id": w.org_a.public_id}


ENDPOINTS = [
    Endpoint("GET", "/api/experience/metrics", ANY_USER_API, query="group_by=week&metrics=happiness,fcr"),
    Endpoint("GET", "/api/experience/metrics.csv", ANY_USER_API, query="group_by=service"),
]

PAGES = [
    Page("experience:alert_list", STAFF_PAGE),
    Page("experience:alert_detail", STAFF_PAGE, kwargs=_alert),
    Page("experience:alert_acknowledge", staff_post("experience:alert_detail"), kwargs=_alert, method="POST"),
    Page("experience:service", ORG_A_PAGE, kwargs=_service),
    Page("experience:service", ORG_A_PAGE, kwargs=_service, query="export=organisation"),
    Page("experience:organisation", ORG_A_PAGE, kwargs=_org_a),
    Page("experience:organisation", ORG_A_PAGE, kwargs=_org_a, query="export=comments"),
    Page(
        "experience:mine",
        expect(anonymous=SIGN_IN, customer_a=to("experience:organisation"), agent=403),
    ),
]

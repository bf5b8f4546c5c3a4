"""Authorisation rows for the experience API and pages (see serviceloop/core/authz_matrix.py).

Every signed-in user may read figures: staff of every organisation, a customer of their own only
(naming another organisation answers 404; test_api_metrics.py checks that with real ids).

Pages: the service page of `world.service` (organisation A consumes it through `world.relationship_a`;
B does not, so B's customer gets 404), organisation A's page (B's customer: 404), and the customers'
"Experience" item, which sends a customer to their own organisation's page (staff: 403, they open an
organisation's page from the organisation). test_service_page.py and test_organisation_page.py check
the tenancy with data.
"""

from __future__ import annotations

from typing import Any

from serviceloop.core.authz_matrix import ANY_USER_API, ORG_A_PAGE, SIGN_IN, Endpoint, Page, World, expect, to

ENDPOINTS = [
    Endpoint("GET", "/api/experience/metrics", ANY_USER_API, query="group_by=week&metrics=happiness,fcr"),
    Endpoint("GET", "/api/experience/metrics.csv", ANY_USER_API, query="group_by=service"),
]


def _service(w: World) -> dict[str, Any]:
    return {"public_id": w.service.public_id}


def _org_a(w: World) -> dict[str, Any]:
    return {"public_id": w.org_a.public_id}


PAGES = [
    Page("experience:service", ORG_A_PAGE, kwargs=_service),
    Page("experience:service", ORG_A_PAGE, kwargs=_service, query="export=organisation"),
    Page("experience:organisation", ORG_A_PAGE, kwargs=_org_a),
    Page("experience:organisation", ORG_A_PAGE, kwargs=_org_a, query="export=comments"),
    Page(
        "experience:mine",
        expect(anonymous=SIGN_IN, customer_a=to("experience:organisation"), agent=403),
    ),
]

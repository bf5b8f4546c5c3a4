"""Authorisation rows of the trust pages and API (docs/trust-pages.md). `build(world)` adds:

- `world.trust_a`: the trust state of organisation A in `world.service`, with weekly points and
  evidence, shown to A's customers in their portal (`TrustSharing`); B's customer gets 404;
- parameters version 1.

The list page is staff's (customers 403); a relationship's page and its API are A's customer's too,
because A's trust is shared; test_trust_pages.py and test_trust_api.py check the unshared case
(404 for the organisation's own customer) with data. Simulating and reading the parameters are
staff's, adopting parameters administrators', the portal toggle staff's.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from serviceloop.core import clock
from serviceloop.core.authz_matrix import (
    ANY_USER_API,
    ORG_A_API,
    ORG_A_PAGE,
    STAFF_API,
    STAFF_PAGE,
    Endpoint,
    Page,
    World,
    expect,
)
from serviceloop.experience.trust_models import (
    TrustEvidence,
    TrustParameterSet,
    TrustPoint,
    TrustSharing,
    TrustState,
)

ADMIN_CREATE_API = expect(anonymous=401, customer_a=403, agent=403, manager=403, admin=201)


def build(world: World) -> None:
    today = clock.now().date()
    organisation, service = world.org_a, world.service
    TrustParameterSet.objects.get_or_create(version=1, defaults={"values": {}, "note": "the defaults"})
    for week in range(3):
        day = today - timedelta(days=7 * (3 - week))
        TrustEvidence.objects.create(
            organisation=organisation,
            service=service,
            day=day,
            occurred_at=clock.now() - timedelta(days=7 * (3 - week)),
            kind="week_met",
            share=1.0,
            source_type="trust.week",
            key=f"week:{organisation.pk}:{service.pk}:{day}",
            label=f"week of {day}",
        )
        TrustPoint.objects.create(
            organisation=organisation, service=service, day=day, trust=50 + week, confidence=0.1, parameters_version=1
        )
    world.trust_a = TrustState.objects.create(
        organisation=organisation,
        service=service,
        as_of=today,
        trust=53.0,
        confidence=0.09,
        band="unknown",
        r=3.0,
        evidence_count=3,
        first_day=today - timedelta(days=21),
        contributions=[
            {"group": "kind:week_met", "label": "weeks with targets met", "effect": 3.0, "count": 3, "pending": 0.0}
        ],
        majors=[],
        parameters_version=1,
    )
    TrustSharing.objects.update_or_create(organisation=organisation, defaults={"shown_in_portal": True})


def _pair(w: World) -> dict[str, Any]:
    return {"organisation": w.org_a.public_id, "service": w.service.public_id}


def _simulation(w: World) -> dict[str, Any]:
    return {"events": [{"at": "2026-01-05", "kind": "week_met"}], "at": ["2026-01-31"]}


PAGES = [
    Page("experience:trust_list", STAFF_PAGE),
    Page("experience:trust_list", STAFF_PAGE, query="band=red&order=change&service=nope&q=acme&page=9"),
    Page("experience:trust_detail", ORG_A_PAGE, kwargs=_pair),
    Page("experience:trust_detail", ORG_A_PAGE, kwargs=_pair, query="kind=major_incident&page=2"),
]

ENDPOINTS = [
    # A customer lists their own organisation's states (only when shown to them): 200 with what they may see.
    Endpoint("GET", "/api/experience/trust/states", ANY_USER_API, query="order=change&band=unknown"),
    Endpoint("GET", "/api/experience/trust/states.csv", ANY_USER_API),
    Endpoint("GET", "/api/experience/trust/states/{organisation}/{service}", ORG_A_API, params=_pair),
    Endpoint("GET", "/api/experience/trust/states/{organisation}/{service}/evidence", ORG_A_API, params=_pair),
    Endpoint("POST", "/api/experience/trust/simulate", STAFF_API, body=_simulation),
    Endpoint("GET", "/api/experience/trust/parameters", STAFF_API),
    Endpoint(
        "POST",
        "/api/experience/trust/parameters",
        ADMIN_CREATE_API,
        body=lambda w: {"values": {"negativity": 2.5}, "note": "Bad evidence weighs less"},
    ),
    Endpoint(
        "PUT",
        "/api/experience/trust/sharing/{organisation}",
        STAFF_API,
        params=lambda w: {"organisation": w.org_b.public_id},
        body=lambda w: {"shown_in_portal": True},
    ),
]

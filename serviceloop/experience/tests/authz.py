"""Authorisation rows for the experience API and pages (see serviceloop/core/authz_matrix.py).

Every signed-in user may read figures: staff of every organisation, a customer of their own only
(naming another organisation answers 404; test_api_metrics.py checks that with real ids).

Pages: the service page of `world.service` (organisation A consumes it through `world.relationship_a`;
B does not, so B's customer gets 404), organisation A's page (B's customer: 404), and the customers'
"Experience" item, which sends a customer to their own organisation's page (staff: 403, they open an
organisation's page from the organisation). test_service_page.py and test_organisation_page.py check
the tenancy with data.

Alerts are the provider's: staff see and acknowledge them, customers get 403 (test_alerts.py).

Service reviews: `build(world)` adds `world.review_a` (organisation A's relationship
`world.relationship_a`, with a stored PDF) and `world.review_service` (the whole of `world.service`,
every organisation: staff only). Customers see their own organisation's reviews and PDFs; any other
answers 404. Only staff ask for reviews and have their PDF made again.

`build(world)` also adds `world.alert`: an open drop alert of `world.service` (built by catalogue); and two
XLAs: `world.xla_service` (happiness of `world.service`) and `world.xla_a` (CSAT of `world.relationship_a`).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile

from serviceloop.core import clock
from serviceloop.core.authz_matrix import (
    ANY_USER_API,
    ANY_USER_PAGE,
    MANAGER_PAGE,
    ORG_A_API,
    ORG_A_PAGE,
    SIGN_IN,
    STAFF_PAGE,
    Endpoint,
    Page,
    World,
    expect,
    manager_post,
    staff_post,
    to,
)
from serviceloop.experience.models import ServiceReview
from serviceloop.experience.tests import authz_trust
from serviceloop.experience.xlas import xla_create

STAFF_ONLY_REVIEW = expect(anonymous=SIGN_IN, customer_a=404, agent=200)


def build(world: World) -> None:
    from serviceloop.experience.alerts import alert_raise

    world.alert = alert_raise(
        service=world.service,
        kind="drop",
        cause=f"drop:{world.service.public_id}:happiness",
        title=f"Happiness fell on {world.service.name}",
        figures={},
    )
    today = clock.now().date()
    period = {"period_start": today - timedelta(days=30), "period_end": today - timedelta(days=1)}
    manager = world.users["manager"]
    world.review_a = ServiceReview.objects.create(
        service=world.service,
        relationship=world.relationship_a,
        organisation=world.org_a,
        requested_by=manager,
        state=ServiceReview.State.READY,
        **period,
    )
    world.review_a.pdf.save("review.pdf", ContentFile(b"%PDF-1.7 authz matrix"), save=False)
    world.review_a.save()
    world.review_service = ServiceReview.objects.create(
        service=world.service, requested_by=manager, state=ServiceReview.State.FAILED, failure="no Pango", **period
    )
    world.xla_service = xla_create(
        by=manager, name="Mail happiness", service=world.service, metric="happiness", target=Decimal("60")
    )
    world.xla_a = xla_create(
        by=manager, name="Acme mailbox CSAT", relationship=world.relationship_a, metric="csat", target=Decimal("80")
    )
    authz_trust.build(world)


def _alert(w: World) -> dict[str, Any]:
    return {"public_id": w.alert.public_id}


def _service(w: World) -> dict[str, Any]:
    return {"public_id": w.service.public_id}


def _org_a(w: World) -> dict[str, Any]:
    return {"public_id": w.org_a.public_id}


def _review_a(world: World) -> dict[str, str]:
    return {"public_id": world.review_a.public_id}


def _review_service(world: World) -> dict[str, str]:
    return {"public_id": world.review_service.public_id}


# -- XLAs: staff read every XLA; managers and administrators change them; a customer reads the XLAs of
# their own organisation's relationships (B's customer gets 404 for A's; a service-wide XLA is 404 for both).


def _xla(w: World) -> dict[str, str]:
    return {"public_id": w.xla_a.public_id}


def _xla_service(w: World) -> dict[str, str]:
    return {"public_id": w.xla_service.public_id}


def _xla_form(w: World) -> dict[str, object]:
    return {
        "name": "Mail ease",
        "service": w.service.pk,
        "metric": "ces",
        "comparator": "gte",
        "target": "70",
        "window": "rolling_30",
        "baseline_kind": "none",
    }


def _xla_edit(w: World) -> dict[str, object]:
    return {
        "name": "Acme mailbox CSAT",
        "metric": "csat",
        "comparator": "gte",
        "target": "85",
        "window": "month",
        "baseline_kind": "none",
        "version": w.xla_a.version,
    }


TO_XLA = manager_post("experience:xla_detail")
SERVICE_XLA_PAGE = expect(anonymous=SIGN_IN, customer_a=404, agent=200)
SERVICE_XLA_API = expect(anonymous=401, customer_a=404, agent=200)
MANAGER_API = expect(anonymous=401, customer_a=403, agent=403, manager=200)

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
    # The staff's switch "show this organisation its own trust in the portal" (trust_sharing_set).
    Page(
        "experience:organisation",
        expect(anonymous=SIGN_IN, customer_a=403, customer_b=404, agent=to("experience:organisation")),
        kwargs=_org_a,
        method="POST",
        data=lambda world: {"shown_in_portal": "on"},
    ),
    Page(
        "experience:mine",
        expect(anonymous=SIGN_IN, customer_a=to("experience:organisation"), agent=403),
    ),
    Page("experience:report_list", ANY_USER_PAGE),
    Page("experience:report_request", STAFF_PAGE),
    Page(
        "experience:report_request",
        staff_post("experience:report_detail"),
        method="POST",
        data=lambda world: {"service": world.service.public_id, "period": "last_month"},
    ),
    Page("experience:report_detail", ORG_A_PAGE, kwargs=_review_a),
    Page("experience:report_detail", STAFF_ONLY_REVIEW, kwargs=_review_service),
    Page("experience:report_pdf", ORG_A_PAGE, kwargs=_review_a),
    Page(
        "experience:report_regenerate",
        staff_post("experience:report_detail"),
        method="POST",
        kwargs=_review_service,
    ),
    Page("experience:xla_list", ANY_USER_PAGE),
    Page("experience:xla_list", ANY_USER_PAGE, query="state=breached&status=archived&service=nope"),
    Page("experience:xla_create", MANAGER_PAGE),
    Page("experience:xla_create", TO_XLA, method="POST", data=_xla_form),
    Page("experience:xla_detail", ORG_A_PAGE, kwargs=_xla),
    Page("experience:xla_detail", SERVICE_XLA_PAGE, kwargs=_xla_service, query="page=2"),
    Page("experience:xla_edit", MANAGER_PAGE, kwargs=_xla),
    Page("experience:xla_edit", TO_XLA, kwargs=_xla, method="POST", data=_xla_edit),
    Page("experience:xla_evaluate", TO_XLA, kwargs=_xla, method="POST"),
    Page("experience:xla_archive", TO_XLA, kwargs=_xla_service, method="POST"),
]

ENDPOINTS += [
    Endpoint("GET", "/api/experience/xlas", ANY_USER_API, query="state=met&status=active"),
    Endpoint(
        "POST",
        "/api/experience/xlas",
        expect(anonymous=401, customer_a=403, agent=403, manager=201),
        body=lambda w: {"name": "Mail ease", "service": w.service.public_id, "metric": "ces", "target": 70},
    ),
    Endpoint("GET", "/api/experience/xlas/{public_id}", ORG_A_API, params=_xla),
    Endpoint("GET", "/api/experience/xlas/{public_id}", SERVICE_XLA_API, params=_xla_service),
    Endpoint("PATCH", "/api/experience/xlas/{public_id}", MANAGER_API, params=_xla, body=lambda w: {"target": 85}),
    Endpoint(
        "DELETE",
        "/api/experience/xlas/{public_id}",
        expect(anonymous=401, customer_a=403, agent=403, manager=204),
        params=_xla_service,
    ),
    Endpoint("POST", "/api/experience/xlas/{public_id}/evaluate", MANAGER_API, params=_xla),
    Endpoint("GET", "/api/experience/xlas/{public_id}/history", ORG_A_API, params=_xla),
]

# Trust (docs/trust-pages.md): its own rows and build.
PAGES += authz_trust.PAGES
ENDPOINTS += authz_trust.ENDPOINTS

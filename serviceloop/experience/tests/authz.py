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

`build(world)` also adds `world.alert`: an open drop alert of `world.service` (built by catalogue).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.files.base import ContentFile

from serviceloop.core import clock
from serviceloop.core.authz_matrix import (
    ANY_USER_API,
    ANY_USER_PAGE,
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
from serviceloop.experience.models import ServiceReview

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
]

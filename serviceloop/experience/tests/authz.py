"""Authorisation rows for the experience API and pages (see serviceloop/core/authz_matrix.py).

Every signed-in user may read figures: staff of every organisation, a customer of their own only
(naming another organisation answers 404; test_api_metrics.py checks that with real ids).

Service reviews: `build(world)` adds `world.review_a` (organisation A's relationship
`world.relationship_a`, with a stored PDF) and `world.review_service` (the whole of `world.service`,
every organisation: staff only). Customers see their own organisation's reviews and PDFs; any other
answers 404. Only staff ask for reviews and have their PDF made again.
"""

from __future__ import annotations

from datetime import timedelta

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
)
from serviceloop.experience.models import ServiceReview

STAFF_ONLY_REVIEW = expect(anonymous=SIGN_IN, customer_a=404, agent=200)


def build(world: World) -> None:
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


def _review_a(world: World) -> dict[str, str]:
    return {"public_id": world.review_a.public_id}


def _review_service(world: World) -> dict[str, str]:
    return {"public_id": world.review_service.public_id}


PAGES = [
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

ENDPOINTS = [
    Endpoint("GET", "/api/experience/metrics", ANY_USER_API, query="group_by=week&metrics=happiness,fcr"),
    Endpoint("GET", "/api/experience/metrics.csv", ANY_USER_API, query="group_by=service"),
]

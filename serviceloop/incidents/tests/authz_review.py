"""Authorisation rows of the review pages and API. `build(world)` adds:

- `world.review_incident`: a resolved SEV1 incident with `world.review` (a draft, ready to complete,
  with `world.review_action` open);
- `world.completed_review`: a completed review of another incident (to publish);
- `world.minor_incident`: a resolved SEV3 incident without a review (to open one by hand).
"""

from __future__ import annotations

from datetime import date, timedelta

from serviceloop.core import clock
from serviceloop.core.authz_matrix import (
    STAFF_API,
    STAFF_PAGE,
    Endpoint,
    Page,
    World,
    expect,
    manager_post,
    staff_post,
)
from serviceloop.incidents.models import Review
from serviceloop.incidents.tests.factories_review import make_action, make_incident, make_review

TO_REVIEW = staff_post("incidents:review")
STAFF_CREATE = expect(anonymous=401, customer_a=403, agent=201)
MANAGER_API = expect(anonymous=401, customer_a=403, agent=403, manager=200)


def build(world: World) -> None:
    now = clock.now()
    manager = world.users["manager"]
    world.review_incident = make_incident(
        declared_at=now - timedelta(hours=5), owner=manager, status="resolved", resolved_at=now - timedelta(hours=2)
    )
    world.review = make_review(
        world.review_incident,
        due_at=now + timedelta(days=3),
        owner=manager,
        root_cause_category="configuration",
        customer_summary="A configuration change delayed mail.",
    )
    world.review_action = make_action(world.review, due_on=date.today() + timedelta(days=7), owner=manager)
    done = make_incident(declared_at=now - timedelta(days=3), status="resolved", resolved_at=now - timedelta(days=2))
    world.completed_review = make_review(
        done,
        due_at=now + timedelta(days=1),
        status=Review.Status.COMPLETED,
        completed_at=now,
        root_cause_category="change",
        customer_summary="A release broke mail.",
    )
    world.minor_incident = make_incident(
        declared_at=now - timedelta(hours=3), severity="sev3", status="resolved", resolved_at=now - timedelta(hours=1)
    )


def _incident(w: World) -> dict[str, str]:
    return {"public_id": w.review_incident.public_id}


def _review(w: World) -> dict[str, str]:
    return {"public_id": w.review.public_id}


PAGES = [
    Page("incidents:reviews", STAFF_PAGE),
    Page("incidents:review", STAFF_PAGE, kwargs=_incident),
    Page(
        "incidents:review_open",
        TO_REVIEW,
        method="POST",
        kwargs=lambda w: {"public_id": w.minor_incident.public_id},
    ),
    Page(
        "incidents:review_edit",
        TO_REVIEW,
        method="POST",
        kwargs=_incident,
        data=lambda w: {
            "root_cause_category": "software",
            "root_cause": "A defect",
            "contributing_factors": "No alert on queue depth",
            "customer_summary": "Mail was late.",
        },
    ),
    Page("incidents:review_complete", TO_REVIEW, method="POST", kwargs=_incident),
    Page(
        "incidents:review_publish",
        manager_post("incidents:review"),
        method="POST",
        kwargs=lambda w: {"public_id": w.completed_review.incident.public_id},
    ),
    Page(
        "incidents:review_action_add",
        TO_REVIEW,
        method="POST",
        kwargs=_incident,
        data=lambda w: {"title": "Alert on queue depth", "kind": "detect", "due_on": "2026-12-20"},
    ),
    Page(
        "incidents:review_action_close",
        TO_REVIEW,
        method="POST",
        kwargs=lambda w: {"public_id": w.review_incident.public_id, "action_id": w.review_action.public_id},
        data=lambda w: {"outcome": "done"},
    ),
]

ENDPOINTS = [
    Endpoint("GET", "/api/incidents/reviews", STAFF_API),
    Endpoint("GET", "/api/incidents/reviews/{public_id}", STAFF_API, params=_review),
    Endpoint(
        "PATCH",
        "/api/incidents/reviews/{public_id}",
        STAFF_API,
        params=_review,
        body=lambda w: {"root_cause": "A bad route", "contributing_factors": ["No review of the change"]},
    ),
    Endpoint("POST", "/api/incidents/reviews/{public_id}/complete", STAFF_API, params=_review, body=lambda w: {}),
    Endpoint(
        "POST",
        "/api/incidents/reviews/{public_id}/publish",
        MANAGER_API,
        params=lambda w: {"public_id": w.completed_review.public_id},
    ),
    Endpoint("GET", "/api/incidents/reviews/{public_id}/actions", STAFF_API, params=_review),
    Endpoint(
        "POST",
        "/api/incidents/reviews/{public_id}/actions",
        STAFF_CREATE,
        params=_review,
        body=lambda w: {"title": "Canary releases", "kind": "prevent", "due_on": "2026-12-20"},
    ),
    Endpoint(
        "PATCH",
        "/api/incidents/actions/{public_id}",
        STAFF_API,
        params=lambda w: {"public_id": w.review_action.public_id},
        body=lambda w: {"title": "Alert on queue depth and age"},
    ),
    Endpoint(
        "POST",
        "/api/incidents/actions/{public_id}/close",
        STAFF_API,
        params=lambda w: {"public_id": w.review_action.public_id},
        body=lambda w: {"outcome": "done"},
    ),
    Endpoint(
        "POST",
        "/api/incidents/{public_id}/review",
        STAFF_CREATE,
        params=lambda w: {"public_id": w.minor_incident.public_id},
    ),
    Endpoint("GET", "/api/incidents/{public_id}/measures", STAFF_API, params=_incident),
    Endpoint("GET", "/api/incidents/{public_id}/timeline", STAFF_API, params=_incident),
]

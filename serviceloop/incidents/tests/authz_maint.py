"""Authorisation rows for the maintenance pages and API (see serviceloop/core/authz_matrix.py).

`build(world)` adds, after catalogue's and relationships' (it uses `world.service`):

- `world.maintenance`: MW-1, a window on `world.service` planned for tomorrow, scheduled
- `world.maintenance_active`: MW-2, a window on `world.service` started a minute ago, in progress

Every page and operation is the provider's staff's (any staff role); customers are refused (403)
before any lookup, so they learn nothing of a window.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from serviceloop.core import clock
from serviceloop.core.authz_matrix import STAFF_API, STAFF_PAGE, Endpoint, Page, World, expect, staff_post
from serviceloop.incidents.maintenance import maintenance_schedule, maintenance_start

TO_DETAIL = staff_post("incidents:maintenance_detail")
STAFF_CREATE_API = expect(anonymous=401, customer_a=403, agent=201)
LOCAL = "%Y-%m-%dT%H:%M"


def build(world: World) -> None:
    manager = world.users["manager"]
    now = clock.now()
    tomorrow = now + timedelta(days=1)
    world.maintenance = maintenance_schedule(
        by=manager,
        title="Mail server upgrade",
        services=[world.service],
        scheduled_for=tomorrow,
        scheduled_until=tomorrow + timedelta(hours=2),
    )
    active = maintenance_schedule(
        by=manager,
        title="Storage firmware",
        services=[world.service],
        scheduled_for=now,
        scheduled_until=now + timedelta(hours=2),
        auto_start=False,
    )
    world.maintenance_active = maintenance_start(maintenance=active, by=manager)


def _window(w: World) -> dict[str, str]:
    return {"public_id": w.maintenance.public_id}


def _active(w: World) -> dict[str, str]:
    return {"public_id": w.maintenance_active.public_id}


def _form(w: World) -> dict[str, Any]:
    start = clock.now() + timedelta(days=2)
    return {
        "title": "Network switch swap",
        "services": [w.service.public_id],
        "scheduled_for": start.strftime(LOCAL),
        "scheduled_until": (start + timedelta(hours=1)).strftime(LOCAL),
        "visibility": "public",
        "auto_start": "on",
        "auto_complete": "on",
    }


def _reschedule(w: World) -> dict[str, Any]:
    start = clock.now() + timedelta(days=3)
    return {"scheduled_for": start.strftime(LOCAL), "scheduled_until": (start + timedelta(hours=1)).strftime(LOCAL)}


def _api_body(w: World) -> dict[str, Any]:
    start = clock.now() + timedelta(days=2)
    return {
        "title": "Network switch swap",
        "services": [w.service.public_id],
        "scheduled_for": start.isoformat(),
        "scheduled_until": (start + timedelta(hours=1)).isoformat(),
    }


PAGES = [
    Page("incidents:maintenance_list", STAFF_PAGE),
    Page("incidents:maintenance_new", STAFF_PAGE),
    Page("incidents:maintenance_new", TO_DETAIL, method="POST", data=_form),
    Page("incidents:maintenance_detail", STAFF_PAGE, kwargs=_window),
    Page("incidents:maintenance_reschedule", STAFF_PAGE, kwargs=_window),
    Page("incidents:maintenance_reschedule", TO_DETAIL, kwargs=_window, method="POST", data=_reschedule),
    Page("incidents:maintenance_start", TO_DETAIL, kwargs=_window, method="POST"),
    Page("incidents:maintenance_verify", TO_DETAIL, kwargs=_active, method="POST"),
    Page("incidents:maintenance_complete", TO_DETAIL, kwargs=_active, method="POST"),
    Page("incidents:maintenance_cancel", TO_DETAIL, kwargs=_window, method="POST"),
    Page(
        "incidents:maintenance_update", TO_DETAIL, kwargs=_active, method="POST", data=lambda w: {"body": "Half done."}
    ),
]

BASE = "/api/incidents/maintenance"
ENDPOINTS = [
    Endpoint("GET", BASE, STAFF_API),
    Endpoint("POST", BASE, STAFF_CREATE_API, body=_api_body),
    Endpoint("GET", f"{BASE}/{{public_id}}", STAFF_API, params=_window),
    Endpoint("PATCH", f"{BASE}/{{public_id}}", STAFF_API, params=_window, body=lambda w: {"title": "Mail upgrade"}),
    Endpoint("POST", f"{BASE}/{{public_id}}/start", STAFF_API, params=_window, body=lambda w: {}),
    Endpoint("POST", f"{BASE}/{{public_id}}/verify", STAFF_API, params=_active, body=lambda w: {}),
    Endpoint("POST", f"{BASE}/{{public_id}}/complete", STAFF_API, params=_active, body=lambda w: {}),
    Endpoint("POST", f"{BASE}/{{public_id}}/cancel", STAFF_API, params=_window, body=lambda w: {}),
    Endpoint("GET", f"{BASE}/{{public_id}}/updates", STAFF_API, params=_window),
    Endpoint(
        "POST", f"{BASE}/{{public_id}}/updates", STAFF_CREATE_API, params=_active, body=lambda w: {"body": "Half done."}
    ),
]

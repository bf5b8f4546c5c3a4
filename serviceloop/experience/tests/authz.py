"""Authorisation rows for the experience API and pages (see serviceloop/core/authz_matrix.py).

Every signed-in user may read figures: staff of every organisation, a customer of their own only
(naming another organisation answers 404; test_api_metrics.py checks that with real ids).
Alerts are the provider's: staff see and acknowledge them, customers get 403 (test_alerts.py).

`build(world)` adds `world.alert`: an open drop alert of `world.service` (built by catalogue).
"""

from __future__ import annotations

from typing import Any

from serviceloop.core.authz_matrix import ANY_USER_API, STAFF_PAGE, Endpoint, Page, World, staff_post


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


PAGES = [
    Page("experience:alert_list", STAFF_PAGE),
    Page("experience:alert_detail", STAFF_PAGE, kwargs=_alert),
    Page("experience:alert_acknowledge", staff_post("experience:alert_detail"), kwargs=_alert, method="POST"),
]

ENDPOINTS = [
    Endpoint("GET", "/api/experience/metrics", ANY_USER_API, query="group_by=week&metrics=happiness,fcr"),
    Endpoint("GET", "/api/experience/metrics.csv", ANY_USER_API, query="group_by=service"),
]

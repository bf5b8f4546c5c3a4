"""Authorisation rows for the incidents app (see serviceloop/core/authz_matrix.py).

The API of communication: `build(world)` runs after the desk's and adds `world.incident`, a SEV1 on
`world.service` declared by the agent (organisation A affected), with one customer-facing recovery
step `world.step`. Every API route is for staff: customers get 403 before any lookup, so B learns
nothing either. The pages' rows (and `world.incident_a`, `world.step_a`) are in authz_pages.py.
"""

from __future__ import annotations

from serviceloop.core.authz_matrix import Endpoint, Page, World, expect
from serviceloop.incidents.services import incident_declare, recovery_step_add
from serviceloop.incidents.tests.authz_pages import PAGE_ROWS, build_pages

STAFF_ONLY = expect(anonymous=401, customer_a=403, agent=200)
STAFF_CREATES = expect(anonymous=401, customer_a=403, agent=201)


def build(world: World) -> None:
    agent = world.users["agent"]
    world.incident = incident_declare(
        by=agent, title="Mail delivery delayed", severity="sev1", services={world.service: "major_outage"}
    )
    world.step = recovery_step_add(incident=world.incident, by=agent, title="Fail over", customer_facing=True)
    build_pages(world)


PAGES: list[Page] = [*PAGE_ROWS]


def _incident(w: World) -> dict[str, str]:
    return {"public_id": w.incident.public_id}


INCIDENT = "/api/incidents/incidents/{public_id}"

ENDPOINTS = [
    Endpoint("GET", "/api/incidents/incidents", STAFF_ONLY),
    Endpoint(
        "POST",
        "/api/incidents/incidents",
        STAFF_CREATES,
        body=lambda w: {"title": "Calendars down", "services": [{"service": w.service.public_id}]},
    ),
    Endpoint("GET", INCIDENT, STAFF_ONLY, params=_incident),
    Endpoint("PATCH", INCIDENT, STAFF_ONLY, params=_incident, body=lambda w: {"title": "Mail delayed for all"}),
    Endpoint(
        "POST",
        INCIDENT + "/updates",
        STAFF_CREATES,
        params=_incident,
        body=lambda w: {"audiences": ["public"], "body": "Looking."},
    ),
    Endpoint("POST", INCIDENT + "/resolve", STAFF_CREATES, params=_incident, body=lambda w: {"body": "Fixed."}),
    Endpoint("GET", INCIDENT + "/templates", STAFF_ONLY, params=_incident),
    Endpoint(
        "POST", INCIDENT + "/tickets", STAFF_CREATES, params=_incident, body=lambda w: {"ticket": w.ticket_a.public_id}
    ),
    Endpoint(
        "POST",
        INCIDENT + "/plans",
        STAFF_ONLY,
        params=_incident,
        body=lambda w: {"audience": "public", "cadence_minutes": 60},
    ),
    Endpoint(
        "PATCH",
        INCIDENT + "/plans/{audience}",
        STAFF_ONLY,
        params=lambda w: {"public_id": w.incident.public_id, "audience": "internal"},
        body=lambda w: {"cadence_minutes": 15},
    ),
    Endpoint(
        "POST", INCIDENT + "/steps", STAFF_CREATES, params=_incident, body=lambda w: {"title": "Restart the relays"}
    ),
    Endpoint(
        "PATCH",
        "/api/incidents/steps/{public_id}",
        STAFF_ONLY,
        params=lambda w: {"public_id": w.step.public_id},
        body=lambda w: {"status": "in_progress"},
    ),
    Endpoint("POST", INCIDENT + "/eta", STAFF_ONLY, params=_incident, body=lambda w: {"eta": None, "confidence": ""}),
    Endpoint("POST", INCIDENT + "/publish-plan", STAFF_ONLY, params=_incident, body=lambda w: {}),
]

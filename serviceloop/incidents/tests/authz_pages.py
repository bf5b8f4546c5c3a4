"""Authorisation rows of the incident pages (staff pages, the portal's view); authz.py gathers them.

`build_pages(world)` runs after desk's build and adds, all of organisation A:

- `world.incident_a`: an open incident (visibility customers) on `world.service` affecting organisation A
- `world.step_a`: a step of its recovery plan
"""

from __future__ import annotations

from typing import Any

from serviceloop.core.authz_matrix import SIGN_IN, STAFF_PAGE, Page, World, expect, staff_post, to
from serviceloop.incidents.models import Audience, AudiencePlan, RecoveryStep
from serviceloop.incidents.tests.pages_rows import make_incident

TO_LIST = to("incidents:list")
PORTAL_PAGE = expect(anonymous=SIGN_IN, customer_a=200, agent=TO_LIST)
PORTAL_INCIDENT_PAGE = expect(anonymous=SIGN_IN, customer_a=200, customer_b=404, agent=TO_LIST)
TO_INCIDENT = staff_post("incidents:incident")


def build_pages(world: World) -> None:
    world.incident_a = make_incident("Mail is down", services=[world.service], organisations=[world.org_a])
    for audience in (Audience.INTERNAL, Audience.CUSTOMERS):
        AudiencePlan.objects.get_or_create(incident=world.incident_a, audience=audience)
    world.step_a = RecoveryStep.objects.create(incident=world.incident_a, title="Restart the relay")


def _incident(w: World) -> dict[str, str]:
    return {"public_id": w.incident_a.public_id}


def _declare(w: World) -> dict[str, Any]:
    return {
        "title": "Printing is down",
        "severity": "sev2",
        "visibility": "customers",
        f"status_{w.service.public_id}": "major_outage",
    }


def _update(w: World) -> dict[str, Any]:
    return {"audiences": ["internal"], "status": "identified", "body": "Restarting the relay."}


def _step(w: World) -> dict[str, Any]:
    return {"new-step-title": "Check the queues"}


def _step_edit(w: World) -> dict[str, Any]:
    prefix = f"step-{w.step_a.public_id}"
    return {f"{prefix}-title": "Restart the relay", f"{prefix}-status": "in_progress"}


PAGE_ROWS = [
    Page("incidents:list", STAFF_PAGE),
    Page("incidents:declare", STAFF_PAGE),
    Page("incidents:declare", TO_INCIDENT, method="POST", data=_declare),
    # Without ?ticket= the page asks for one (the rows of a ticket are in test_pages_declare).
    Page("incidents:link", STAFF_PAGE),
    Page("incidents:incident", STAFF_PAGE, kwargs=_incident),
    Page(
        "incidents:link_tickets",
        TO_INCIDENT,
        kwargs=_incident,
        method="POST",
        data=lambda w: {"ticket": w.ticket_a.public_id},
    ),
    Page("incidents:update_post", TO_INCIDENT, kwargs=_incident, method="POST", data=_update),
    Page(
        "incidents:plan_set",
        TO_INCIDENT,
        kwargs=lambda w: {"public_id": w.incident_a.public_id, "audience": "internal"},
        method="POST",
        data=lambda w: {"plan-internal-cadence_minutes": 20, "plan-internal-is_active": "on"},
    ),
    Page("incidents:step_add", TO_INCIDENT, kwargs=_incident, method="POST", data=_step),
    Page(
        "incidents:step_edit",
        TO_INCIDENT,
        kwargs=lambda w: {"public_id": w.incident_a.public_id, "step_id": w.step_a.public_id},
        method="POST",
        data=_step_edit,
    ),
    Page("incidents:eta_set", TO_INCIDENT, kwargs=_incident, method="POST", data=lambda w: {"confidence": ""}),
    Page("incidents:plan_publish", TO_INCIDENT, kwargs=_incident, method="POST"),
    Page("incidents:resolve", TO_INCIDENT, kwargs=_incident, method="POST", data=lambda w: {"body": "Mail flows."}),
    Page(
        "incidents:change",
        TO_INCIDENT,
        kwargs=_incident,
        method="POST",
        data=lambda w: {"title": "Mail is down", "severity": "sev1", "visibility": "customers"},
    ),
    Page("incidents:portal", PORTAL_PAGE),
    Page("incidents:portal_incident", PORTAL_INCIDENT_PAGE, kwargs=_incident),
]

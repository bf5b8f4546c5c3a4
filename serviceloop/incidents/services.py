"""The writes of the incidents app's communication: one import for every room (services_*.py)."""

from __future__ import annotations

from serviceloop.incidents.comms_templates import UpdateTemplate, update_templates
from serviceloop.incidents.services_cadence import cadence_check
from serviceloop.incidents.services_declare import (
    audience_plan_set,
    component_status_move,
    incident_change,
    incident_declare,
    incident_link_ticket,
    incident_services_set,
)
from serviceloop.incidents.services_recovery import (
    incident_eta_set,
    recovery_plan_publish,
    recovery_step_add,
    recovery_step_update,
)
from serviceloop.incidents.services_updates import compose_body, incident_resolve, incident_update_post, published_plan

__all__ = [
    "UpdateTemplate",
    "audience_plan_set",
    "cadence_check",
    "component_status_move",
    "compose_body",
    "incident_change",
    "incident_declare",
    "incident_eta_set",
    "incident_link_ticket",
    "incident_resolve",
    "incident_services_set",
    "incident_update_post",
    "published_plan",
    "recovery_plan_publish",
    "recovery_step_add",
    "recovery_step_update",
    "update_templates",
]

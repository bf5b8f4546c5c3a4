"""Authorisation rows for incidents: the public status page, its feeds and its Statuspage JSON are
public pages (everyone, signed in or not, gets the same answer)."""

from __future__ import annotations

from serviceloop.core.authz_matrix import PUBLIC_PAGE, Page, World
from serviceloop.incidents.models import ComponentStatus
from serviceloop.incidents.tests.factories_status import make_component, make_incident, make_update

JSON_NAMES = [
    "summary",
    "status",
    "components",
    "incidents",
    "incidents_unresolved",
    "maintenances",
    "maintenances_upcoming",
    "maintenances_active",
]


def build(world: World) -> None:
    component = make_component(world.users["manager"], "Status authz mail")
    world.status_incident = make_incident("Status authz outage", services={component.service: ComponentStatus.MAJOR})
    make_update(world.status_incident, "We are looking into it.")


STATUS_PAGES = [
    Page("status:page", PUBLIC_PAGE),
    Page("status:history", PUBLIC_PAGE),
    Page("status:uptime", PUBLIC_PAGE),
    Page("status:incident", PUBLIC_PAGE, kwargs=lambda w: {"public_id": w.status_incident.public_id}),
    Page("status:history_atom", PUBLIC_PAGE),
    Page("status:history_rss", PUBLIC_PAGE),
    *[Page(f"status:api_{name}", PUBLIC_PAGE) for name in JSON_NAMES],
    *[Page(f"status_api:{name}", PUBLIC_PAGE) for name in JSON_NAMES],
]

PAGES = STATUS_PAGES
ENDPOINTS: list = []

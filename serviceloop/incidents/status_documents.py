"""The JSON documents of Atlassian Statuspage's public v2 API, built from the status queries.

Field names and values are Statuspage's (docs/status-page.md has the mapping from our states), so
clients written for Statuspage read ours unchanged. Ids are our public ids; times are ISO 8601 with
the offset of the page's time zone and milliseconds, as Statuspage writes them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.conf import settings

from serviceloop.incidents import status
from serviceloop.incidents.models import (
    IMPACT_OF_SEVERITY,
    Component,
    ComponentGroup,
    Incident,
    IncidentUpdate,
    Severity,
)

Document = dict[str, Any]


def when(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(status.page_zone()).isoformat(timespec="milliseconds")


def day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


class Snapshot:
    """The components and their states, read once per request and shared by the documents."""

    def __init__(self) -> None:
        self.components = status.public_components()
        self.states = status.component_states(c.service_id for c in self.components)
        self.page_id = status.page_id()
        self._updated_at: datetime | None = None
        self._read_updated = False

    def state(self, component: Component) -> str:
        return self.states[component.service_id]

    @property
    def updated_at(self) -> datetime | None:
        if not self._read_updated:
            self._updated_at = status.page_updated_at(self.components)
            self._read_updated = True
        return self._updated_at

    def page(self) -> Document:
        return {
            "id": self.page_id,
            "name": settings.SERVICELOOP_STATUS_PAGE_NAME,
            "url": status.page_url(),
            "time_zone": settings.SERVICELOOP_STATUS_TIME_ZONE,
            "updated_at": when(self.updated_at),
        }

    def indicator(self, open_incidents: list[Incident]) -> Document:
        indicator, description = status.rollup(
            [self.state(c) for c in self.components], [IMPACT_OF_SEVERITY[Severity(i.severity)] for i in open_incidents]
        )
        return {"indicator": indicator, "description": description}


def component(snapshot: Snapshot, row: Component) -> Document:
    return {
        "id": row.public_id,
        "name": row.name,
        "status": snapshot.state(row),
        "created_at": when(row.created_at),
        "updated_at": when(row.updated_at),
        "position": row.position,
        "description": row.description or None,
        "showcase": row.showcase,
        "start_date": day(row.start_date),
        "group_id": row.group.public_id if row.group else None,
        "page_id": snapshot.page_id,
        "group": False,
        "only_show_if_degraded": row.only_show_if_degraded,
    }


def _group(snapshot: Snapshot, group: ComponentGroup, members: list[Component]) -> Document:
    worst = status.resolve_status(
        maintenance=False, incident_statuses=[snapshot.state(m) for m in members]
    )  # a group shows its worst member; maintenance of one member is not the group's
    return {
        "id": group.public_id,
        "name": group.name,
        "status": worst,
        "created_at": when(group.created_at),
        "updated_at": when(group.updated_at),
        "position": group.position,
        "description": group.description or None,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": snapshot.page_id,
        "group": True,
        "only_show_if_degraded": False,
        "components": [m.public_id for m in members],
    }


def components(snapshot: Snapshot) -> list[Document]:
    """Components in page order, each group (a component with `group: true`) before its members."""
    members: dict[int, list[Component]] = {}
    for row in snapshot.components:
        if row.group_id is not None:
            members.setdefault(row.group_id, []).append(row)
    result: list[Document] = []
    for row in snapshot.components:
        if row.group is not None and members[row.group.pk][0] is row:
            result.append(_group(snapshot, row.group, members[row.group.pk]))
        result.append(component(snapshot, row))
    return result


def public_status(incident: Incident) -> str:
    if incident.kind == Incident.Kind.INCIDENT and status.is_postmortem(incident):
        return "postmortem"
    return incident.status


def affected_components(update: IncidentUpdate, codes: dict[str, str]) -> list[Document]:
    """The update's component changes, named by component id, public components only."""
    result = []
    for item in update.affected_components or []:
        if not isinstance(item, dict) or item.get("code") not in codes:
            continue
        result.append(
            {
                "code": codes[item["code"]],
                "name": item.get("name", ""),
                "old_status": item.get("old_status"),
                "new_status": item.get("new_status"),
            }
        )
    return result


def incident_update(update: IncidentUpdate, codes: dict[str, str]) -> Document:
    return {
        "id": update.public_id,
        "status": update.status,
        "body": update.body,
        "incident_id": update.incident.public_id,
        "created_at": when(update.created_at),
        "updated_at": when(update.updated_at),
        "display_at": when(update.display_at),
        "affected_components": affected_components(update, codes),
        "deliver_notifications": update.deliver_notifications,
    }


def incident(snapshot: Snapshot, row: Incident) -> Document:
    affected = [a.service.status_component for a in getattr(row, "public_affected", [])]
    codes = {c.service.public_id: c.public_id for c in affected}
    maintenance = row.kind == Incident.Kind.MAINTENANCE
    document: Document = {
        "id": row.public_id,
        "name": row.title,
        "status": public_status(row),
        "created_at": when(row.created_at),
        "updated_at": when(row.updated_at),
        "monitoring_at": when(row.monitoring_at),
        "resolved_at": when(row.completed_at if maintenance else row.resolved_at),
        "impact": "maintenance" if maintenance else IMPACT_OF_SEVERITY[Severity(row.severity)],
        "shortlink": status.incident_url(row),
        "started_at": when(row.started_at if maintenance else (row.impact_started_at or row.declared_at)),
        "page_id": snapshot.page_id,
        "incident_updates": [incident_update(u, codes) for u in getattr(row, "public_updates", [])],
        "components": [component(snapshot, c) for c in affected],
    }
    if maintenance:
        document["scheduled_for"] = when(row.scheduled_for)
        document["scheduled_until"] = when(row.scheduled_until)
    return document


def incidents_list(snapshot: Snapshot, rows: list[Incident]) -> list[Document]:
    return [incident(snapshot, row) for row in rows]


# --- the documents ----------------------------------------------------------------------------


def status_document() -> Document:
    snapshot = Snapshot()
    return {"page": snapshot.page(), "status": snapshot.indicator(status.open_incidents())}


def components_document() -> Document:
    snapshot = Snapshot()
    return {"page": snapshot.page(), "components": components(snapshot)}


def summary_document() -> Document:
    snapshot = Snapshot()
    open_rows = status.open_incidents()
    return {
        "page": snapshot.page(),
        "components": components(snapshot),
        "incidents": incidents_list(snapshot, open_rows),
        "scheduled_maintenances": incidents_list(snapshot, status.upcoming_and_active()),
        "status": snapshot.indicator(open_rows),
    }


def incidents_document(*, unresolved: bool = False) -> Document:
    snapshot = Snapshot()
    rows = status.open_incidents() if unresolved else status.recent_incidents()
    return {"page": snapshot.page(), "incidents": incidents_list(snapshot, rows)}


MAINTENANCE_SETS: dict[str, list[str] | None] = {
    "all": None,
    "upcoming": [Incident.Status.SCHEDULED],
    "active": list(Incident.MAINTENANCE_ACTIVE),
}


def maintenances_document(which: str = "all") -> Document:
    snapshot = Snapshot()
    statuses = MAINTENANCE_SETS[which]
    rows = status.maintenances(statuses)
    if which != "all":
        rows.sort(key=lambda m: (m.scheduled_for or m.created_at, m.pk))
    return {"page": snapshot.page(), "scheduled_maintenances": incidents_list(snapshot, rows)}

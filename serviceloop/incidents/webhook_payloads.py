"""The bodies our status webhooks POST, in Atlassian Statuspage's shape (ANCHORS: its webhook contract).

Two kinds of body, one event per POST:

- `incident`: an incident or a maintenance (a maintenance has `scheduled_for`) with its public
  updates, newest first, and the components it affects;
- `component_update`: one component whose status an update changed (`old_status` → `new_status`)
  with the component as it stands.

Both carry `meta` {unsubscribe, documentation} and `page` {id, name, url}. Ids are our public ids.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.urls import reverse

from serviceloop.incidents.models import (
    IMPACT_OF_SEVERITY,
    Audience,
    Component,
    ComponentStatus,
    Incident,
    IncidentUpdate,
    Review,
    Subscription,
)
from serviceloop.incidents.status import page_id


def _time(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def incident_url(incident: Incident) -> str:
    """The incident's page on the public status page (written by the status page's pages)."""
    return f"{settings.SITE_URL}/status/incidents/{incident.public_id}/"


def unsubscribe_url(subscription: Subscription) -> str:
    return settings.SITE_URL + reverse("status_subscribe:unsubscribe", kwargs={"token": subscription.token})


def documentation_url() -> str:
    return settings.SITE_URL + reverse("status_subscribe:webhooks")


def meta(subscription: Subscription) -> dict[str, str]:
    return {"unsubscribe": unsubscribe_url(subscription), "documentation": documentation_url()}


def page() -> dict[str, str]:
    """The page as the status JSON names it (`page.id`, `page.name`), so a receiver can match them."""
    return {"id": page_id(), "name": settings.SERVICELOOP_STATUS_PAGE_NAME, "url": f"{settings.SITE_URL}/status/"}


def public_status(incident: Incident) -> str:
    """Statuspage reports "postmortem" for a resolved incident whose review is published."""
    if incident.kind == Incident.Kind.INCIDENT and incident.status == Incident.Status.RESOLVED:
        review = Review.objects.filter(incident=incident, status=Review.Status.PUBLISHED).exists()
        if review:
            return "postmortem"
    return str(incident.status)


def impact(incident: Incident) -> str:
    if incident.kind == Incident.Kind.MAINTENANCE:
        return "maintenance"
    return IMPACT_OF_SEVERITY.get(incident.severity, "none")  # type: ignore[call-overload, no-any-return]


def public_updates(incident: Incident) -> list[IncidentUpdate]:
    return [u for u in incident.updates.order_by("-display_at", "-pk") if Audience.PUBLIC in (u.audiences or [])]


def _public_changes(update: IncidentUpdate, codes: dict[str, Component]) -> list[dict[str, Any]]:
    """The update's component changes on public components only, named by component id (as the
    status page's JSON does): a non-public service never reaches a subscriber."""
    found = []
    for item in update.affected_components or []:
        if isinstance(item, dict) and item.get("code") in codes:
            component = codes[item["code"]]
            found.append(
                {
                    "code": component.public_id,
                    "name": component.name,
                    "old_status": item.get("old_status"),
                    "new_status": item.get("new_status"),
                }
            )
    return found


def _public_codes(updates: list[IncidentUpdate]) -> dict[str, Component]:
    """The public components the updates' changes name (by service id), in one statement."""
    named = {
        item["code"]
        for update in updates
        for item in update.affected_components or []
        if isinstance(item, dict) and isinstance(item.get("code"), str)
    }
    if not named:
        return {}
    rows = Component.objects.filter(is_public=True, service__public_id__in=named).select_related("service")
    return {c.service.public_id: c for c in rows}


def _update_body(update: IncidentUpdate, incident: Incident, codes: dict[str, Component]) -> dict[str, Any]:
    return {
        "id": update.public_id,
        "incident_id": incident.public_id,
        "status": update.status,
        "body": update.body,
        "created_at": _time(update.created_at),
        "updated_at": _time(update.updated_at),
        "display_at": _time(update.display_at),
        "affected_components": _public_changes(update, codes),
        "deliver_notifications": update.deliver_notifications,
    }


def component_body(component: Component, status: str) -> dict[str, Any]:
    return {
        "id": component.public_id,
        "name": component.name,
        "status": status,
        "created_at": _time(component.created_at),
        "updated_at": _time(component.updated_at),
        "position": component.position,
        "description": component.description or None,
        "showcase": component.showcase,
        "start_date": component.start_date.isoformat() if component.start_date else None,
        "group_id": component.group.public_id if component.group else None,
        "page_id": page()["id"],
        "group": False,
        "only_show_if_degraded": component.only_show_if_degraded,
    }


def _components(incident: Incident) -> list[dict[str, Any]]:
    rows = incident.affected_services.select_related("service__status_component__group")
    found = []
    for affected in rows:
        component = getattr(affected.service, "status_component", None)
        if component is None or not component.is_public:
            continue
        status = affected.component_status if incident.is_open else ComponentStatus.OPERATIONAL
        found.append(component_body(component, str(status)))
    return found


def incident_payload(incident: Incident, subscription: Subscription) -> dict[str, Any]:
    updates = public_updates(incident)
    codes = _public_codes(updates)
    body: dict[str, Any] = {
        "id": incident.public_id,
        "name": incident.title,
        "status": public_status(incident),
        "impact": impact(incident),
        "created_at": _time(incident.declared_at or incident.created_at),
        "updated_at": _time(incident.updated_at),
        "monitoring_at": _time(incident.monitoring_at),
        "resolved_at": _time(incident.resolved_at or incident.completed_at),
        "shortlink": incident_url(incident),
        "page_id": page()["id"],
        "incident_updates": [_update_body(u, incident, codes) for u in updates],
        "components": _components(incident),
    }
    if incident.kind == Incident.Kind.MAINTENANCE:
        body["scheduled_for"] = _time(incident.scheduled_for)
        body["scheduled_until"] = _time(incident.scheduled_until)
    return {"meta": meta(subscription), "page": page(), "incident": body}


def component_update_payload(
    *, component: Component, change: dict[str, Any], update: IncidentUpdate, subscription: Subscription
) -> dict[str, Any]:
    return {
        "meta": meta(subscription),
        "page": page(),
        "component_update": {
            "id": f"{update.public_id}-{component.public_id}",
            "component_id": component.public_id,
            "created_at": _time(update.display_at),
            "old_status": change.get("old_status") or ComponentStatus.OPERATIONAL,
            "new_status": change.get("new_status") or ComponentStatus.OPERATIONAL,
        },
        "component": component_body(component, str(change.get("new_status") or ComponentStatus.OPERATIONAL)),
    }

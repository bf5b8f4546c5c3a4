"""Queries of the public status page: what it shows, read only, the same for every visitor.

Only components with `is_public` and incidents or maintenance with `visibility=public` are ever
read here, and of their updates only those addressed to the public audience, so nothing internal
or meant for one organisation can reach the page, the JSON documents or the feeds. A non-public
incident does not change a public component's state either (the state would tell of it).

Every query is a fixed number of statements whatever the number of incidents, updates or days
(prefetches, one history read for all components).
"""

from __future__ import annotations

import hashlib
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from django.conf import settings
from django.db.models import Max, Prefetch, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.urls import reverse

from serviceloop.catalogue.models import Service
from serviceloop.core import clock
from serviceloop.incidents import uptime
from serviceloop.incidents.models import (
    AffectedService,
    Audience,
    Component,
    ComponentStatus,
    ComponentStatusChange,
    Incident,
    IncidentUpdate,
    RecoveryStep,
    Review,
)
from serviceloop.incidents.uptime import DayUptime, MonthUptime

PUBLIC = Incident.Visibility.PUBLIC
INCIDENT = Incident.Kind.INCIDENT
MAINTENANCE = Incident.Kind.MAINTENANCE
RECENT_LIMIT = 50  # Statuspage's incidents.json: the 50 most recent


# --- the page ---------------------------------------------------------------------------------


def page_zone() -> tzinfo:
    try:
        return zoneinfo.ZoneInfo(settings.SERVICELOOP_STATUS_TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def page_id() -> str:
    """A stable id for the page (Statuspage's `page.id`), derived from the site's address."""
    return hashlib.sha256(settings.SITE_URL.encode()).hexdigest()[:12]


def page_url() -> str:
    return settings.SITE_URL + reverse("status:page")


def incident_url(incident: Incident) -> str:
    return settings.SITE_URL + reverse("status:incident", kwargs={"public_id": incident.public_id})


def page_updated_at(components: Sequence[Component]) -> datetime | None:
    """The last change anything on the page saw: a public incident, one of its updates, a component."""
    incidents = Incident.objects.filter(visibility=PUBLIC).aggregate(latest=Max("updated_at"))["latest"]
    updates = public_updates().filter(incident__visibility=PUBLIC).aggregate(latest=Max("updated_at"))["latest"]
    times = [t for t in (incidents, updates, *(c.updated_at for c in components)) if t is not None]
    return max(times, default=None)


# --- components and their states ------------------------------------------------------------


def public_components() -> list[Component]:
    return list(Component.objects.filter(is_public=True).select_related("service", "group"))


WORST: list[str] = [
    ComponentStatus.OPERATIONAL.value,
    ComponentStatus.DEGRADED.value,
    ComponentStatus.PARTIAL.value,
    ComponentStatus.MAJOR.value,
]


def resolve_status(*, maintenance: bool, incident_statuses: Iterable[str]) -> str:
    """One component's state: the worst open incident's, but an active maintenance shows unless an
    outage (partial or major) beats it."""
    statuses = list(incident_statuses)
    maintenance = maintenance or ComponentStatus.MAINTENANCE in statuses
    ranked = [s for s in statuses if s in WORST]
    worst = max(ranked, key=WORST.index, default=ComponentStatus.OPERATIONAL.value)
    if maintenance and worst not in (ComponentStatus.PARTIAL, ComponentStatus.MAJOR):
        return ComponentStatus.MAINTENANCE.value
    return worst


def component_states(service_ids: Iterable[int]) -> dict[int, str]:
    """The current state of each service (operational when nothing public touches it)."""
    ids = list(service_ids)
    rows = AffectedService.objects.filter(service_id__in=ids, incident__visibility=PUBLIC).filter(
        Q(incident__kind=INCIDENT, incident__status__in=Incident.OPEN_INCIDENT)
        | Q(incident__kind=MAINTENANCE, incident__status__in=Incident.MAINTENANCE_ACTIVE)
    )
    maintenance: set[int] = set()
    statuses: dict[int, list[str]] = {}
    for service_id, kind, status in rows.values_list("service_id", "incident__kind", "component_status"):
        if kind == MAINTENANCE:
            maintenance.add(service_id)
        else:
            statuses.setdefault(service_id, []).append(status)
    return {i: resolve_status(maintenance=i in maintenance, incident_statuses=statuses.get(i, [])) for i in ids}


# --- the page's indicator -------------------------------------------------------------------

ONE_COMPONENT = {
    ComponentStatus.OPERATIONAL: ("none", "All Systems Operational"),
    ComponentStatus.MAINTENANCE: ("none", "Service Under Maintenance"),
    ComponentStatus.DEGRADED: ("minor", "Partially Degraded Service"),
    ComponentStatus.PARTIAL: ("major", "Partial System Outage"),
    ComponentStatus.MAJOR: ("critical", "Major System Outage"),
}
INDICATORS = ["none", "minor", "major", "critical"]
# The description when an open incident's impact, not a component, sets the indicator.
OF_IMPACT = {"minor": "Minor Service Outage", "major": "Partial System Outage", "critical": "Major System Outage"}


def rollup(statuses: Sequence[str], impacts: Iterable[str] = ()) -> tuple[str, str]:
    """Statuspage's `status{indicator, description}` from the components' states and the impacts
    of the open public incidents (docs/status-page.md, "The page's indicator")."""
    counted = [s for s in statuses if s != ComponentStatus.MAINTENANCE]
    if len(statuses) == 1:
        indicator, description = ONE_COMPONENT[ComponentStatus(statuses[0])]
    elif ComponentStatus.MAJOR in counted:
        everything = all(s == ComponentStatus.MAJOR for s in counted)
        indicator, description = (
            ("critical", "Major System Outage") if everything else ("major", "Partial System Outage")
        )
    elif ComponentStatus.PARTIAL in counted:
        indicator, description = "major", "Partial System Outage"
    elif ComponentStatus.DEGRADED in counted:
        indicator, description = "minor", "Partially Degraded Service"
    elif ComponentStatus.MAINTENANCE in statuses:
        indicator, description = "none", "Service Under Maintenance"
    else:
        indicator, description = "none", "All Systems Operational"
    raised = max((i for i in impacts if i in OF_IMPACT), key=INDICATORS.index, default="none")
    if INDICATORS.index(raised) > INDICATORS.index(indicator):
        return raised, OF_IMPACT[raised]
    return indicator, description


# --- incidents and maintenance --------------------------------------------------------------


def public_updates() -> QuerySet[IncidentUpdate]:
    """Updates addressed to the public audience (the JSON list is matched as text: it works alike on
    SQLite and PostgreSQL, where a JSON `contains` lookup does not)."""
    return (
        IncidentUpdate.objects.annotate(audience_text=Cast("audiences", TextField()))
        .filter(audience_text__contains=f'"{Audience.PUBLIC.value}"')
        .order_by("-display_at", "-pk")
    )


def public_incidents() -> QuerySet[Incident]:
    """Public incidents and maintenance with what the page shows of them, prefetched."""
    return (
        Incident.objects.filter(visibility=PUBLIC)
        .select_related("review")
        .prefetch_related(
            Prefetch("updates", queryset=public_updates(), to_attr="public_updates"),
            Prefetch(
                "affected_services",
                queryset=AffectedService.objects.filter(service__status_component__is_public=True).select_related(
                    "service__status_component"
                ),
                to_attr="public_affected",
            ),
            Prefetch(
                "recovery_steps", queryset=RecoveryStep.objects.filter(customer_facing=True), to_attr="public_steps"
            ),
        )
    )


def open_incidents() -> list[Incident]:
    return list(public_incidents().filter(kind=INCIDENT, status__in=Incident.OPEN_INCIDENT))


def recent_incidents(limit: int = RECENT_LIMIT) -> list[Incident]:
    return list(public_incidents().filter(kind=INCIDENT)[:limit])


def maintenances(statuses: Sequence[str] | None = None, limit: int = RECENT_LIMIT) -> list[Incident]:
    rows = public_incidents().filter(kind=MAINTENANCE)
    if statuses is not None:
        rows = rows.filter(status__in=statuses)
    return list(rows.order_by("-scheduled_for", "-pk")[:limit])


def upcoming_and_active() -> list[Incident]:
    """Scheduled and in-progress maintenance, soonest first (summary.json's list)."""
    rows = maintenances([Incident.Status.SCHEDULED, *Incident.MAINTENANCE_ACTIVE])
    return sorted(rows, key=lambda m: (m.scheduled_for or m.created_at, m.pk))


def incident_for(public_id: str) -> Incident | None:
    return public_incidents().filter(public_id=public_id).first()


def is_postmortem(incident: Incident) -> bool:
    review: Review | None = getattr(incident, "review", None)
    return review is not None and review.status == Review.Status.PUBLISHED


def published_steps(incident: Incident) -> list[RecoveryStep]:
    """The customer-facing recovery steps, once the team has published the plan."""
    return list(getattr(incident, "public_steps", [])) if incident.plan_published_at else []


def past_incidents(start: datetime, end: datetime) -> list[Incident]:
    """Public incidents and maintenance that began in [start, end), newest first."""
    began = (
        Q(kind=INCIDENT, declared_at__gte=start, declared_at__lt=end)
        | Q(kind=INCIDENT, declared_at__isnull=True, created_at__gte=start, created_at__lt=end)
        | Q(kind=MAINTENANCE, scheduled_for__gte=start, scheduled_for__lt=end)
    )
    rows = list(public_incidents().filter(began))
    return sorted(rows, key=began_at, reverse=True)


def began_at(incident: Incident) -> datetime:
    if incident.kind == MAINTENANCE and incident.scheduled_for is not None:
        return incident.scheduled_for
    return incident.declared_at or incident.created_at


# --- uptime -----------------------------------------------------------------------------------


@dataclass
class History:
    """What the uptime of some services is computed from, read once for all of them."""

    changes: dict[int, list[uptime.Change]] = field(default_factory=dict)
    maintenance: dict[int, list[uptime.Window]] = field(default_factory=dict)
    counted_from: dict[int, datetime] = field(default_factory=dict)


def _ref(incident: Incident) -> uptime.IncidentRef:
    return uptime.IncidentRef(incident.public_id, incident.title)


def history(services: Sequence[Service], start: datetime, end: datetime, *, public_only: bool) -> History:
    """The status changes and maintenance windows of `services` that touch [start, end), in two
    statements. With `public_only`, only public incidents count (the public page)."""
    ids = [s.pk for s in services]
    visible = Q(incident__visibility=PUBLIC) if public_only else Q()
    still_open = Q(incident__resolved_at__isnull=True, incident__completed_at__isnull=True)
    touching = ComponentStatusChange.objects.filter(visible, service_id__in=ids, started_at__lt=end).filter(
        Q(ended_at__gt=start)
        | Q(ended_at__isnull=True, incident__resolved_at__gt=start)
        | Q(ended_at__isnull=True, incident__completed_at__gt=start)
        | Q(ended_at__isnull=True) & still_open
    )
    rows = ComponentStatusChange.objects.filter(
        service_id__in=ids, incident_id__in=touching.values("incident_id")
    ).select_related("incident")
    result = History()
    for row in rows:
        incident = row.incident
        closed = incident.resolved_at or incident.completed_at
        change = uptime.Change(_ref(incident), row.status, row.started_at, row.ended_at, closed)
        result.changes.setdefault(row.service_id, []).append(change)
    windows = AffectedService.objects.filter(
        visible, service_id__in=ids, incident__kind=MAINTENANCE, incident__started_at__lt=end
    ).filter(Q(incident__completed_at__isnull=True) | Q(incident__completed_at__gt=start))
    now = clock.now()
    for service_id, began, completed in windows.values_list(
        "service_id", "incident__started_at", "incident__completed_at"
    ):
        if began is not None:
            result.maintenance.setdefault(service_id, []).append((began, completed or now))
    zone = page_zone()
    for service in services:
        component: Component | None = getattr(service, "status_component", None)
        first_day: date = (
            component.start_date
            if component is not None and component.start_date
            else service.created_at.astimezone(zone).date()
        )
        result.counted_from[service.pk] = uptime.day_bounds(first_day, zone)[0]
    return result


def _spans(data: History, service: Service, now: datetime) -> list[uptime.Span]:
    return uptime.spans_of(data.changes.get(service.pk, []), now)


def daily_uptime_of(
    services: Sequence[Service], days: int = 90, now: datetime | None = None, *, public_only: bool = False
) -> dict[int, list[DayUptime]]:
    """`daily_uptime` of several services at once (the page's bars: one read for all)."""
    now = now or clock.now()
    zone = page_zone()
    start = uptime.day_bounds(now.astimezone(zone).date() - timedelta(days=days - 1), zone)[0]
    data = history(services, start, now, public_only=public_only)
    return {
        s.pk: uptime.daily(
            _spans(data, s, now),
            data.maintenance.get(s.pk, []),
            days=days,
            now=now,
            zone=zone,
            counted_from=data.counted_from[s.pk],
        )
        for s in services
    }


def daily_uptime(
    service: Service, days: int = 90, now: datetime | None = None, *, public_only: bool = False
) -> list[DayUptime]:
    """The last `days` days of the service (today included, partial), oldest first."""
    return daily_uptime_of([service], days, now, public_only=public_only)[service.pk]


def uptime_percent(
    service: Service, start: datetime, end: datetime, *, public_only: bool = False, now: datetime | None = None
) -> float | None:
    """Uptime % of [start, end) (up to now); None when no time in it was agreed."""
    now = now or clock.now()
    end = min(end, now)
    data = history([service], start, end, public_only=public_only)
    agreed, down = uptime.agreed_and_down(
        _spans(data, service, now), data.maintenance.get(service.pk, []), start, end, data.counted_from[service.pk]
    )
    return uptime.percent(agreed, down)


def monthly_uptime_of(
    services: Sequence[Service], months: int = 12, now: datetime | None = None, *, public_only: bool = False
) -> dict[int, list[MonthUptime]]:
    now = now or clock.now()
    zone = page_zone()
    start = uptime.day_bounds(uptime.month_starts(now, zone, months)[0], zone)[0]
    data = history(services, start, now, public_only=public_only)
    return {
        s.pk: uptime.monthly(
            _spans(data, s, now),
            data.maintenance.get(s.pk, []),
            months=months,
            now=now,
            zone=zone,
            counted_from=data.counted_from[s.pk],
        )
        for s in services
    }


def monthly_uptime(
    service: Service, months: int = 12, now: datetime | None = None, *, public_only: bool = False
) -> list[MonthUptime]:
    """The last `months` calendar months (this one included, partial), oldest first."""
    return monthly_uptime_of([service], months, now, public_only=public_only)[service.pk]

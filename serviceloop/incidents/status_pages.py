"""What the status page's HTML shows, gathered from the status queries (no database access of its own)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from serviceloop.incidents import status, uptime
from serviceloop.incidents.models import (
    IMPACT_OF_SEVERITY,
    Component,
    ComponentGroup,
    ComponentStatus,
    Incident,
    Severity,
)
from serviceloop.incidents.uptime import DayUptime

DAYS = 90
PAST_DAYS = 14
MONTHS = 12

# Each state has a word and a shape, never a colour alone.
ICON = {
    ComponentStatus.OPERATIONAL: "✓",
    ComponentStatus.DEGRADED: "◐",
    ComponentStatus.PARTIAL: "▲",
    ComponentStatus.MAJOR: "✕",
    ComponentStatus.MAINTENANCE: "⚙",
}


@dataclass(frozen=True)
class State:
    code: str
    label: str
    icon: str


def state_of(code: str) -> State:
    member = ComponentStatus(code)
    return State(member.value, str(member.label), ICON[member])


@dataclass(frozen=True)
class Bar:
    day: date
    css: str
    text: str


@dataclass(frozen=True)
class ComponentRow:
    component: Component
    state: State
    bars: list[Bar]
    uptime: float | None


@dataclass(frozen=True)
class GroupRows:
    group: ComponentGroup | None
    rows: list[ComponentRow]


@dataclass(frozen=True)
class Past:
    day: date
    incidents: list[Incident]


def format_percent(value: float | None) -> str:
    if value is None:
        return "no data"
    # Never round a bad day up to 100%.
    text = f"{value:.2f}"
    return "99.99%" if text == "100.00" and value < 100 else f"{text}%"


def bar_of(day: DayUptime) -> Bar:
    label = day.date.strftime("%d %b %Y")
    if day.percent is None:
        return Bar(day.date, "nodata", f"{label}: no data")
    names = "; ".join(ref.name for ref in day.incidents)
    text = f"{label}: {format_percent(day.percent)} uptime" + (f"; {names}" if names else "; no incidents")
    return Bar(day.date, day.worst_status, text)


def over(days: list[DayUptime]) -> float | None:
    return uptime.percent(sum(d.agreed_seconds for d in days), sum(d.down_seconds for d in days))


def _grouped(rows: list[ComponentRow]) -> list[GroupRows]:
    groups: list[GroupRows] = []
    for row in rows:
        group = row.component.group
        if not groups or groups[-1].group != group:
            groups.append(GroupRows(group, []))
        groups[-1].rows.append(row)
    return groups


def component_rows(now: datetime, *, for_page: bool) -> tuple[list[Component], dict[int, str], list[GroupRows]]:
    components = status.public_components()
    states = status.component_states(c.service_id for c in components)
    showcased = [c.service for c in components if c.showcase]
    days = status.daily_uptime_of(showcased, DAYS, now, public_only=True) if for_page else {}
    rows = []
    for component in components:
        state = states[component.service_id]
        if for_page and component.only_show_if_degraded and state == ComponentStatus.OPERATIONAL:
            continue
        history = days.get(component.service_id, [])
        rows.append(ComponentRow(component, state_of(state), [bar_of(d) for d in history], over(history)))
    return components, states, _grouped(rows)


def _day(value: datetime) -> date:
    return value.astimezone(status.page_zone()).date()


def page_context(now: datetime) -> dict[str, Any]:
    components, states, groups = component_rows(now, for_page=True)
    open_rows = status.open_incidents()
    indicator, description = status.rollup(
        [states[c.service_id] for c in components], [IMPACT_OF_SEVERITY[Severity(i.severity)] for i in open_rows]
    )
    maintenance = status.upcoming_and_active()
    today = _day(now)
    first = today - timedelta(days=PAST_DAYS - 1)
    start = uptime.day_bounds(first, status.page_zone())[0]
    past_rows = [i for i in status.past_incidents(start, now + timedelta(seconds=1)) if not i.is_open]
    by_day: dict[date, list[Incident]] = {}
    for row in past_rows:
        by_day.setdefault(_day(status.began_at(row)), []).append(row)
    past = [Past(today - timedelta(days=n), by_day.get(today - timedelta(days=n), [])) for n in range(PAST_DAYS)]
    return {
        "indicator": indicator,
        "description": description,
        "groups": groups,
        "has_components": bool(components),
        "open_incidents": [incident_card(i) for i in open_rows],
        "active_maintenance": [incident_card(m) for m in maintenance if m.is_open],
        "upcoming_maintenance": [incident_card(m) for m in maintenance if not m.is_open],
        "past": past,
        "days": DAYS,
    }


def incident_card(row: Incident) -> dict[str, Any]:
    review = getattr(row, "review", None)
    return {
        "incident": row,
        "impact": "maintenance"
        if row.kind == Incident.Kind.MAINTENANCE
        else IMPACT_OF_SEVERITY[Severity(row.severity)],
        "updates": getattr(row, "public_updates", []),
        "steps": status.published_steps(row),
        "affected": [a.service.status_component for a in getattr(row, "public_affected", [])],
        "postmortem": review.customer_summary if status.is_postmortem(row) and review is not None else "",
    }


def incident_context(row: Incident) -> dict[str, Any]:
    return {"card": incident_card(row)}


def history_context(first: date, today: date) -> dict[str, Any]:
    zone = status.page_zone()
    following = uptime.next_month(first)
    start, end = uptime.day_bounds(first, zone)[0], uptime.day_bounds(following, zone)[0]
    previous = (first - timedelta(days=1)).replace(day=1)
    return {
        "month": first,
        "cards": [incident_card(i) for i in status.past_incidents(start, end)],
        "previous": previous.strftime("%Y-%m") if previous.year >= 2000 else "",
        "next": following.strftime("%Y-%m") if following <= today else "",
    }


def uptime_context(now: datetime) -> dict[str, Any]:
    components = status.public_components()
    months = status.monthly_uptime_of([c.service for c in components], MONTHS, now, public_only=True)
    rows = [
        {
            "component": c,
            "months": [
                {"month": m.month, "text": format_percent(m.percent), "missed": _missed(m.percent, c)}
                for m in months[c.service_id]
            ],
        }
        for c in components
    ]
    return {"rows": rows, "month_heads": uptime.month_starts(now, status.page_zone(), MONTHS)}


def _missed(value: float | None, component: Component) -> bool:
    return value is not None and value < float(component.availability_target)

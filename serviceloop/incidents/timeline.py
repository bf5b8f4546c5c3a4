"""The timeline of an incident for its review: one ordered list in UTC, each entry backed by a row.

Sources: the incident's own instants (impact start and end, declared, resolved), the status changes
(the INCIDENT_STATUS_CHANGED events; identified and monitoring times when there are none), every
update (with its audiences), every ETA change, the recovery steps (added, done), the linked tickets
(opened, linked, resolved), the silences (started at the due time, ended) and the other durable
events recorded about the incident (reminders, alerts, plan published, review completed…).
Events that repeat a row already shown (update posted, ETA changed, ticket linked, declared,
resolved) are not shown twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.urls import NoReverseMatch, reverse

from serviceloop.core.models import Event
from serviceloop.incidents import events as names
from serviceloop.incidents.models import Audience, EtaChange, Incident, Silence

SHOWN_BY_ROWS = {
    names.INCIDENT_DECLARED,
    names.INCIDENT_RESOLVED,
    names.INCIDENT_UPDATE_POSTED,
    names.INCIDENT_ETA_CHANGED,
    names.INCIDENT_TICKET_LINKED,
}
EVENT_TEXT = {
    names.INCIDENT_UPDATE_DUE_SOON: "Reminder: the next update to {audience} is due soon",
    names.INCIDENT_UPDATE_OVERDUE: "Alert: the update to {audience} is overdue",
    names.INCIDENT_PLAN_PUBLISHED: "Recovery plan published",
    names.REVIEW_COMPLETED: "Review completed",
    names.REVIEW_PUBLISHED: "Review published on the status page",
    names.REVIEW_ACTION_CLOSED: "A review action closed ({outcome})",
}
AUDIENCE_NAMES = dict(Audience.choices)
BODY_SHOWN = 280


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime  # UTC
    kind: str  # impact, status, update, eta, step, ticket, silence, event
    text: str
    link: str = ""
    since_impact_minutes: float | None = None


def _ticket_link(public_id: str) -> str:
    try:
        return reverse("desk:ticket", kwargs={"public_id": public_id})
    except NoReverseMatch:
        return ""


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "none"


def _incident_entries(incident: Incident, status_events: bool) -> list[tuple[datetime, str, str, str]]:
    rows: list[tuple[datetime, str, str, str]] = []
    if incident.impact_started_at:
        rows.append((incident.impact_started_at, "impact", "Impact started", ""))
    if incident.declared_at:
        rows.append((incident.declared_at, "status", f"Declared {incident.get_severity_display()}", ""))
    if not status_events:
        if incident.identified_at:
            rows.append((incident.identified_at, "status", "Cause identified", ""))
        if incident.monitoring_at:
            rows.append((incident.monitoring_at, "status", "Fix in place, monitoring", ""))
    if incident.impact_ended_at:
        rows.append((incident.impact_ended_at, "impact", "Impact ended", ""))
    if incident.resolved_at:
        rows.append((incident.resolved_at, "status", "Resolved", ""))
    return rows


def _update_entries(incident: Incident) -> list[tuple[datetime, str, str, str]]:
    rows = []
    for update in incident.updates.all():
        audiences = ", ".join(AUDIENCE_NAMES.get(a, a) for a in update.audiences or []) or "nobody"
        body = update.body if len(update.body) <= BODY_SHOWN else update.body[: BODY_SHOWN - 1] + "…"
        label = update.get_kind_display()
        rows.append((update.display_at, "update", f"{label} ({update.status}) to {audiences}: {body}", ""))
    return rows


def _plan_entries(incident: Incident) -> list[tuple[datetime, str, str, str]]:
    rows = []
    for change in EtaChange.objects.filter(incident=incident).select_related("step"):
        what = f"step “{change.step.title}”" if change.step else "recovery"
        sure = f" ({change.confidence} confidence)" if change.confidence else ""
        rows.append((change.changed_at, "eta", f"ETA for {what} set to {_when(change.eta)}{sure}", ""))
    for step in incident.recovery_steps.all():
        rows.append((step.created_at, "step", f"Recovery step added: {step.title}", ""))
        if step.done_at:
            rows.append((step.done_at, "step", f"Recovery step done: {step.title}", ""))
    return rows


def _ticket_entries(incident: Incident) -> list[tuple[datetime, str, str, str]]:
    rows = []
    for link in incident.ticket_links.select_related("ticket"):
        ticket = link.ticket
        url = _ticket_link(ticket.public_id)
        rows.append((ticket.opened_at, "ticket", f"Ticket {ticket.reference} opened: {ticket.subject}", url))
        rows.append((link.created_at, "ticket", f"Ticket {ticket.reference} linked to the incident", url))
        if ticket.resolved_at:
            rows.append((ticket.resolved_at, "ticket", f"Ticket {ticket.reference} resolved", url))
    return rows


def _silence_entries(incident: Incident) -> list[tuple[datetime, str, str, str]]:
    rows = []
    for silence in Silence.objects.filter(plan__incident=incident).select_related("plan"):
        audience = AUDIENCE_NAMES.get(silence.plan.audience, silence.plan.audience)
        rows.append((silence.due_at, "silence", f"Silence began: no update to {audience} by its due time", ""))
        if silence.ended_at:
            rows.append((silence.ended_at, "silence", f"Silence ended: {audience} updated", ""))
    return rows


def _event_entries(events: list[Event]) -> list[tuple[datetime, str, str, str]]:
    rows = []
    for event in events:
        if event.name in SHOWN_BY_ROWS:
            continue
        data = event.data or {}
        if event.name == names.INCIDENT_STATUS_CHANGED:
            text = f"Status {data.get('old_status', '?')} → {data.get('new_status', '?')}"
            rows.append((event.created_at, "status", text, ""))
            continue
        template = EVENT_TEXT.get(event.name)
        audience = AUDIENCE_NAMES.get(str(data.get("audience", "")), str(data.get("audience", "")))
        text = template.format(audience=audience, outcome=data.get("outcome", "done")) if template else event.name
        if event.actor_label:
            text += f" — {event.actor_label}"
        rows.append((event.created_at, "event", text, ""))
    return rows


def incident_timeline(incident: Incident) -> list[TimelineEntry]:
    """Every entry in time order (ties keep the order of the sources above), in UTC."""
    events = list(
        Event.objects.filter(subject_type=Incident._meta.label_lower, subject_id=incident.pk).order_by(
            "created_at", "pk"
        )
    )
    status_events = any(e.name == names.INCIDENT_STATUS_CHANGED for e in events)
    rows = [
        *_incident_entries(incident, status_events),
        *_update_entries(incident),
        *_plan_entries(incident),
        *_ticket_entries(incident),
        *_silence_entries(incident),
        *_event_entries(events),
    ]
    origin = incident.impact_started_at or incident.declared_at
    entries = []
    for index, (at, kind, text, link) in sorted(enumerate(rows), key=lambda item: (item[1][0], item[0])):
        del index
        since = round((at - origin).total_seconds() / 60, 1) if origin else None
        entries.append(
            TimelineEntry(at=at.astimezone(UTC), kind=kind, text=text, link=link, since_impact_minutes=since)
        )
    return entries

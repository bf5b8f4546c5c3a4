"""Writing one demo incident or maintenance with its rows, consistently with the model contract.

An `Episode` says what happened: the statuses each affected service went through and when, the
incident's own instants, who ran it and how often each audience was told. `episode_write` turns it
into the `Incident` and its affected services, status changes, affected organisations, linked
tickets, communication plans and updates (at the plan's cadence, unless the episode lists its own).
Pure data in, ORM rows out; nothing here records an event or queues a mail (the demo is history).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from serviceloop.accounts.models import User
from serviceloop.catalogue.models import Service
from serviceloop.desk.models import Ticket
from serviceloop.incidents.models import (
    AffectedOrganisation,
    AffectedService,
    Audience,
    AudiencePlan,
    Channel,
    ComponentStatus,
    ComponentStatusChange,
    Incident,
    IncidentTicket,
    IncidentUpdate,
)
from serviceloop.incidents.references import next_reference
from serviceloop.relationships.models import Relationship

ALL_AUDIENCES: list[str] = [Audience.INTERNAL, Audience.CUSTOMERS, Audience.PUBLIC]
CHANNELS = {
    Audience.INTERNAL: [Channel.EMAIL],
    Audience.CUSTOMERS: [Channel.EMAIL, Channel.STATUS_PAGE],
    Audience.PUBLIC: [Channel.STATUS_PAGE, Channel.EMAIL],
}
STATUS_WORDS = {
    ComponentStatus.DEGRADED: "slower than usual",
    ComponentStatus.PARTIAL: "partly unavailable",
    ComponentStatus.MAJOR: "unavailable",
    ComponentStatus.MAINTENANCE: "under planned maintenance",
}


@dataclass
class Phase:
    """One stretch of one service's status during the episode (`until` None: still so)."""

    slug: str
    status: str
    since: datetime
    until: datetime | None


@dataclass
class Said:
    """One update as written: when, to whom, in which status, and what it said."""

    at: datetime
    status: str
    audiences: list[str]
    actions: str
    kind: str = IncidentUpdate.Kind.UPDATE
    next_in: int | None = 30  # minutes to the next update promised; None: no next update


@dataclass
class Episode:
    title: str
    problem: str  # what customers notice, for the updates ("mail is delayed")
    phases: list[Phase]
    kind: str = Incident.Kind.INCIDENT
    severity: str = "sev3"
    status: str = Incident.Status.RESOLVED
    visibility: str = Incident.Visibility.PUBLIC
    description: str = ""
    impact_started_at: datetime | None = None
    declared_at: datetime | None = None
    identified_at: datetime | None = None
    monitoring_at: datetime | None = None
    resolved_at: datetime | None = None
    scheduled_for: datetime | None = None
    scheduled_until: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    announced_at: datetime | None = None  # a maintenance's first notice
    notice_minutes: int | None = None
    cadence: dict[str, int] = field(default_factory=lambda: {Audience.PUBLIC: 60})
    said: list[Said] | None = None  # the updates, when not the regular ones at the cadence
    tickets: int = 0  # how many desk tickets opened meanwhile are linked, at most
    affected_slugs: list[str] = field(default_factory=list)  # services affected beside those of the phases

    @property
    def slugs(self) -> list[str]:
        return list(dict.fromkeys([*(p.slug for p in self.phases), *self.affected_slugs]))

    @property
    def begins(self) -> datetime:
        first = self.declared_at if self.kind == Incident.Kind.INCIDENT else self.announced_at
        assert first is not None  # nosec B101  # every demo episode has its start
        return first

    @property
    def ends(self) -> datetime | None:
        return self.resolved_at if self.kind == Incident.Kind.INCIDENT else self.completed_at


@dataclass
class World:
    """What the earlier floors' demos made that the episodes use."""

    now: datetime
    rng: random.Random
    services: dict[str, Service]
    relationships: list[Relationship]
    tickets: Sequence[Ticket]
    agents: list[User]
    people_of: dict[int, int] = field(default_factory=dict)  # organisation id → people with a role


def status_at(episode: Episode, at: datetime) -> str:
    """The incident's (or maintenance's) status at an instant of its life."""
    if episode.kind == Incident.Kind.MAINTENANCE:
        steps = [
            (episode.completed_at, Incident.Status.COMPLETED),
            (episode.started_at, Incident.Status.IN_PROGRESS),
        ]
        return next((status for since, status in steps if since is not None and at >= since), Incident.Status.SCHEDULED)
    steps = [
        (episode.resolved_at, Incident.Status.RESOLVED),
        (episode.monitoring_at, Incident.Status.MONITORING),
        (episode.identified_at, Incident.Status.IDENTIFIED),
    ]
    return next((status for since, status in steps if since is not None and at >= since), Incident.Status.INVESTIGATING)


def regular_updates(episode: Episode, rng: random.Random) -> list[Said]:
    """Updates at the cadence, each a few minutes early, and one at each change of status."""
    # Resolved incidents only: an open one lists its own updates (`Episode.said`).
    assert episode.declared_at is not None and episode.resolved_at is not None  # nosec B101
    cadence = min(episode.cadence.values())
    audiences = sorted(episode.cadence, key=ALL_AUDIENCES.index)
    marks = [episode.declared_at + timedelta(minutes=rng.randint(4, 12))]
    changes = [t for t in (episode.identified_at, episode.monitoring_at) if t is not None]
    while True:
        due = marks[-1] + timedelta(minutes=cadence)
        change = next((t for t in changes if marks[-1] < t + timedelta(minutes=3) <= due), None)
        at = change + timedelta(minutes=3) if change else due - timedelta(minutes=rng.randint(0, 4))
        if at >= episode.resolved_at - timedelta(minutes=2):
            break
        marks.append(at)
    said = [
        Said(at=at, status=status_at(episode, at), audiences=audiences, actions="", next_in=cadence) for at in marks
    ]
    resolution = Said(
        at=episode.resolved_at,
        status=Incident.Status.RESOLVED,
        audiences=audiences,
        actions="",
        kind=IncidentUpdate.Kind.RESOLUTION,
        next_in=None,
    )
    return [*said, resolution]


def _words(episode: Episode, said: Said) -> str:
    if said.actions:
        return said.actions
    words: dict[str, str] = {
        Incident.Status.INVESTIGATING: f"We are investigating reports that {episode.problem}.",
        Incident.Status.IDENTIFIED: f"We have found the cause: {episode.description or 'a fault'}; a fix is under way.",
        Incident.Status.MONITORING: "A fix is in place and we are watching that everything works as usual.",
        Incident.Status.RESOLVED: "The problem is resolved and the service works as usual. Thank you for your patience.",
        Incident.Status.SCHEDULED: f"Planned maintenance: {episode.problem} during the window.",
        Incident.Status.IN_PROGRESS: "The maintenance has started.",
        Incident.Status.COMPLETED: "The maintenance is complete; everything works as usual.",
    }
    return words[said.status]


def _statuses_at(episode: Episode, at: datetime) -> dict[str, str]:
    current = {}
    for phase in episode.phases:
        if phase.since <= at and (phase.until is None or at < phase.until):
            current[phase.slug] = phase.status
    return current


def episode_write(world: World, episode: Episode, *, owner: User, comms: User) -> Incident:
    """The incident and every row of its life, dated as it happened."""
    services = [world.services[slug] for slug in episode.slugs]
    incident = Incident.objects.create(
        reference=next_reference(episode.kind),
        kind=episode.kind,
        title=episode.title,
        status=episode.status,
        severity=episode.severity,
        visibility=episode.visibility,
        description=episode.description,
        owner=owner,
        comms_lead=comms,
        declared_by=comms,
        impact_started_at=episode.impact_started_at,
        impact_ended_at=episode.ends if episode.kind == Incident.Kind.INCIDENT else None,
        declared_at=episode.declared_at,
        identified_at=episode.identified_at,
        monitoring_at=episode.monitoring_at,
        resolved_at=episode.resolved_at,
        scheduled_for=episode.scheduled_for,
        scheduled_until=episode.scheduled_until,
        started_at=episode.started_at,
        completed_at=episode.completed_at,
        notice_minutes=episode.notice_minutes,
        notice_sent_at=(
            episode.scheduled_for - timedelta(minutes=episode.notice_minutes)
            if episode.scheduled_for and episode.notice_minutes and episode.started_at
            else None
        ),
        created_at=episode.begins,
    )
    planned = ComponentStatus.MAINTENANCE if episode.kind == Incident.Kind.MAINTENANCE else ComponentStatus.MAJOR
    worst = dict.fromkeys(episode.affected_slugs, planned.value)
    for phase in episode.phases:
        order = list(ComponentStatus.values)
        if order.index(phase.status) > order.index(worst.get(phase.slug, ComponentStatus.OPERATIONAL)):
            worst[phase.slug] = phase.status
    AffectedService.objects.bulk_create(
        [
            AffectedService(incident=incident, service=s, component_status=worst[s.slug], created_at=episode.begins)
            for s in services
        ]
    )
    ComponentStatusChange.objects.bulk_create(
        [
            ComponentStatusChange(
                incident=incident,
                service=world.services[phase.slug],
                status=phase.status,
                started_at=phase.since,
                ended_at=phase.until,
            )
            for phase in episode.phases
        ]
    )
    organisations = _affected_organisations(world, incident, services, episode)
    _link_tickets(world, incident, services, organisations, episode, owner)
    plans = _plans(incident, episode, comms)
    _updates(world, incident, episode, plans, comms)
    return incident


def _affected_organisations(world: World, incident: Incident, services: list[Service], episode: Episode) -> list[int]:
    if episode.kind == Incident.Kind.MAINTENANCE:
        return []
    ids = {s.pk for s in services}
    organisations = sorted(
        {r.organisation_id for r in world.relationships if r.offering.service_id in ids and r.status != "ended"}
    )
    rows = []
    for organisation_id in organisations:
        total = world.people_of.get(organisation_id, 0)
        share = {"sev1": 0.9, "sev2": 0.6}.get(episode.severity, 0.25)
        affected = min(total, round(total * share * world.rng.uniform(0.8, 1.0)))
        rows.append(
            AffectedOrganisation(
                incident=incident,
                organisation_id=organisation_id,
                users_affected=affected,
                users_total=total,
                created_at=episode.begins,
            )
        )
    AffectedOrganisation.objects.bulk_create(rows)
    incident.users_affected = sum(row.users_affected for row in rows)
    incident.save(update_fields=["users_affected"])
    return organisations


def _link_tickets(
    world: World,
    incident: Incident,
    services: list[Service],
    organisations: list[int],
    episode: Episode,
    owner: User,
) -> None:
    """The desk tickets opened about it: on an affected service, by an affected organisation, meanwhile."""
    if not episode.tickets or episode.ends is None:
        return
    start = episode.impact_started_at or episode.begins
    ids, orgs = {s.pk for s in services}, set(organisations)
    linked = IncidentTicket.objects.values_list("ticket_id", flat=True)
    taken = set(linked)
    found = [
        t
        for t in world.tickets
        if t.service_id in ids
        and t.organisation_id in orgs
        and t.type == Ticket.Type.INCIDENT
        and start <= t.opened_at < episode.ends
        and t.pk not in taken
    ][: episode.tickets]
    IncidentTicket.objects.bulk_create(
        [
            IncidentTicket(
                incident=incident,
                ticket=ticket,
                linked_by=owner,
                created_at=min(max(ticket.opened_at, episode.begins) + timedelta(minutes=7), episode.ends),
            )
            for ticket in found
        ]
    )


def _plans(incident: Incident, episode: Episode, comms: User) -> dict[str, AudiencePlan]:
    if episode.kind == Incident.Kind.MAINTENANCE:
        return {}
    plans = {}
    for audience, cadence in episode.cadence.items():
        plans[audience] = AudiencePlan.objects.create(
            incident=incident,
            audience=audience,
            cadence_minutes=cadence,
            channels=[str(c) for c in CHANNELS[Audience(audience)]],
            owner=comms,
            is_active=episode.resolved_at is None,
            created_at=episode.begins,
        )
    return plans


def _updates(
    world: World, incident: Incident, episode: Episode, plans: dict[str, AudiencePlan], comms: User
) -> list[IncidentUpdate]:
    said = episode.said if episode.said is not None else regular_updates(episode, world.rng)
    names = {slug: world.services[slug].name for slug in episode.slugs}
    codes = {slug: world.services[slug].public_id for slug in names}
    rows, before = [], dict.fromkeys(names, ComponentStatus.OPERATIONAL.value)
    for item in sorted(said, key=lambda s: s.at):
        now = {slug: _statuses_at(episode, item.at).get(slug, ComponentStatus.OPERATIONAL.value) for slug in names}
        changed = [
            {"code": codes[slug], "name": names[slug], "old_status": before[slug], "new_status": now[slug]}
            for slug in names
            if now[slug] != before[slug]
        ]
        before = now
        down = [f"{names[slug]} is {STATUS_WORDS[ComponentStatus(s)]}" for slug, s in now.items() if s in STATUS_WORDS]
        affected = "; ".join(down) or ", ".join(names.values())
        impacted = (
            f"Users of {incident.affected_organisations.count()} organisations"
            if episode.kind == Incident.Kind.INCIDENT
            else "Everyone using the services named"
        )
        next_at = item.at + timedelta(minutes=item.next_in) if item.next_in else None
        actions = _words(episode, item)
        tail = f" Next update by {next_at:%H:%M} UTC." if next_at else ""
        rows.append(
            IncidentUpdate(
                incident=incident,
                kind=item.kind,
                status=item.status,
                audiences=[str(a) for a in item.audiences],
                affected=affected,
                impacted=impacted,
                actions=actions,
                body=f"{actions} Affected: {affected}. Impact: {impacted}.{tail}",
                next_update_at=next_at,
                display_at=item.at,
                posted_by=comms,
                affected_components=changed,
                created_at=item.at,
            )
        )
    IncidentUpdate.objects.bulk_create(rows)
    for audience, plan in plans.items():
        own = [row for row in rows if audience in row.audiences]
        if own:
            plan.last_update_at = own[-1].display_at
            if plan.is_active and own[-1].next_update_at:
                plan.next_due_at = own[-1].next_update_at
            plan.save(update_fields=["last_update_at", "next_due_at"])
    return rows


def staff_pick(world: World, index: int) -> User:
    return world.agents[index % len(world.agents)]

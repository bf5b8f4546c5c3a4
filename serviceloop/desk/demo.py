"""Twelve months of tickets (~23,000) with realistic mixes, conversations, pauses, breaches and reopenings,
shaped by the demo's story (`demo_story`): the service desk's portal launch, the email outage, the
unhappy organisation on payroll.

Written set-wise (bulk_create) so the demo stays fast; the SLA instants come from the same
business-time functions the product uses, so breaches and warnings are true to the calendars.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from serviceloop.accounts.models import User
from serviceloop.catalogue.models import Service
from serviceloop.core.cli import progress
from serviceloop.core.demo import DemoContext
from serviceloop.core.demo_story import Story, story_of
from serviceloop.core.models import Event
from serviceloop.desk.business_time import Calendar, add_business_seconds, business_seconds_between
from serviceloop.desk.mail_out import mail_domain
from serviceloop.desk.models import (
    BusinessCalendar,
    Holiday,
    MailRoute,
    Message,
    SlaEvent,
    SlaTarget,
    Team,
    Ticket,
    TicketEvent,
)
from serviceloop.desk.search import search_reindex
from serviceloop.desk.services.business_minutes import business_minutes_refresh
from serviceloop.desk.services.sla import DEFAULT_MATRIX, calendar_of
from serviceloop.desk.services.tickets import references_allocate
from serviceloop.relationships.models import Person, Relationship

# The desk's tickets start a little before the twelve months of surveys, so the first weeks' answers
# (after their tickets were resolved) are as many as any other's.
LEAD_DAYS = 14
WEEKDAYS = {str(day): [["09:00", "17:30"]] for day in range(5)}
ALL_DAY = {str(day): [["00:00", "24:00"]] for day in range(7)}

# (first response minutes, resolution minutes) per priority, in business time.
TARGETS = {"p1": (15, 4 * 60), "p2": (30, 8 * 60), "p3": (2 * 60, 3 * 8 * 60), "p4": (8 * 60, 5 * 8 * 60)}
TYPES = [("incident", 45), ("request", 30), ("question", 14), ("complaint", 7), ("compliment", 4)]
LEVELS = [("high", 15), ("medium", 50), ("low", 35)]

SUBJECTS = {
    "incident": [
        "{o} is down for our team",
        "Cannot sign in to {o}",
        "{o} very slow since this morning",
        "Error 500 when opening {o}",
        "{o}: data missing after update",
        "Timeouts on {o} during the afternoon",
    ],
    "request": [
        "New account needed for {o}",
        "Please add three users to {o}",
        "Change of billing contact for {o}",
        "Access for a contractor to {o}",
        "Export of last quarter from {o}",
    ],
    "question": [
        "How do I share reports in {o}?",
        "Is {o} available during the holidays?",
        "Where can I find the {o} user guide?",
    ],
    "complaint": [
        "Third outage of {o} this month",
        "Nobody told us {o} would be down",
        "Still waiting for an answer about {o}",
    ],
    "compliment": ["Thank you for the quick fix on {o}", "Great support with {o} today"],
}
OPENINGS = [
    "Since this morning several colleagues see the same problem. It blocks our work.",
    "We need this sorted before the end of the week, please.",
    "Details below; screenshots on request. Thanks in advance.",
    "This happened before and was fixed, but it is back now.",
]
STAFF_REPLIES = [
    "Thanks for reporting this. We are looking into it now.",
    "I have reproduced the issue and passed it to the application team.",
    "Could you tell us which browser and version you use?",
    "We have applied a fix; please check whether it works for you now.",
]
CUSTOMER_REPLIES = ["It works again, thank you.", "Chrome 131 on Windows 11.", "Still broken for two of us."]
NOTES = ["Vendor ticket raised.", "Known problem, linked to change 4711.", "Customer sounds frustrated; call back."]
RESOLUTIONS = ["Cleared the cache and restarted the service.", "Account created and access granted.", "Answered."]


@dataclass
class Built:
    tickets: list[Ticket] = field(default_factory=list)
    messages: list[list[Message]] = field(default_factory=list)
    events: list[list[TicketEvent]] = field(default_factory=list)
    sla: list[list[SlaEvent]] = field(default_factory=list)


def _weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def _holidays(year: int) -> list[tuple[date, str]]:
    return [
        (date(year, 1, 1), "New Year's Day"),
        (date(year, 5, 4), "Early May bank holiday"),
        (date(year, 8, 31), "Summer bank holiday"),
        (date(year, 12, 25), "Christmas Day"),
        (date(year, 12, 28), "Boxing Day (substitute)"),
    ]


def _calendars(ctx: DemoContext) -> dict[str, BusinessCalendar]:
    office = BusinessCalendar.objects.create(name="UK office hours", time_zone="Europe/London", working_hours=WEEKDAYS)
    us = BusinessCalendar.objects.create(name="US Eastern office", time_zone="America/New_York", working_hours=WEEKDAYS)
    always = BusinessCalendar.objects.create(name="24×7", time_zone="UTC", working_hours=ALL_DAY)
    years = {ctx.now.year - 1, ctx.now.year}
    Holiday.objects.bulk_create(
        [Holiday(calendar=office, date=day, name=name) for year in sorted(years) for day, name in _holidays(year)]
    )
    Holiday.objects.bulk_create(
        [Holiday(calendar=us, date=date(year, 7, 4), name="Independence Day") for year in sorted(years)]
    )
    return {"office": office, "us": us, "always": always}


def _targets(services: list[Service], calendars: dict[str, BusinessCalendar]) -> dict[tuple[int, str], SlaTarget]:
    targets = []
    for index, service in enumerate(services):
        critical = service.criticality in (Service.Criticality.HIGH, Service.Criticality.CRITICAL)
        for priority, (first, resolution) in TARGETS.items():
            if priority == "p1" and critical:
                calendar = calendars["always"]
            else:
                calendar = calendars["us"] if index % 4 == 3 else calendars["office"]
            targets.append(
                SlaTarget(
                    service=service,
                    priority=priority,
                    calendar=calendar,
                    first_response_minutes=first,
                    resolution_minutes=resolution,
                )
            )
    SlaTarget.objects.bulk_create(targets)
    return {(t.service_id, t.priority): t for t in SlaTarget.objects.select_related("calendar")}


def _teams(agents: list[User]) -> list[Team]:
    teams = [Team.objects.create(name=name) for name in ("Service desk", "Applications", "Network & access")]
    for index, agent in enumerate(agents):
        teams[index % len(teams)].members.add(agent)
        teams[0].members.add(agent)
    return teams


@dataclass(frozen=True)
class Shape:
    """How the story bends one ticket: its type and priority, reassignments, first-contact resolution."""

    incident: float = 0.0  # the chance it is an incident of high impact whatever the usual mix says
    hops: tuple[int, int, int] = (75, 20, 5)  # weights of 1, 2, 3 assignment hops
    fcr: float = 0.8  # the chance a ticket without follow-up or reopen was resolved at first contact
    reopen: float = 0.07
    portal: int = 45  # weight of the portal among the channels (email 40, api 5, staff 10)
    slower: float = 1.0  # resolution time, times the usual


def shape_of(story: Story, slug: str, day: date, organisation: str) -> Shape:
    if story.in_outage(slug, day):
        return Shape(incident=0.85, hops=(40, 35, 25), fcr=0.3, reopen=0.12, slower=1.6)
    if slug == story.unhappy_service and organisation == story.unhappy_organisation:
        return Shape(hops=(45, 35, 20), fcr=0.5, reopen=0.16, slower=1.3)
    if story.is_steady(slug, organisation):
        return Shape(hops=(92, 7, 1), fcr=0.9, reopen=0.02, slower=0.5)
    if story.before_portal(slug, day):
        return Shape(hops=(55, 30, 15), fcr=0.55, reopen=0.1, portal=20, slower=1.2)
    if story.after_portal(slug, day):
        return Shape(hops=(85, 13, 2), fcr=0.9, reopen=0.04, portal=75, slower=0.7)
    return Shape()


def _counted(rng: random.Random, expected: float) -> int:
    """A count with the given mean (Poisson-like spread; normal approximation above 30)."""
    if expected > 30:
        return max(0, round(rng.gauss(expected, expected**0.5)))
    limit, count, product = pow(2.718281828459045, -expected), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _opened_on(ctx: DemoContext, rng: random.Random, day: date) -> datetime:
    # Mostly in working hours, some at any hour; never later than a few minutes before now.
    hour = rng.choices([rng.randint(8, 17), rng.randint(0, 23)], weights=[85, 15])[0]
    opened = datetime.combine(day, time(hour, rng.randint(0, 59)), tzinfo=ctx.now.tzinfo)
    return min(opened, ctx.now - timedelta(minutes=rng.randint(5, 600)))


class _Simulator:
    def __init__(
        self, ctx: DemoContext, targets: dict[tuple[int, str], SlaTarget], staff: list[User], teams: list[Team]
    ):
        self.ctx, self.rng, self.targets, self.staff, self.teams = ctx, ctx.rng, targets, staff, teams
        self.calendars: dict[int, Calendar] = {}

    def calendar(self, target: SlaTarget) -> Calendar:
        if target.calendar_id not in self.calendars:
            self.calendars[target.calendar_id] = calendar_of(target.calendar)
        return self.calendars[target.calendar_id]

    def ticket(
        self,
        relationship: Relationship,
        requester: Person,
        reference: str,
        built: Built,
        opened: datetime,
        shape: Shape,
    ) -> None:
        rng, now = self.rng, self.ctx.now
        if rng.random() < shape.incident:
            kind, impact, urgency = "incident", "high", _weighted(rng, [("high", 60), ("medium", 40)])
        else:
            kind, impact, urgency = _weighted(rng, TYPES), _weighted(rng, LEVELS), _weighted(rng, LEVELS)
        priority = DEFAULT_MATRIX[(impact, urgency)]
        offering = relationship.offering
        target = self.targets.get((offering.service_id, priority))
        ticket = Ticket(
            reference=reference,
            organisation_id=relationship.organisation_id,
            requester=requester,
            service_id=offering.service_id,
            offering=offering,
            type=kind,
            subject=rng.choice(SUBJECTS[kind][:3] if shape.incident else SUBJECTS[kind]).format(
                o=offering.service.name
            ),
            priority=priority,
            impact=impact,
            urgency=urgency,
            channel=rng.choices(["portal", "email", "api", "staff"], weights=[shape.portal, 40, 5, 10])[0],
            opened_at=opened,
            created_at=opened,
            sla_target=target,
        )
        agent = rng.choice(self.staff)
        messages = [self._message(ticket, opened, rng.choice(OPENINGS), person=requester, channel=ticket.channel)]
        events = [TicketEvent(ticket=ticket, kind="created", by_person=requester, at=opened, to_value=priority)]
        sla: list[SlaEvent] = []
        calendar = self.calendar(target) if target else Calendar()
        first_target = (target.first_response_minutes if target else 120) * 60
        resolve_target = (target.resolution_minutes if target else 24 * 60) * 60

        # First response: mostly well inside the target, a tail beyond it.
        first_secs = first_target * rng.choice([rng.uniform(0.1, 0.9)] * 9 + [rng.uniform(1.05, 3.0)])
        first_at = add_business_seconds(calendar, opened, first_secs)
        paused = rng.random() < 0.22
        paused_secs = int(rng.uniform(0.5, 16) * 3600) if paused else 0
        resolve_secs = (
            resolve_target * shape.slower * rng.choice([rng.uniform(0.15, 0.95)] * 8 + [rng.uniform(1.05, 2.5)])
        )
        resolved_at = add_business_seconds(calendar, opened, resolve_secs + paused_secs)
        resolved_at = max(resolved_at, first_at + timedelta(minutes=5))
        if target:
            share = target.warning_percent / 100
            ticket.first_response_due_at = add_business_seconds(calendar, opened, first_target)
            ticket.first_response_warn_at = add_business_seconds(calendar, opened, first_target * share)
            ticket.resolution_due_at = add_business_seconds(calendar, opened, resolve_target + paused_secs)
            ticket.resolution_warn_at = add_business_seconds(calendar, opened, resolve_target * share + paused_secs)
        ticket.paused_seconds = paused_secs

        if first_at > now:  # still new: nobody has answered yet
            ticket.status = Ticket.Status.NEW
            self._sla(ticket, sla, first_met=None, resolved=None)
            built.tickets.append(ticket)
            built.messages.append(messages)
            built.events.append(events)
            built.sla.append(sla)
            return
        ticket.first_response_at = first_at
        ticket.assignee = agent
        ticket.team = rng.choice(self.teams)
        ticket.assignment_hops = rng.choices([1, 2, 3], weights=shape.hops)[0]
        ticket.reassignment_count = ticket.assignment_hops - 1
        events.append(TicketEvent(ticket=ticket, kind="assigned", by=agent, at=first_at, to_value=str(agent)))
        messages.append(self._message(ticket, first_at, rng.choice(STAFF_REPLIES), user=agent))
        if rng.random() < 0.25:
            messages.append(self._message(ticket, first_at, rng.choice(NOTES), user=agent, internal=True))
        customer_follow_up = paused or rng.random() < 0.3
        if customer_follow_up:
            reply_at = first_at + timedelta(hours=rng.uniform(0.5, 30))
            if reply_at < now:
                messages.append(self._message(ticket, reply_at, rng.choice(CUSTOMER_REPLIES), person=requester))

        if resolved_at > now:
            ticket.status = rng.choice(
                [Ticket.Status.OPEN] * 3 + [Ticket.Status.WAITING_CUSTOMER, "waiting_third_party"]
            )
            if ticket.status == Ticket.Status.WAITING_CUSTOMER:
                ticket.clock_stopped_at = now - timedelta(hours=rng.uniform(0.2, 20))
                ticket.clock_stopped_at = max(ticket.clock_stopped_at, first_at)
            self._sla(ticket, sla, first_met=first_at, resolved=None)
        else:
            self._resolve(ticket, resolved_at, agent, requester, messages, events, customer_follow_up, calendar, shape)
            self._sla(ticket, sla, first_met=first_at, resolved=ticket.resolved_at)
        built.tickets.append(ticket)
        built.messages.append(messages)
        built.events.append(events)
        built.sla.append(sla)

    def _resolve(
        self,
        ticket: Ticket,
        resolved_at: datetime,
        agent: User,
        requester: Person,
        messages: list[Message],
        events: list[TicketEvent],
        follow_up: bool,
        calendar: Calendar,
        shape: Shape,
    ) -> None:
        rng, now = self.rng, self.ctx.now
        ticket.status = Ticket.Status.RESOLVED
        ticket.resolution = rng.choice(RESOLUTIONS)
        ticket.resolved_at = resolved_at
        ticket.clock_stopped_at = resolved_at
        events.append(TicketEvent(ticket=ticket, kind="resolved", by=agent, at=resolved_at, note=ticket.resolution))
        messages.append(self._message(ticket, resolved_at, ticket.resolution, user=agent))
        if rng.random() < shape.reopen:  # reopened by the customer, resolved again later
            reopened = resolved_at + timedelta(hours=rng.uniform(2, 72))
            if reopened + timedelta(hours=4) < now:
                ticket.reopen_count = 1
                # The clock stood still while the ticket was resolved: instants still ahead move later.
                still = business_seconds_between(calendar, resolved_at, reopened)
                # ...and counts as paused time, as a reopen does (sla_resume).
                ticket.paused_seconds += max(int(still), 0)
                ticket.resolved_paused_seconds = max(int(still), 0)
                for name in ("resolution_due_at", "resolution_warn_at"):
                    instant = getattr(ticket, name)
                    if instant is not None and instant > resolved_at and still > 0:
                        setattr(ticket, name, add_business_seconds(calendar, instant, still))
                events.append(TicketEvent(ticket=ticket, kind="reopened", by_person=requester, at=reopened))
                messages.append(self._message(ticket, reopened, "It is broken again.", person=requester))
                ticket.resolved_at = reopened + timedelta(hours=rng.uniform(1, 48))
                ticket.resolved_at = min(ticket.resolved_at, now - timedelta(minutes=5))
                ticket.clock_stopped_at = ticket.resolved_at
                events.append(TicketEvent(ticket=ticket, kind="resolved", by=agent, at=ticket.resolved_at))
        ticket.first_contact_resolution = not follow_up and ticket.reopen_count == 0 and rng.random() < shape.fcr
        if now - ticket.resolved_at > timedelta(days=14):
            ticket.status = Ticket.Status.CLOSED
            ticket.closed_at = ticket.resolved_at + timedelta(days=14)
            ticket.closed_automatically = True
            ticket.is_duplicate = rng.random() < 0.02
            events.append(TicketEvent(ticket=ticket, kind="closed", at=ticket.closed_at, note="automatically"))

    def _sla(
        self, ticket: Ticket, sla: list[SlaEvent], *, first_met: datetime | None, resolved: datetime | None
    ) -> None:
        now = self.ctx.now
        stopped = ticket.clock_stopped_at
        for target, warn, due, met in (
            ("first_response", ticket.first_response_warn_at, ticket.first_response_due_at, first_met),
            ("resolution", ticket.resolution_warn_at, ticket.resolution_due_at, resolved),
        ):
            limit = min(x for x in (met, stopped, now) if x is not None)
            for kind, instant in (("warning", warn), ("breached", due)):
                if instant is not None and instant <= limit and instant <= now:
                    sla.append(SlaEvent(ticket=ticket, kind=kind, target=target, at=instant, created_at=instant))
                    if kind == "breached":
                        setattr(ticket, f"{target}_breached", True)

    def _message(
        self,
        ticket: Ticket,
        at: datetime,
        body: str,
        *,
        person: Person | None = None,
        user: User | None = None,
        internal: bool = False,
        channel: str = "staff",
    ) -> Message:
        return Message(
            ticket=ticket,
            kind="internal" if internal else "public",
            channel=ticket.channel if person else "staff",
            author_person=person,
            author_user=user,
            body=body,
            created_at=at,
        )


def load(ctx: DemoContext) -> None:
    services: list[Service] = ctx.objects.get("services", [])
    relationships: list[Relationship] = [
        r for r in ctx.objects.get("relationships", []) if r.status != Relationship.Status.ENDED
    ] or ctx.objects.get("relationships", [])
    people: list[Person] = ctx.objects.get("people", [])
    if not (services and relationships and people):
        return
    staff = ctx.objects["staff"]
    agents: list[User] = staff.get("agent", []) + staff.get("service_manager", [])[:1]
    calendars = _calendars(ctx)
    targets = _targets(services, calendars)
    _mail_routes(services)
    teams = _teams(agents)
    by_org: dict[int, list[Person]] = {}
    for person in people:
        by_org.setdefault(person.organisation_id, []).append(person)
    relationships = [r for r in relationships if r.organisation_id in by_org]
    story = story_of(ctx.now)
    simulator = _Simulator(ctx, targets, agents, teams)
    built = Built()
    plan = _plan(ctx, story, services, relationships)
    references = references_allocate(len(plan))
    names = {organisation.pk: organisation.name for organisation in ctx.objects.get("organisations", [])}
    shown = progress(zip(references, plan, strict=True), total=len(plan), desc="Tickets", enabled=ctx.progress)
    for reference, (slug, opened, relationship) in shown:
        requester = ctx.rng.choice(by_org[relationship.organisation_id])
        shape = shape_of(story, slug, opened.date(), names.get(relationship.organisation_id, ""))
        simulator.ticket(relationship, requester, reference, built, opened, shape)
    _save(built)
    ctx.objects["tickets"] = built.tickets
    ctx.objects["story"] = story
    ctx.objects["sla_calendars"] = list(calendars.values())


def _plan(
    ctx: DemoContext, story: Story, services: list[Service], relationships: list[Relationship]
) -> list[tuple[str, datetime, Relationship]]:
    """Each ticket's service, opening instant and relationship: day by day, as many as the story expects.

    A ticket is raised on a relationship of the service that had started by then (else on any of them)."""
    rng = ctx.rng
    by_service: dict[int, list[Relationship]] = {}
    for relationship in relationships:
        by_service.setdefault(relationship.offering.service_id, []).append(relationship)
    plan = []
    day = story.first_day - timedelta(days=LEAD_DAYS)
    while day <= ctx.now.date():
        for service in services:
            own = by_service.get(service.pk)
            if not own:
                continue
            started = [r for r in own if r.started_on <= day] or own
            for _ in range(_counted(rng, story.tickets_expected(service.slug, day))):
                plan.append((service.slug, _opened_on(ctx, rng, day), rng.choice(started)))
        day += timedelta(days=1)
    return plan


# Mail to these addresses (at the desk's own domain) opens its ticket on the service of that slug.
MAIL_ADDRESSES = {
    "payroll": "payroll",
    "parcels": "parcel-delivery",
    "rides": "ride-booking",
    "laptops": "laptop-provisioning",
    "vpn": "vpn-remote-access",
    "email": "email-collaboration",
    "it": "service-desk",
}
# Mail to the shared desk address: the first rule whose keyword it names (position, keywords, slug).
MAIL_RULES = [
    (10, "payslip, salary, payroll, tax code, expenses", "payroll"),
    (20, "parcel, courier, tracking number, delivery", "parcel-delivery"),
    (30, "ride, driver, pick-up, airport", "ride-booking"),
    (40, "vpn, remote access", "vpn-remote-access"),
    (50, "laptop, docking station", "laptop-provisioning"),
]


def _mail_routes(services: list[Service]) -> None:
    by_slug = {service.slug: service for service in services}
    domain = mail_domain()
    rows = [
        MailRoute(service=by_slug[slug], address=f"{local}@{domain}", note="demo")
        for local, slug in MAIL_ADDRESSES.items()
        if slug in by_slug
    ]
    rows += [
        MailRoute(service=by_slug[slug], keywords=keywords, position=position, note="demo")
        for position, keywords, slug in MAIL_RULES
        if slug in by_slug
    ]
    MailRoute.objects.bulk_create(rows)


def _save(built: Built) -> None:
    # Order the rows by opening time so ids follow time, as they would in real life.
    order = sorted(range(len(built.tickets)), key=lambda i: built.tickets[i].opened_at)
    tickets = [built.tickets[i] for i in order]
    Ticket.objects.bulk_create(tickets, batch_size=500)
    messages, events, sla = [], [], []
    for i in order:
        ticket = built.tickets[i]
        for row in (*built.messages[i], *built.events[i], *built.sla[i]):
            row.ticket = ticket  # type: ignore[attr-defined]
        messages += built.messages[i]
        events += built.events[i]
        sla += built.sla[i]
    Message.objects.bulk_create(messages, batch_size=1000)
    TicketEvent.objects.bulk_create(events, batch_size=1000)
    SlaEvent.objects.bulk_create(sla, batch_size=1000)
    _audit_trail(events)
    search_reindex()
    business_minutes_refresh()  # the stored business minutes the desk metrics average


# The desk's history as the event log would have recorded it. Historical: delivered long ago, so
# written complete (no deliveries, no mail to anybody).
_EVENT_NAMES = {"created": "ticket.created", "resolved": "ticket.resolved", "reopened": "ticket.reopened"}


def _audit_trail(history: list[TicketEvent]) -> None:
    rows = []
    for item in history:
        ticket = item.ticket
        actor = item.by
        # A requester without a login (portal user, mail) is named by their address.
        person = item.by_person
        label = actor.email if actor is not None else (person.email if person is not None else "")
        for name in ("ticket.history_recorded", _EVENT_NAMES.get(item.kind)):
            if name is None:
                continue
            data: dict[str, object] = {"ticket_id": ticket.pk}
            if name == "ticket.history_recorded":
                data.update(event_id=item.pk, kind=item.kind, from_value=item.from_value, to_value=item.to_value)
            rows.append(
                Event(
                    name=name,
                    subject_type="desk.ticket",
                    subject_id=ticket.pk,
                    subject_label=f"{ticket.reference} {ticket.subject}"[:200],
                    data=data,
                    actor_id=actor.pk if actor is not None else None,
                    actor_label=label,
                    created_at=item.at,
                    completed_at=item.at,
                )
            )
    Event.objects.bulk_create(rows, batch_size=1000)

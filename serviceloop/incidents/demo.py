"""Demo status page: components for the live services in two groups, 90 days of history
(`demo_history`), a major incident resolved a few days ago told from start to review, a minor one
still open, a maintenance planned for the coming days, and a few confirmed email subscribers.

The showcase incident (`showcase`): SEV1 on Email & collaboration and the service desk's portal,
updates to every audience every 30 minutes but one — the affected customers' mail at 11:15 came 17
minutes late, so their plan has one recorded `Silence` — a recovery plan whose customer-facing steps
and ETAs moved as the team learnt, linked desk tickets, the affected organisations and their users,
and a review completed and published with its actions (some closed). Loaded after the desk (its
tickets are linked) and before feedback (whose demo counts the answers about it into the review).

Deterministic (a generator seeded from the context's seed), dated relative to the demo's `now`; no events and
no mail: it is history. Webhook subscriptions are left out (the demo's worker would POST to them).
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from serviceloop.catalogue.models import Service
from serviceloop.core.demo import DemoContext
from serviceloop.core.demo_story import story_of
from serviceloop.incidents.demo_history import (
    DEGRADED,
    EVERYONE,
    MAJOR,
    MAJOR_PLAN,
    MINOR_PLAN,
    PARTIAL,
    at,
    history,
    minutes,
    weekday_on_or_before,
)
from serviceloop.incidents.demo_write import Episode, Phase, Said, World, episode_write, staff_pick
from serviceloop.incidents.models import (
    Audience,
    AudiencePlan,
    Component,
    ComponentGroup,
    EtaChange,
    Incident,
    IncidentUpdate,
    RecoveryStep,
    Review,
    ReviewAction,
    Silence,
    Subscription,
)
from serviceloop.relationships.models import Relationship, RelationshipRole

GROUPS = [
    ("Workplace", "What your people work with every day", ["email-collaboration", "vpn-remote-access", "service-desk"]),
    (
        "Business services",
        "Services run for your organisation",
        ["payroll", "laptop-provisioning", "ride-booking", "parcel-delivery"],
    ),
]
SUBSCRIBERS = [
    ("ops-watch@northwind.example", []),
    ("it-lead@harbourview.example", ["email-collaboration", "vpn-remote-access"]),
]


def load(ctx: DemoContext) -> None:
    services = {s.slug: s for s in ctx.objects.get("services", []) if s.lifecycle == Service.Lifecycle.LIVE}
    if not all(slug in services for _, _, slugs in GROUPS for slug in slugs):
        return  # the catalogue demo did not run
    staff = ctx.objects["staff"]
    relationships = [r for r in ctx.objects.get("relationships", []) if r.status != Relationship.Status.ENDED]
    world = World(
        now=ctx.now,
        # Its own seeded stream: the floors loaded after it draw what they drew before it existed.
        rng=random.Random(f"incidents:{ctx.seed}"),  # nosec B311  # reproducible demo data, not secrets
        services=services,
        relationships=relationships,
        tickets=ctx.objects.get("tickets", []),
        agents=staff.get("agent", []) + staff.get("service_manager", []),
        people_of=_people_with_roles(relationships),
    )
    today = ctx.now.date()
    _components(services, today)
    _subscriptions(services, ctx.now)
    story = ctx.objects.get("story") or story_of(ctx.now)
    past = [(e, e.begins) for e in history(today, story)]
    # References follow time, as they would have been taken: the showcase among the past ones.
    showcase = showcase_episode(today)
    episodes = sorted([*past, (showcase, showcase.begins)], key=lambda pair: pair[1])
    incidents: dict[str, Incident] = {}
    for index, (episode, _) in enumerate(episodes):
        owner = world.services[episode.phases[0].slug].service_manager
        incident = episode_write(world, episode, owner=owner, comms=staff_pick(world, index))
        incidents[episode.title] = incident
        if episode.severity in ("sev1", "sev2") and episode.kind == Incident.Kind.INCIDENT:
            published = episode is showcase or episode.title.startswith("Email & collaboration unavailable")
            _review(world, incident, episode, published=published)
    _showcase_extras(world, incidents[showcase.title], showcase)
    future = planned_maintenance(ctx.now)
    episode_write(world, future, owner=services["payroll"].service_manager, comms=staff_pick(world, 1))
    open_minor = open_minor_episode(ctx.now)
    minor = episode_write(
        world, open_minor, owner=services["vpn-remote-access"].service_manager, comms=staff_pick(world, 2)
    )
    _open_minor_eta(minor, open_minor, ctx.now)
    ctx.objects["incidents"] = [*incidents.values(), minor]


def _people_with_roles(relationships: list[Relationship]) -> dict[int, int]:
    rows = RelationshipRole.objects.filter(relationship__in=relationships).values_list(
        "relationship__organisation_id", "person_id"
    )
    people: dict[int, set[int]] = {}
    for organisation_id, person_id in rows:
        people.setdefault(organisation_id, set()).add(person_id)
    return {organisation_id: len(ids) for organisation_id, ids in people.items()}


def _components(services: dict[str, Service], today: date) -> None:
    for position, (name, description, slugs) in enumerate(GROUPS):
        group = ComponentGroup.objects.create(name=name, description=description, position=position)
        Component.objects.bulk_create(
            [
                Component(
                    service=services[slug],
                    name=services[slug].name,
                    description=services[slug].description,
                    group=group,
                    position=index,
                    start_date=today - timedelta(days=365),
                    availability_target=99.9 if services[slug].criticality in ("high", "critical") else 99.5,
                )
                for index, slug in enumerate(slugs)
            ]
        )


def _subscriptions(services: dict[str, Service], now: datetime) -> None:
    for index, (email, slugs) in enumerate(SUBSCRIBERS):
        created = now - timedelta(days=40 + 17 * index)
        subscription = Subscription.objects.create(
            kind=Subscription.Kind.EMAIL, email=email, confirmed_at=created + timedelta(minutes=6), created_at=created
        )
        subscription.services.set([services[slug] for slug in slugs])


def showcase_episode(today: date) -> Episode:
    """The SEV1 of a few days ago: every update to the audiences it was addressed to, as posted."""
    day = weekday_on_or_before(today - timedelta(days=4))
    declared = at(day, "09:10")

    def t(hhmm: str) -> datetime:
        return at(day, hhmm)

    said = [
        Said(
            t("09:18"),
            Incident.Status.INVESTIGATING,
            EVERYONE,
            "We are investigating reports that mail is not delivered and sign-in fails.",
        ),
        Said(
            t("09:48"),
            Incident.Status.INVESTIGATING,
            EVERYONE,
            "Mail is queued, not lost. We are checking the mail transport and the sign-in service.",
        ),
        Said(
            t("10:15"),
            Incident.Status.IDENTIFIED,
            EVERYONE,
            "Cause found: a certificate renewal broke the connection between mail transport and sign-in. We are failing over to the secondary site.",
        ),
        Said(
            t("10:45"),
            Incident.Status.IDENTIFIED,
            EVERYONE,
            "Failover complete; sign-in works again for most users. Delayed mail is being replayed.",
        ),
        Said(
            t("11:15"),
            Incident.Status.IDENTIFIED,
            [Audience.INTERNAL, Audience.PUBLIC],
            "Replay of the delayed mail is running; about 40% is delivered.",
        ),
        # The affected customers' mail of 11:15 went out at 11:32: their one silence.
        Said(
            t("11:32"),
            Incident.Status.IDENTIFIED,
            [Audience.CUSTOMERS],
            "Replay of the delayed mail is running; about 55% is delivered. Sorry for the late update.",
        ),
        Said(
            t("11:45"),
            Incident.Status.IDENTIFIED,
            EVERYONE,
            "About 80% of the delayed mail is delivered; the portal's sign-in is restored.",
        ),
        Said(
            t("12:15"),
            Incident.Status.MONITORING,
            EVERYONE,
            "All delayed mail is delivered. We are watching delivery times before we close this.",
        ),
        Said(
            t("12:45"),
            Incident.Status.MONITORING,
            EVERYONE,
            "Delivery times are back to normal; we keep watching until 13:15.",
        ),
        Said(
            t("13:10"),
            Incident.Status.RESOLVED,
            EVERYONE,
            "Resolved: mail and sign-in work as usual. A review follows.",
            IncidentUpdate.Kind.RESOLUTION,
            None,
        ),
    ]
    return Episode(
        title="Mail delayed and sign-in failing",
        problem="mail is not delivered and sign-in fails",
        description="a certificate renewal broke the connection between the mail transport and sign-in",
        severity="sev1",
        phases=[
            Phase("email-collaboration", PARTIAL, declared, t("09:40")),
            Phase("email-collaboration", MAJOR, t("09:40"), t("10:45")),
            Phase("email-collaboration", DEGRADED, t("10:45"), t("12:15")),
            Phase("service-desk", DEGRADED, t("09:40"), t("11:45")),
        ],
        impact_started_at=t("08:52"),
        declared_at=declared,
        identified_at=t("10:12"),
        monitoring_at=t("12:12"),
        resolved_at=t("13:10"),
        cadence=dict(MAJOR_PLAN),
        said=said,
        tickets=12,
    )


# (title, detail, customer facing, [(set at, eta)], done at); times on the showcase's day.
STEPS = [
    (
        "Fail mail transport over to the secondary site",
        "Switch the MX and the transport to site B.",
        True,
        [("10:15", "10:30"), ("10:25", "10:45")],
        "10:42",
    ),
    ("Replace the broken certificate on the sign-in bridge", "", False, [("10:20", "11:00")], "10:58"),
    (
        "Replay the delayed mail queue",
        "About 180,000 messages, oldest first.",
        True,
        [("10:50", "11:45"), ("11:30", "12:15")],
        "12:10",
    ),
    (
        "Confirm delivery with the affected organisations",
        "Call the named contacts of each organisation.",
        True,
        [("12:15", "13:00")],
        "13:05",
    ),
]
# The incident's own ETA: (set at, eta, confidence).
ETAS = [("10:15", "12:00", "medium"), ("11:32", "13:00", "medium"), ("12:15", "13:15", "high")]
ACTIONS = [
    ("Alert on certificates expiring within 30 days", "detect", 10, True),
    ("Renew certificates through the change process with a rollback step", "prevent", 20, True),
    ("Send customer updates from the status tool, not by hand", "communicate", 30, False),
    ("Run the failover to the secondary site every quarter", "mitigate", 45, False),
]


def _showcase_extras(world: World, incident: Incident, episode: Episode) -> None:
    day = incident.declared_at.date()  # type: ignore[union-attr]
    owner = incident.owner

    def t(hhmm: str) -> datetime:
        return at(day, hhmm)

    for position, (title, detail, facing, etas, done) in enumerate(STEPS):
        step = RecoveryStep.objects.create(
            incident=incident,
            position=position,
            title=title,
            detail=detail,
            owner=staff_pick(world, position + 3),
            status=RecoveryStep.Status.DONE,
            eta=t(etas[-1][1]),
            eta_confidence="high" if len(etas) > 1 else "medium",
            customer_facing=facing,
            done_at=t(done),
            created_at=t(etas[0][0]),
        )
        EtaChange.objects.bulk_create(
            [
                EtaChange(incident=incident, step=step, eta=t(eta), confidence="medium", changed_at=t(s), by=owner)
                for s, eta in etas
            ]
        )
    EtaChange.objects.bulk_create(
        [EtaChange(incident=incident, eta=t(eta), confidence=c, changed_at=t(s), by=owner) for s, eta, c in ETAS]
    )
    incident.eta, incident.eta_confidence = t(ETAS[-1][1]), ETAS[-1][2]
    incident.plan_published_at = t("10:20")
    incident.save(update_fields=["eta", "eta_confidence", "plan_published_at"])
    customers = AudiencePlan.objects.get(incident=incident, audience=Audience.CUSTOMERS)
    Silence.objects.create(
        plan=customers, due_at=t("11:15"), alerted_at=t("11:15"), ended_at=t("11:32"), created_at=t("11:15")
    )


def _review(world: World, incident: Incident, episode: Episode, *, published: bool) -> None:
    resolved = incident.resolved_at
    assert resolved is not None  # nosec B101  # reviews are of resolved incidents
    days = 3 if incident.severity == "sev1" else 7  # PagerDuty: 3 calendar days (SEV1), 5 business days (SEV2)
    completed = resolved + timedelta(days=days - 1, hours=3)
    showcase = incident.title.startswith("Mail delayed")
    review = Review.objects.create(
        incident=incident,
        owner=incident.owner,
        status=Review.Status.PUBLISHED if published else Review.Status.COMPLETED,
        due_at=resolved + timedelta(days=days),
        root_cause_category=_root_cause(incident, showcase),
        root_cause=f"The cause: {episode.description}.",
        contributing_factors=[
            "The monitoring checked that the service answered, not that it worked end to end.",
            "The runbook for the failover was out of date.",
        ],
        resolution="Service was restored by failing over and replaying what had queued meanwhile."
        if showcase
        else "Service was restored once the cause was corrected and the platform checked.",
        customer_summary=(
            f"On {resolved:%-d %B} {episode.problem} for about "
            f"{round((resolved - incident.declared_at).total_seconds() / 3600, 1)} hours. "  # type: ignore[operator]
            f"The cause was {episode.description}. We have changed how we work so it does not happen again."
        ),
        completed_at=completed,
        published_at=completed + timedelta(hours=20) if published else None,
        created_at=resolved + timedelta(minutes=30),
    )
    actions = ACTIONS if showcase else ACTIONS[:3]
    rows = []
    for index, (title, kind, due_days, closed) in enumerate(actions):
        # The older incidents' actions are all closed but the payroll review's last one.
        done = closed or (not showcase and (published or index < 2))
        closed_at = min(completed + timedelta(days=due_days - 3), world.now - timedelta(hours=2)) if done else None
        rows.append(
            ReviewAction(
                review=review,
                title=title,
                kind=kind,
                owner=staff_pick(world, index),
                due_on=(resolved + timedelta(days=due_days)).date(),
                status=ReviewAction.Status.DONE if done else ReviewAction.Status.OPEN,
                closed_at=closed_at,
                created_at=completed,
            )
        )
    ReviewAction.objects.bulk_create(rows)


def _root_cause(incident: Incident, showcase: bool) -> str:
    if showcase:
        return Review.RootCause.CHANGE
    return Review.RootCause.HARDWARE if "storage" in incident.title else Review.RootCause.CONFIGURATION


def planned_maintenance(now: datetime) -> Episode:
    """Payroll's database upgrade in a few days, on the Saturday morning, announced yesterday."""
    day = now.date() + timedelta(days=3)
    while day.weekday() != 5:
        day += timedelta(days=1)
    start = at(day, "06:00")
    announced = now - timedelta(days=1)
    return Episode(
        kind=Incident.Kind.MAINTENANCE,
        title="Payroll database upgrade",
        problem="the payroll portal and payslips are unavailable",
        status=Incident.Status.SCHEDULED,
        phases=[],
        scheduled_for=start,
        scheduled_until=minutes(start, 150),
        announced_at=announced,
        notice_minutes=60,
        cadence={},
        said=[Said(announced, Incident.Status.SCHEDULED, EVERYONE, "", IncidentUpdate.Kind.NOTICE, None)],
        affected_slugs=["payroll"],
    )


def open_minor_episode(now: datetime) -> Episode:
    """Happening now: VPN slow for some remote staff, cause identified, fix under way."""
    declared = (now - timedelta(minutes=50)).replace(second=0)
    identified = minutes(declared, 26)
    first, second = minutes(declared, 6), minutes(identified, 4)
    return Episode(
        title="VPN connections slow for some remote staff",
        problem="VPN connections are slow for some remote staff",
        description="one gateway of the London pool is overloaded after a routing change",
        severity="sev3",
        status=Incident.Status.IDENTIFIED,
        phases=[Phase("vpn-remote-access", DEGRADED, declared, None)],
        impact_started_at=minutes(declared, -15),
        declared_at=declared,
        identified_at=identified,
        cadence=dict(MINOR_PLAN),
        said=[
            Said(first, Incident.Status.INVESTIGATING, [Audience.INTERNAL, Audience.PUBLIC], "", next_in=60),
            Said(
                second,
                Incident.Status.IDENTIFIED,
                [Audience.INTERNAL, Audience.PUBLIC],
                "Cause found: one VPN gateway is overloaded after a routing change. We are moving sessions off it.",
                next_in=60,
            ),
        ],
    )


def _open_minor_eta(incident: Incident, episode: Episode, now: datetime) -> None:
    assert episode.identified_at is not None  # nosec B101
    eta = minutes(episode.identified_at, 90)
    step = RecoveryStep.objects.create(
        incident=incident,
        title="Move sessions off the overloaded gateway",
        owner=incident.owner,
        status=RecoveryStep.Status.IN_PROGRESS,
        eta=eta,
        eta_confidence="medium",
        customer_facing=True,
        created_at=episode.identified_at,
    )
    EtaChange.objects.bulk_create(
        [
            EtaChange(incident=incident, step=step, eta=eta, confidence="medium", changed_at=episode.identified_at),
            EtaChange(incident=incident, eta=eta, confidence="medium", changed_at=episode.identified_at),
        ]
    )
    incident.eta, incident.eta_confidence = eta, "medium"
    incident.plan_published_at = minutes(episode.identified_at, 4)
    incident.save(update_fields=["eta", "eta_confidence", "plan_published_at"])

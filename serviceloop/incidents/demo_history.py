"""The demo's 90 days of status history: past incidents and completed maintenance windows, spread over
the services so the uptime bars differ, and the email outage week of the demo's story (`demo_story`)
as the major incident it was. Pure data: `history(now, story)` returns the episodes, dated relative
to the demo's today; `demo_write.episode_write` writes them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from serviceloop.core.demo_story import Story
from serviceloop.incidents.demo_write import Episode, Phase, Said
from serviceloop.incidents.models import Audience, ComponentStatus, Incident, IncidentUpdate

DEGRADED, PARTIAL, MAJOR = ComponentStatus.DEGRADED, ComponentStatus.PARTIAL, ComponentStatus.MAJOR
MAINTENANCE = ComponentStatus.MAINTENANCE
EVERYONE: list[str] = [Audience.INTERNAL, Audience.CUSTOMERS, Audience.PUBLIC]
MAJOR_PLAN: dict[str, int] = {Audience.INTERNAL: 30, Audience.CUSTOMERS: 30, Audience.PUBLIC: 30}
MINOR_PLAN: dict[str, int] = {Audience.INTERNAL: 60, Audience.PUBLIC: 60}


def at(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=UTC)


def weekday_on_or_before(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def sunday_on_or_before(day: date) -> date:
    return day - timedelta(days=(day.weekday() + 1) % 7)


def minutes(start: datetime, count: int) -> datetime:
    return start + timedelta(minutes=count)


def _minor(today: date, days_ago: int, hhmm: str, slug: str, steps: list[tuple[str, int]], **fields: object) -> Episode:
    """A minor incident: declared at `hhmm`, each (status, minutes) in turn, resolved after the last."""
    declared = at(weekday_on_or_before(today - timedelta(days=days_ago)), hhmm)
    phases, since = [], declared
    for status, length in steps:
        phases.append(Phase(slug, status, since, minutes(since, length)))
        since = minutes(since, length)
    total = (since - declared).total_seconds() / 60
    return Episode(
        phases=phases,
        severity=str(fields.pop("severity", "sev3")),
        impact_started_at=minutes(declared, -9),
        declared_at=declared,
        identified_at=minutes(declared, round(total * 0.35)),
        monitoring_at=minutes(declared, round(total * 0.8)),
        resolved_at=since,
        cadence=dict(MINOR_PLAN),
        tickets=4,
        **fields,  # type: ignore[arg-type]
    )


def _maintenance(
    day: date, start: str, planned_minutes: int, ran: tuple[int, int], slug: str, title: str, problem: str
) -> Episode:
    """A completed window: planned from `start` for `planned_minutes`; ran (from, to) minutes after its start."""
    scheduled_for = at(day, start)
    started, completed = minutes(scheduled_for, ran[0]), minutes(scheduled_for, ran[1])
    announced = scheduled_for - timedelta(days=7, hours=-2)
    return Episode(
        kind=Incident.Kind.MAINTENANCE,
        title=title,
        problem=problem,
        status=Incident.Status.COMPLETED,
        phases=[Phase(slug, MAINTENANCE, started, completed)],
        scheduled_for=scheduled_for,
        scheduled_until=minutes(scheduled_for, planned_minutes),
        started_at=started,
        completed_at=completed,
        announced_at=announced,
        notice_minutes=60,
        cadence={},
        said=[
            Said(announced, Incident.Status.SCHEDULED, EVERYONE, "", IncidentUpdate.Kind.NOTICE, None),
            Said(
                scheduled_for - timedelta(minutes=60),
                Incident.Status.SCHEDULED,
                [Audience.CUSTOMERS, Audience.PUBLIC],
                "Reminder: the planned maintenance starts in one hour.",
                IncidentUpdate.Kind.NOTICE,
                None,
            ),
            Said(started, Incident.Status.IN_PROGRESS, EVERYONE, "", IncidentUpdate.Kind.UPDATE, None),
            Said(completed, Incident.Status.COMPLETED, EVERYONE, "", IncidentUpdate.Kind.RESOLUTION, None),
        ],
    )


def outage_week(story: Story) -> Episode:
    """The story's email outage: five working days, at its worst on the Monday."""
    monday, friday = story.outage_from, story.outage_to
    declared = at(monday, "08:40")
    phases = [
        Phase(story.outage_service, MAJOR, declared, at(monday + timedelta(days=1), "15:00")),
        Phase(
            story.outage_service,
            PARTIAL,
            at(monday + timedelta(days=1), "15:00"),
            at(monday + timedelta(days=3), "11:00"),
        ),
        Phase(story.outage_service, DEGRADED, at(monday + timedelta(days=3), "11:00"), at(friday, "16:30")),
    ]
    return Episode(
        title="Email & collaboration unavailable after a storage failure",
        problem="mailboxes, calendars and shared drives cannot be opened",
        description="the primary storage array of the mail platform failed and its replica was out of date",
        severity="sev1",
        phases=phases,
        impact_started_at=at(monday, "08:05"),
        declared_at=declared,
        identified_at=at(monday, "11:30"),
        monitoring_at=at(monday + timedelta(days=3), "11:00"),
        resolved_at=at(friday, "16:30"),
        # Five days: updates every four hours were agreed with the customers for this one.
        cadence={Audience.INTERNAL: 240, Audience.CUSTOMERS: 240, Audience.PUBLIC: 240},
        tickets=40,
    )


def history(today: date, story: Story) -> list[Episode]:
    """Every past episode of the 90 days but the showcase incident, oldest first."""
    return [
        _minor(
            today,
            86,
            "14:20",
            "parcel-delivery",
            [(PARTIAL, 45), (DEGRADED, 25)],
            title="Parcel tracking pages not loading",
            problem="tracking pages time out",
            description="a certificate on the tracking partner's side had expired",
        ),
        outage_week(story),
        _maintenance(
            sunday_on_or_before(today - timedelta(days=62)),
            "06:00",
            120,
            (2, 105),
            "laptop-provisioning",
            "Laptop imaging server upgrade",
            "new laptops cannot be imaged",
        ),
        _minor(
            today,
            55,
            "10:05",
            "ride-booking",
            [(DEGRADED, 45)],
            severity="sev4",
            title="Ride booking confirmations delayed",
            problem="confirmations arrive late by mail",
            description="the confirmation mail queue was throttled by the mail relay",
        ),
        _minor(
            today,
            38,
            "07:30",
            "vpn-remote-access",
            [(PARTIAL, 40), (DEGRADED, 60)],
            title="VPN drops connections for remote staff",
            problem="VPN sessions drop after a few minutes",
            description="a gateway in the London pool ran out of session licences",
        ),
        _maintenance(
            sunday_on_or_before(today - timedelta(days=33)) - timedelta(days=1),
            "22:00",
            180,
            (5, 160),
            "email-collaboration",
            "Mail platform patching",
            "mail may be delayed by a few minutes",
        ),
        payday(today),
        _minor(
            today,
            11,
            "09:15",
            "service-desk",
            [(DEGRADED, 80)],
            title="Self-service portal slow",
            problem="portal pages take long to open",
            description="a search index rebuild ran during office hours",
        ),
        _maintenance(
            sunday_on_or_before(today - timedelta(days=9)),
            "05:00",
            60,
            (2, 48),
            "vpn-remote-access",
            "VPN gateway firmware update",
            "VPN connections are interrupted for a few minutes",
        ),
    ]


def payday(today: date) -> Episode:
    """A major incident on payroll three weeks ago: its review is completed, not yet published."""
    day = weekday_on_or_before(today - timedelta(days=19))
    declared = at(day, "11:40")
    return Episode(
        title="Payroll portal unavailable on pay day",
        problem="payslips and the payroll portal cannot be opened",
        description="a database failover left the portal pointing at the read-only replica",
        severity="sev2",
        phases=[
            Phase("payroll", MAJOR, declared, minutes(declared, 95)),
            Phase("payroll", PARTIAL, minutes(declared, 95), minutes(declared, 145)),
        ],
        impact_started_at=minutes(declared, -12),
        declared_at=declared,
        identified_at=minutes(declared, 50),
        monitoring_at=minutes(declared, 120),
        resolved_at=minutes(declared, 145),
        cadence=dict(MAJOR_PLAN),
        tickets=10,
    )

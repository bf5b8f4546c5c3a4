"""Trust evidence for the state tests: DOMAIN §5's scenarios as engine Evidence, and the same written
as TrustEvidence rows (what the evidence helpers would have recorded), so a stored state can be held
against trust_engine.replay of the very same list."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from serviceloop.accounts.models import Organisation
from serviceloop.catalogue.models import Service
from serviceloop.experience.trust_engine import Evidence
from serviceloop.experience.trust_models import TrustEvidence

START = date(2024, 1, 1)  # a Monday
MATURE = START + timedelta(days=7 * 104 - 1)  # Sunday 2025-12-28: two years of met weeks behind it


def met_weeks(first_monday: date, count: int, share: float = 1.0) -> list[Evidence]:
    """A week with its targets met, dated its Sunday (the day it is judged complete)."""
    return [Evidence(at=first_monday + timedelta(days=7 * i + 6), kind="week_met", share=share) for i in range(count)]


def major(
    incident: str,
    at: date,
    *,
    severity: float = 1.0,
    resolved: date | None = None,
    communication: float = 1.0,
    plan: float = 1.0,
    actions: Iterable[tuple[date, float]] = (),
) -> list[Evidence]:
    """A major incident, its resolution (recovery credit) and review actions closing, as the log has them."""
    label = f"major incident MI-{incident}"
    rows = [Evidence(at=at, kind="major_incident", severity=severity, incident=incident, label=label)]
    if resolved is not None:
        rows.append(
            Evidence(
                at=resolved,
                kind="major_resolved",
                communication=communication,
                plan=plan,
                incident=incident,
                label=f"{label} resolved",
            )
        )
    rows += [
        Evidence(at=day, kind="review_actions_closed", share=share, incident=incident, label=f"{label} review actions")
        for day, share in actions
    ]
    return rows


def scenario_mature_major() -> tuple[list[Evidence], date]:
    """Two years of met weeks, then a major incident and no recovery: ≈83 → ≈65."""
    day = MATURE + timedelta(days=1)
    return [*met_weeks(START, 104), *major("12", day)], day


def scenario_mature_recovered() -> tuple[list[Evidence], date]:
    """The same incident handled well (communication on cadence, a plan, every action closed): back about half."""
    day = MATURE + timedelta(days=1)
    closed = day + timedelta(days=20)
    evidence = [*met_weeks(START, 104), *major("12", day, resolved=day, actions=[(closed, 1.0)])]
    return evidence, closed


def scenario_small_failures() -> tuple[list[Evidence], date]:
    """Twelve weekly small failures after two mature years (the weeks still met): 83 → ≈71."""
    failures = [Evidence(at=MATURE + timedelta(days=7 * i + 1), kind="small_failure") for i in range(12)]
    weeks_after = met_weeks(MATURE + timedelta(days=1), 12)
    return [*met_weeks(START, 104), *failures, *weeks_after], MATURE + timedelta(days=84)


def scenario_new_relationship() -> tuple[list[Evidence], date]:
    """A major incident in the second month of a relationship: it loses more than a mature one."""
    day = START + timedelta(days=7 * 8)
    return [*met_weeks(START, 8), *major("3", day)], day


def scenario_two_majors() -> tuple[list[Evidence], date]:
    """Two majors a month apart, both handled well: the second earns half the credit (ρ 0.25)."""
    first = MATURE + timedelta(days=1)
    second = first + timedelta(days=30)
    evidence = [
        *met_weeks(START, 104),
        *major("20", first, resolved=first, actions=[(first + timedelta(days=10), 1.0)]),
        *major("21", second, resolved=second, actions=[(second + timedelta(days=10), 1.0)]),
    ]
    return evidence, second + timedelta(days=10)


SCENARIOS = {
    "mature_major": scenario_mature_major,
    "mature_recovered": scenario_mature_recovered,
    "small_failures": scenario_small_failures,
    "new_relationship": scenario_new_relationship,
    "two_majors": scenario_two_majors,
}


def store(organisation: Organisation, service: Service, evidence: Iterable[Evidence], *, prefix: str = "") -> None:
    """Write `evidence` as the pair's TrustEvidence rows (one insert)."""
    rows = []
    for index, item in enumerate(evidence):
        rows.append(
            TrustEvidence(
                organisation=organisation,
                service=service,
                day=item.at,
                occurred_at=datetime.combine(item.at, time(12, 0), tzinfo=UTC),
                kind=item.kind,
                share=item.share,
                severity=item.severity,
                communication=item.communication,
                plan=item.plan,
                incident_key=item.incident or "",
                source_type="tests",
                key=f"test:{prefix}{organisation.pk}:{service.pk}:{index}:{item.kind}:{item.at}",
                label=item.label or item.kind.replace("_", " "),
            )
        )
    TrustEvidence.objects.bulk_create(rows)

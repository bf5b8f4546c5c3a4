"""Trust rows for the page and API tests, written directly: evidence rows, and the state and weekly
points the engine makes of them, stored in the shape trust_states.py stores (docs/trust.md, the
contract of issue 14): contributions {"group", "label", "effect", "count", "pending"} and majors
{"incident_id", "incident_key", "label", "at", ..., "effect", "credit_earned", "credit_pending"}.

The figures are the real engine's (trust_engine.replay and contributions) so a page shows what the
model says; only the writing of the state is done here rather than by trust_states.state_refresh, so
these tests pass without the evidence and states helpers' code.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from serviceloop.accounts.models import Organisation
from serviceloop.catalogue.models import Service
from serviceloop.experience import trust_engine
from serviceloop.experience.trust_models import TrustEvidence, TrustPoint, TrustSharing, TrustState
from serviceloop.incidents.models import Incident

_keys = itertools.count(1)
KIND_LABELS = {
    "week_met": "weeks with targets met",
    "positive_answer": "positive answers",
    "negative_answer": "negative answers",
    "negative_post": "negative posts",
    "small_failure": "small failures",
    "availability_missed": "missed availability months",
}


def evidence(
    organisation: Organisation,
    service: Service,
    day: date,
    kind: str,
    *,
    label: str = "",
    incident: Incident | None = None,
    **fields: Any,
) -> TrustEvidence:
    return TrustEvidence.objects.create(
        organisation=organisation,
        service=service,
        day=day,
        occurred_at=datetime.combine(day, time(12), UTC),
        kind=kind,
        incident=incident,
        incident_key=str(incident.pk) if incident is not None else fields.pop("incident_key", ""),
        source_type="incidents.incident" if incident is not None else "tests",
        key=f"test:{next(_keys)}",
        label=label or kind.replace("_", " "),
        **fields,
    )


def weeks(organisation: Organisation, service: Service, first: date, count: int, share: float = 1.0) -> None:
    """`count` met weeks, one each Sunday from the week of `first`."""
    sunday = first + timedelta(days=6 - first.weekday())
    for week in range(count):
        day = sunday + timedelta(weeks=week)
        evidence(organisation, service, day, "week_met", share=share, label=f"week ending {day}")


def major(
    organisation: Organisation,
    service: Service,
    incident: Incident,
    began: date,
    *,
    severity: float = 1.0,
    resolved: date | None = None,
    communication: float = 1.0,
    plan: float = 1.0,
    closed: tuple[date, float] | None = None,
) -> None:
    label = f"major incident {incident.reference}"
    evidence(organisation, service, began, "major_incident", label=label, incident=incident, severity=severity)
    if resolved is not None:
        evidence(
            organisation,
            service,
            resolved,
            "major_resolved",
            label=f"{label} resolved",
            incident=incident,
            communication=communication,
            plan=plan,
        )
    if closed is not None:
        evidence(
            organisation,
            service,
            closed[0],
            "review_actions_closed",
            label=f"{label}: review actions closed",
            incident=incident,
            share=closed[1],
        )


def _engine_rows(rows: list[TrustEvidence]) -> list[trust_engine.Evidence]:
    return [
        trust_engine.Evidence(
            at=row.day,
            kind=row.kind,
            share=row.share,
            severity=row.severity,
            incident=row.incident_key or None,
            communication=row.communication,
            plan=row.plan,
            key=str(row.pk),
            label=row.label,
        )
        for row in rows
    ]


def _band(trust: float, confidence: float) -> str:
    if confidence < 0.2:
        return "unknown"
    return "red" if trust < 55 else "watch" if trust < 70 else "good"


def state_of(organisation: Organisation, service: Service, today: date, *, version: int = 1) -> TrustState:
    """Replay the pair's evidence up to `today` and store its state and points (each Sunday and today)."""
    rows = list(TrustEvidence.objects.filter(organisation=organisation, service=service).order_by("day", "pk"))
    engine = _engine_rows(rows)
    first = rows[0].day
    sundays = [first + timedelta(days=6 - first.weekday() + 7 * n) for n in range(((today - first).days // 7) + 1)]
    days = [*[day for day in sundays if day < today][-104:], today]
    before = today - timedelta(days=30)
    replayed = trust_engine.replay(engine, [*days, before] if before >= first else days)
    by_day = {point.at: point for point in replayed.points}
    now = by_day[today]
    contributions = trust_engine.contributions(engine, today, kind_labels=KIND_LABELS)[:12]
    effects = {c.group: c for c in contributions}
    incidents = {str(row.incident_key): row.incident_id for row in rows if row.incident_key}
    majors = []
    for key, outcome in sorted(replayed.majors.items(), key=lambda item: item[1].at, reverse=True):
        credit = effects.get(f"credit:{key}")
        majors.append(
            {
                "incident_id": incidents.get(key),
                "incident_key": key,
                "label": outcome.label,
                "at": outcome.at.isoformat(),
                "severity": outcome.severity,
                "rho": outcome.rho,
                "poor_communication": outcome.poor,
                "resolved_at": outcome.resolved_at.isoformat() if outcome.resolved_at else None,
                "communication": outcome.communication,
                "plan": outcome.plan,
                "share_closed": outcome.share_closed,
                "effect": effects[f"major:{key}"].effect if f"major:{key}" in effects else 0.0,
                "credit_earned": credit.effect if credit else 0.0,
                "credit_pending": credit.pending if credit else 0.0,
            }
        )
    trust_before = by_day[before].trust if before in by_day else None
    state, _ = TrustState.objects.update_or_create(
        organisation=organisation,
        service=service,
        defaults={
            "as_of": today,
            "trust": now.trust,
            "confidence": now.confidence,
            "band": _band(now.trust, now.confidence),
            "r": now.r,
            "s": now.s,
            "trust_before": trust_before,
            "change": None if trust_before is None else round(now.trust - trust_before, 1),
            "evidence_count": len(rows),
            "first_day": first,
            "contributions": [
                {"group": c.group, "label": c.label, "effect": c.effect, "count": c.count, "pending": c.pending}
                for c in contributions
            ],
            "majors": majors,
            "parameters_version": version,
        },
    )
    TrustPoint.objects.filter(organisation=organisation, service=service).delete()
    TrustPoint.objects.bulk_create(
        TrustPoint(
            organisation=organisation,
            service=service,
            day=day,
            trust=by_day[day].trust,
            confidence=by_day[day].confidence,
            parameters_version=version,
        )
        for day in days
    )
    return state


def share(organisation: Organisation, shown: bool = True) -> None:
    TrustSharing.objects.update_or_create(organisation=organisation, defaults={"shown_in_portal": shown})

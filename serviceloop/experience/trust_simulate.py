"""`serviceloop trust simulate` and `POST /api/experience/trust/simulate`: the JSON input checked
strictly (every refusal names the event, its kind and the field), then replayed by the engine
(trust_engine.replay) without touching the database. docs/trust.md, "Simulate".
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from serviceloop.experience.trust_engine import (
    KINDS,
    Evidence,
    Parameters,
    TrustInputError,
    _finite_number,
    _shown,
    parameters_from,
    replay,
)

_NUMBER_FIELDS = {
    "week_met": {"share": False},
    "positive_answer": {},
    "negative_answer": {},
    "negative_post": {},
    "small_failure": {},
    "availability_missed": {},
    "neutral_answer": {},
    "ticket_opened": {},
    "major_incident": {"severity": True},
    "major_resolved": {"communication": True, "plan": True},
    "review_actions_closed": {"share": True},
}
_NEEDS_ID = {"major_incident", "major_resolved", "review_actions_closed"}
MAX_EVENTS = 100_000
MAX_POINTS = 10_000


_DAY_WRITTEN = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _day(value: Any, where: str) -> date:
    # Only YYYY-MM-DD: date.fromisoformat would also take 20260105 and 2026-W02-1, which the
    # output (and every other day in the product) never writes.
    if isinstance(value, str) and _DAY_WRITTEN.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise TrustInputError(f'{where}: "at" must be a day written YYYY-MM-DD, not {_shown(value)}')


def simulate_input(document: Any) -> tuple[Parameters, list[Evidence], list[date]]:
    """Check a simulate document ({"parameters", "events", "at"}) and turn it into the engine's
    input. Every refusal names the event (by its position, from 0) and the field."""
    if not isinstance(document, dict):
        raise TrustInputError('the input must be a JSON object with "events" and "at"')
    unknown = sorted(set(document) - {"parameters", "events", "at"})
    if unknown:
        raise TrustInputError(f'unknown top-level field {unknown[0]!r} (expected "parameters", "events", "at")')
    parameters = parameters_from(document.get("parameters"))
    raw_events = document.get("events", [])
    if not isinstance(raw_events, list):
        raise TrustInputError('"events" must be a list')
    if len(raw_events) > MAX_EVENTS:
        raise TrustInputError(f'"events" holds {len(raw_events)} events; at most {MAX_EVENTS} are replayed at once')
    raw_at = document.get("at")
    if not isinstance(raw_at, list) or not raw_at:
        raise TrustInputError('"at" must be a non-empty list of days (YYYY-MM-DD) to answer a point for')
    if len(raw_at) > MAX_POINTS:
        raise TrustInputError(f'"at" asks for {len(raw_at)} points; at most {MAX_POINTS}')
    days = [_day(value, f"at[{i}]") for i, value in enumerate(raw_at)]
    evidence = [_event(raw, i, parameters) for i, raw in enumerate(raw_events)]
    _check_references(evidence)
    return parameters, evidence, days


def _event(raw: Any, index: int, p: Parameters) -> Evidence:
    where = f"events[{index}]"
    if not isinstance(raw, dict):
        raise TrustInputError(f'{where}: must be an object with "at" and "kind", not {_shown(raw)}')
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in _NUMBER_FIELDS:
        raise TrustInputError(f"{where}.kind: must be one of {', '.join(KINDS)}, not {_shown(kind)}")
    where = f"events[{index}] ({kind})"
    day = _day(raw.get("at"), where)
    allowed = {"at", "kind", *_NUMBER_FIELDS[kind], *({"id"} if kind in _NEEDS_ID else set()), "label"}
    if kind == "small_failure":
        allowed |= {"ticket", "opened"}
    extra = sorted(set(raw) - allowed)
    if extra:
        raise TrustInputError(f"{where}.{extra[0]}: not a field of {kind} (its fields: {', '.join(sorted(allowed))})")
    values: dict[str, float | None] = {}
    for name, required in _NUMBER_FIELDS[kind].items():
        value = raw.get(name)
        if value is None:
            if required:
                raise TrustInputError(f"{where}.{name}: required")
            values[name] = None
            continue
        if not _finite_number(value):
            raise TrustInputError(f"{where}.{name}: must be a number, not {_shown(value)}")
        low, high = (p.severity_min, p.severity_max) if name == "severity" else (0.0, 1.0)
        if not low <= value <= high:
            raise TrustInputError(f"{where}.{name}: must be between {low:g} and {high:g}, not {value!r}")
        values[name] = float(value)
    incident = None
    if kind in _NEEDS_ID:
        value = raw.get("id")
        if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
            raise TrustInputError(f"{where}.id: required, the major incident's id (a string or a number)")
        incident = str(value)
    label = raw.get("label", "")
    if not isinstance(label, str):
        raise TrustInputError(f"{where}.label: must be a string")
    per_ticket = raw.get("ticket", False)
    if not isinstance(per_ticket, bool):
        raise TrustInputError(f"{where}.ticket: must be true or false, not {_shown(per_ticket)}")
    opened = None
    if raw.get("opened") is not None:
        if not per_ticket:
            raise TrustInputError(f'{where}.opened: only a ticket\'s failure ("ticket": true) has an opening day')
        value = raw["opened"]
        if not (isinstance(value, str) and _DAY_WRITTEN.fullmatch(value)):
            raise TrustInputError(f"{where}.opened: must be a day written YYYY-MM-DD, not {_shown(value)}")
        try:
            opened = date.fromisoformat(value)
        except ValueError:
            raise TrustInputError(f"{where}.opened: must be a day written YYYY-MM-DD, not {_shown(value)}") from None
        if opened > day:
            raise TrustInputError(f"{where}.opened: the ticket cannot be opened after its failure ({opened} > {day})")
    return Evidence(
        at=day,
        kind=kind,
        incident=incident,
        key=str(index),
        label=label[:200],
        per_ticket=per_ticket,
        opened=opened,
        **values,
    )


def _check_references(evidence: list[Evidence]) -> None:
    declared: dict[str, date] = {}
    resolved: dict[str, date] = {}
    for index, item in enumerate(evidence):
        where = f"events[{index}] ({item.kind}).id"
        if item.incident is None:
            continue
        if item.kind == "major_incident":
            if item.incident in declared:
                raise TrustInputError(f"{where}: major incident {item.incident!r} is already in events")
            declared[item.incident] = item.at
    for index, item in enumerate(evidence):
        where = f"events[{index}] ({item.kind}).id"
        if item.kind == "major_resolved":
            start = declared.get(item.incident or "")
            if start is None:
                raise TrustInputError(f"{where}: no major_incident with id {item.incident!r}")
            if item.at < start:
                raise TrustInputError(f"{where}: resolved on {item.at} before the incident began on {start}")
            if item.incident in resolved:
                raise TrustInputError(f"{where}: major incident {item.incident!r} is already resolved")
            resolved[item.incident or ""] = item.at
    for index, item in enumerate(evidence):
        where = f"events[{index}] ({item.kind}).id"
        if item.kind == "review_actions_closed":
            done = resolved.get(item.incident or "")
            if done is None:
                raise TrustInputError(f"{where}: no major_resolved for major incident {item.incident!r}")
            if item.at < done:
                raise TrustInputError(
                    f"{where}: actions closed on {item.at} before the incident was resolved on {done}"
                )


def simulate(document: Any) -> dict[str, Any]:
    """`serviceloop trust simulate` and `POST /api/experience/trust/simulate`: no database."""
    parameters, evidence, days = simulate_input(document)
    result = replay(evidence, days, parameters)
    by_day = {point.at: point for point in result.points}
    return {
        "points": [
            {"at": day.isoformat(), "trust": by_day[day].trust, "confidence": by_day[day].confidence} for day in days
        ],
        "majors": [
            {
                "id": m.incident,
                "at": m.at.isoformat(),
                "severity": m.severity,
                "rho": round(m.rho, 4),
                "poor_communication": m.poor,
                "credit_earned": round(m.credit, 3),
                "credit_pending": round(m.pending, 3),
            }
            for m in result.majors.values()
        ],
        "parameters": parameters.as_dict(),
    }

"""Trust states: the evidence log of each (organisation, service) replayed by the engine, stored with
the version of the parameters it used, its weekly points, its explanation, and alerts on it.

A state is a cache: `state_refresh` throws the old one away and replays every row of the pair
(trust_engine.replay), so a state never drifts from its log and a new parameter version is one
`states_recompute_all` away. The replay is pure arithmetic on rows read in one query, so a refresh
costs the same few queries whether the pair has ten rows or ten thousand. Who refreshes: the
receivers (the pairs their new evidence touches), the hourly beat (`states_refresh_stale`: trust
decays day by day without new evidence), parameter adoption and `serviceloop trust recompute`.
docs/trust.md, "States, bands and alerts".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, Q

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Service
from serviceloop.core import clock
from serviceloop.core.errors import InvalidInput, NotAllowed
from serviceloop.core.events import event_record
from serviceloop.experience.alerts import alert_raise, alert_recover
from serviceloop.experience.models import Alert
from serviceloop.experience.recount import day_of
from serviceloop.experience.trust_engine import (
    Contribution,
    Evidence,
    MajorOutcome,
    Parameters,
    TrustInputError,
    contributions,
    parameters_from,
    replay,
)
from serviceloop.experience.trust_models import TrustBand, TrustEvidence, TrustParameterSet, TrustPoint, TrustState

logger = logging.getLogger(__name__)

T = TypeVar("T")
Pair = tuple[int, int]

# How the pages name each kind's group of evidence (TrustState.contributions' "label").
KIND_LABELS = {
    "week_met": "weeks with targets met",
    "positive_answer": "positive answers",
    "negative_answer": "negative answers",
    "negative_post": "negative posts",
    "small_failure": "small failures",
    "availability_missed": "missed availability months",
}
TOP_CONTRIBUTIONS = 12  # kept on the state
ALERT_CONTRIBUTIONS = 3  # shown in an alert
RED_RECOVERY_MARGIN = 2.0  # a red alert recovers at RED + this: no flapping around the line

# The columns a replay needs (one query per pair).
_ROW_FIELDS = (
    "pk",
    "day",
    "kind",
    "share",
    "severity",
    "communication",
    "plan",
    "incident_id",
    "incident_key",
    "label",
    "source_type",
    "details",
)


# ------------------------------------------------------------------------------------ parameters


def parameters_current() -> tuple[int, Parameters]:
    """The version in use (the highest) and its parameters; version 1 (the defaults) when none exists."""
    current = TrustParameterSet.objects.order_by("-version").first()
    if current is None:
        try:
            with transaction.atomic():
                current = TrustParameterSet.objects.create(version=1, values={}, note="The model's defaults")
        except IntegrityError:
            # Created by a concurrent first caller: theirs is the one.
            current = TrustParameterSet.objects.order_by("-version").first()
            assert current is not None  # nosec B101  # the conflicting row exists
    return current.version, parameters_from(current.values)


def parameters_adopt(
    *, values: dict[str, Any], note: str, by: User | None, recompute: bool = True
) -> TrustParameterSet:
    """Adopt a new version (max + 1) of the parameters, then recompute every state with it (the
    command line waits for that; the API passes recompute=False and leaves it to the worker: the
    hourly refresh takes every state of an older version, and the API asks for it at once).

    `values` are overrides of the defaults, whole: parameters not named are the defaults, not those
    of the version before. `by` None is the command line (an operator on the server); a login must
    be an administrator. A bad parameter is refused with the engine's message (names the parameter).
    """
    if by is not None and not getattr(by, "is_administrator", False):
        raise NotAllowed("not_an_administrator", "Only administrators adopt trust parameters.")
    if not isinstance(values, dict):
        raise InvalidInput("invalid", "values: an object of parameter names and numbers.", field="values")
    try:
        checked = parameters_from(values)
    except TrustInputError as error:
        raise InvalidInput("invalid_parameters", error.message, field="values") from None
    note = (note or "").strip()
    if len(note) > 500:
        raise InvalidInput("invalid", "note: at most 500 characters.", field="note")
    stored = {name: getattr(checked, name) for name in values}
    parameters_current()  # version 1 exists, so the lock below always has a row to hold
    with transaction.atomic():
        # Concurrent adoptions queue on the lowest version's row (it never changes); the highest
        # version is read after the lock, by a statement that sees what the one before committed.
        TrustParameterSet.objects.select_for_update().order_by("version").first()
        latest = TrustParameterSet.objects.aggregate(highest=Max("version"))["highest"] or 1
        adopted = TrustParameterSet.objects.create(
            version=latest + 1,
            values=stored,
            note=note,
            adopted_by=by if by is not None and by.pk else None,
            adopted_at=clock.now(),
        )
        event_record(
            "trust.parameters_adopted",
            subject=adopted,
            by=by,
            version=adopted.version,
            values=stored,
            note=note,
        )
    logger.info("trust parameters v%s adopted: %s", adopted.version, stored)
    if recompute:
        states_recompute_all()
    else:
        from serviceloop.core.tasks import enqueue
        from serviceloop.experience.tasks import trust_refresh

        transaction.on_commit(lambda: enqueue(trust_refresh))
    return adopted


# --------------------------------------------------------------------------------------- evidence


def _as_evidence(row: dict[str, Any]) -> Evidence:
    return Evidence(
        at=row["day"],
        kind=row["kind"],
        share=row["share"],
        severity=row["severity"],
        incident=row["incident_key"] or None,
        communication=row["communication"],
        plan=row["plan"],
        key=str(row["pk"]),
        label=row["label"],
        # A ticket's failure (breach, reopen) is weighed by the week's tickets (the volume rule).
        per_ticket=row["kind"] == "small_failure" and row["source_type"] == "desk.ticket",
        opened=_opened_on(row),
    )


def _opened_on(row: dict[str, Any]) -> date | None:
    """A ticket failure's opening day (details "opened_on"), by which the volume rule weighs it."""
    value = (row.get("details") or {}).get("opened_on") if row["source_type"] == "desk.ticket" else None
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _rows(organisation_id: int, service_id: int, until: date | None = None) -> list[dict[str, Any]]:
    rows = TrustEvidence.objects.filter(organisation_id=organisation_id, service_id=service_id)
    if until is not None:
        rows = rows.filter(day__lte=until)
    return list(rows.order_by("day", "pk").values(*_ROW_FIELDS))


def evidence_of_pair(organisation_id: int, service_id: int) -> list[Evidence]:
    """Every row of the pair as the engine's Evidence (incident = incident_key, key = the row's id)."""
    return [_as_evidence(row) for row in _rows(organisation_id, service_id)]


# ------------------------------------------------------------------------------------------ bands


def band_of(trust: float, confidence: float) -> str:
    """TrustBand of a level: unknown with too little evidence to say, else red, watch or good."""
    if confidence < float(settings.SERVICELOOP_TRUST_MIN_CONFIDENCE):
        return TrustBand.UNKNOWN
    if trust < float(settings.SERVICELOOP_TRUST_RED):
        return TrustBand.RED
    if trust < float(settings.SERVICELOOP_TRUST_WATCH):
        return TrustBand.WATCH
    return TrustBand.GOOD


# ----------------------------------------------------------------------------------------- states


def today_local() -> date:
    """Today in settings.TIME_ZONE, by the project clock."""
    return day_of(clock.now())


def point_days(first_day: date, today: date) -> list[date]:
    """The trend's days: each Sunday from the first evidence (the latest POINT_WEEKS of them), then today."""
    weeks = max(0, int(settings.SERVICELOOP_TRUST_POINT_WEEKS))
    last_sunday = today - timedelta(days=(today.weekday() + 1) % 7)
    sundays: list[date] = []
    day = last_sunday
    while day >= first_day and len(sundays) < weeks:
        sundays.append(day)
        day -= timedelta(days=7)
    sundays.reverse()
    return sundays if sundays and sundays[-1] == today else [*sundays, today]


def _by_group(found: list[Contribution]) -> dict[str, Contribution]:
    return {c.group: c for c in found}


def majors_json(
    outcomes: dict[str, MajorOutcome], found: list[Contribution], incident_ids: dict[str, int | None]
) -> list[dict[str, Any]]:
    """TrustState.majors: each major incident of the pair, newest first, its drop and its credit in points."""
    groups = _by_group(found)
    result = []
    for key, major in sorted(outcomes.items(), key=lambda item: (item[1].at, item[0]), reverse=True):
        drop = groups.get(f"major:{key}")
        credit = groups.get(f"credit:{key}")
        result.append(
            {
                "incident_id": incident_ids.get(key),
                "incident_key": key,
                "label": major.label or f"major incident {key}",
                "at": major.at.isoformat(),
                "severity": round(major.severity, 3),
                "rho": round(major.rho, 4),
                "poor_communication": major.poor,
                "resolved_at": major.resolved_at.isoformat() if major.resolved_at else None,
                "communication": major.communication,
                "plan": major.plan,
                "share_closed": major.share_closed,
                "effect": drop.effect if drop else 0.0,
                "credit_earned": credit.effect if credit else 0.0,
                "credit_pending": credit.pending if credit else 0.0,
            }
        )
    return result


def state_refresh(organisation_id: int, service_id: int, *, today: date | None = None) -> TrustState | None:
    """Replay the pair's evidence up to `today` with the current parameters and store the result.

    None, and no state (an old one is removed), when the pair has no evidence up to today.
    """
    version, parameters = parameters_current()
    return _refresh(organisation_id, service_id, today or today_local(), version, parameters)


def _replayed(
    rows: list[dict[str, Any]], today: date, version: int, p: Parameters
) -> tuple[dict[str, Any], list[tuple[date, float, float]]]:
    """The state's fields and its points (day, trust, confidence) from the pair's rows up to today."""
    evidence = [_as_evidence(row) for row in rows]
    first_day = rows[0]["day"]
    days = point_days(first_day, today)
    before_day = today - timedelta(days=int(settings.SERVICELOOP_TRUST_FALL_DAYS))
    asked = [*days, before_day] if before_day >= first_day else days
    result = replay(evidence, asked, p, until=today)
    by_day = {point.at: point for point in result.points}
    now_point = by_day[today]
    trust_before = by_day[before_day].trust if before_day >= first_day else None
    found = contributions(evidence, today, p, kind_labels=KIND_LABELS)
    incident_ids = {row["incident_key"]: row["incident_id"] for row in rows if row["kind"] == "major_incident"}
    values = {
        "as_of": today,
        "trust": now_point.trust,
        "confidence": now_point.confidence,
        "band": band_of(now_point.trust, now_point.confidence),
        "r": now_point.r,
        "s": now_point.s,
        "trust_before": trust_before,
        "change": round(now_point.trust - trust_before, 1) if trust_before is not None else None,
        "evidence_count": len(rows),
        "first_day": first_day,
        "contributions": [asdict(c) for c in found[:TOP_CONTRIBUTIONS]],
        "majors": majors_json(result.majors, found, incident_ids),
        "parameters_version": version,
        "computed_at": clock.now(),
    }
    return values, [(day, by_day[day].trust, by_day[day].confidence) for day in days]


def _refresh(organisation_id: int, service_id: int, today: date, version: int, p: Parameters) -> TrustState | None:
    """Lock the pair's state, then read its rows: a refresh that waited for a concurrent one reads
    the evidence that one may not have seen, so the last state written is never the older replay.
    Two first refreshes of a pair meet at the unique constraint; the loser refreshes the winner's."""
    pair = {"organisation_id": organisation_id, "service_id": service_id}
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                state = TrustState.objects.select_for_update().filter(**pair).first()
                rows = _rows(organisation_id, service_id, until=today)
                if not rows:
                    if state is not None:
                        state.delete()
                    TrustPoint.objects.filter(**pair).delete()
                    break
                values, points = _replayed(rows, today, version, p)
                if state is None:
                    state = TrustState.objects.create(**pair, **values)
                else:
                    for name, value in values.items():
                        setattr(state, name, value)
                    state.save()
                TrustPoint.objects.filter(**pair).delete()
                TrustPoint.objects.bulk_create(
                    TrustPoint(**pair, day=day, trust=trust, confidence=confidence, parameters_version=version)
                    for day, trust, confidence in points
                )
        except IntegrityError:
            if attempt == 2:
                raise
            continue
        _alerts(state)
        return state
    # No evidence up to today: no state, no points, and nothing left to alert about.
    for cause in causes_of(organisation_id, service_id):
        alert_recover(cause, figures={"kind": "trust", "note": "no evidence left"})
    return None


def states_refresh(pairs: Iterable[Pair], *, today: date | None = None) -> int:
    """Refresh each distinct (organisation_id, service_id); how many states were stored."""
    wanted = sorted(set(pairs))
    if not wanted:
        return 0
    version, parameters = parameters_current()
    day = today or today_local()
    return sum(1 for org, service in wanted if _refresh(org, service, day, version, parameters) is not None)


def stale_pairs(today: date, version: int) -> list[Pair]:
    """Pairs whose state is older than today or of another parameter version, and pairs with
    evidence and no state yet."""
    old = TrustState.objects.filter(Q(as_of__lt=today) | ~Q(parameters_version=version)).values_list(
        "organisation_id", "service_id"
    )
    has_state = TrustState.objects.filter(
        organisation_id=OuterRef("organisation_id"), service_id=OuterRef("service_id")
    )
    missing = (
        TrustEvidence.objects.filter(~Exists(has_state), day__lte=today)
        .order_by()  # the model's ordering would make DISTINCT run over (pair, day, id): every row
        .values_list("organisation_id", "service_id")
        .distinct()
    )
    return sorted({*old, *missing})


def states_refresh_stale(*, today: date | None = None) -> int:
    """The hourly beat: recompute the states not computed for today (or with an older parameter
    version) and the pairs with evidence and no state; how many states were stored."""
    day = today or today_local()
    version, parameters = parameters_current()
    pairs = stale_pairs(day, version)
    stored = sum(1 for org, service in pairs if _refresh(org, service, day, version, parameters) is not None)
    if pairs:
        logger.info("trust: %s stale pair(s) refreshed, %s state(s) stored", len(pairs), stored)
    return stored


def states_recompute_all(
    *, today: date | None = None, wrap: Callable[[Iterable[Pair], int], Iterable[Pair]] | None = None
) -> int:
    """Recompute every pair with evidence (after a parameter adoption, `serviceloop trust recompute`);
    states of pairs left without evidence are removed. `wrap(pairs, total)` shows progress."""
    day = today or today_local()
    version, parameters = parameters_current()
    pairs = sorted(TrustEvidence.objects.order_by().values_list("organisation_id", "service_id").distinct())
    orphans = TrustState.objects.exclude(
        Exists(
            TrustEvidence.objects.filter(organisation_id=OuterRef("organisation_id"), service_id=OuterRef("service_id"))
        )
    ).values_list("organisation_id", "service_id")
    for org, service in list(orphans):
        _refresh(org, service, day, version, parameters)  # no evidence: removed, its alerts recovered
    chosen: Iterable[Pair] = wrap(pairs, len(pairs)) if wrap is not None else pairs
    stored = sum(1 for org, service in chosen if _refresh(org, service, day, version, parameters) is not None)
    logger.info("trust: %s state(s) recomputed with parameters v%s", stored, version)
    return stored


# ----------------------------------------------------------------------------------------- alerts


def red_cause(organisation_id: int, service_id: int) -> str:
    return f"trust:red:{organisation_id}:{service_id}"


def fall_cause(organisation_id: int, service_id: int) -> str:
    return f"trust:fall:{organisation_id}:{service_id}"


def causes_of(organisation_id: int, service_id: int) -> tuple[str, str]:
    return red_cause(organisation_id, service_id), fall_cause(organisation_id, service_id)


def alert_figures(state: TrustState, organisation: str, service: str) -> dict[str, Any]:
    """What a trust alert records: the level, its band, the trend and what moved it most."""
    return {
        "kind": "trust",
        "organisation": organisation,
        "service": service,
        "as_of": state.as_of.isoformat(),
        "trust": state.trust,
        "confidence": state.confidence,
        "band": state.band,
        "trust_before": state.trust_before,
        "change": state.change,
        "fall_days": int(settings.SERVICELOOP_TRUST_FALL_DAYS),
        "red_below": float(settings.SERVICELOOP_TRUST_RED),
        "fall_points": float(settings.SERVICELOOP_TRUST_FALL_POINTS),
        "contributions": [
            {"label": c["label"], "effect": c["effect"], "pending": c.get("pending", 0.0)}
            for c in state.contributions[:ALERT_CONTRIBUTIONS]
        ],
        "parameters_version": state.parameters_version,
    }


def _signed(value: float) -> str:
    return f"{value:+.1f}".replace("-", "−")


def trust_figure_lines(figures: dict[str, Any]) -> list[str]:
    """A trust alert's figures as plain lines (the mail and the alert page, through
    alerts.figure_lines)."""
    if figures.get("kind") != "trust" or "trust" not in figures:
        return []
    band = TrustBand(figures["band"]).label if figures.get("band") in TrustBand.values else figures.get("band")
    lines = [
        f"Trust: {figures['trust']} of 100 on {figures.get('as_of')} (band: {band}; "
        f"confidence {figures.get('confidence')})"
    ]
    if figures.get("change") is not None:
        lines.append(
            f"Change over {figures.get('fall_days')} days: {_signed(figures['change'])} points "
            f"(from {figures.get('trust_before')})"
        )
    for item in figures.get("contributions") or []:
        pending = item.get("pending") or 0.0
        more = f", pending {_signed(pending)} until the review's actions close" if pending else ""
        lines.append(f"{item.get('label')}: {_signed(item.get('effect', 0.0))} points{more}")
    if figures.get("parameters_version") is not None:
        lines.append(f"Model parameters: version {figures['parameters_version']}")
    return lines


def _alerts(state: TrustState) -> None:
    """Raise or recover the pair's red and fall alerts; one open per cause, so a refresh that finds
    the same thing again changes nothing (no storms)."""
    red, fall = causes_of(state.organisation_id, state.service_id)
    open_causes = set(
        Alert.objects.filter(cause__in=(red, fall), state=Alert.State.OPEN).values_list("cause", flat=True)
    )
    red_line = float(settings.SERVICELOOP_TRUST_RED)
    fall_points = float(settings.SERVICELOOP_TRUST_FALL_POINTS)
    falling = state.change is not None and state.change <= -fall_points
    raise_red = state.band == TrustBand.RED and red not in open_causes
    raise_fall = falling and fall not in open_causes
    recover_red = red in open_causes and state.trust >= red_line + RED_RECOVERY_MARGIN
    recover_fall = fall in open_causes and (state.change is None or state.change > -fall_points / 2)
    if not (raise_red or raise_fall or recover_red or recover_fall):
        return
    service = Service.objects.select_related("service_manager").get(pk=state.service_id)
    organisation = Organisation.objects.only("name").get(pk=state.organisation_id).name
    figures = alert_figures(state, organisation, service.name)
    where = f"trust of {organisation} in {service.name}"
    if raise_red:
        alert_raise(
            service=service,
            kind=Alert.Kind.TRUST,
            cause=red,
            title=f"The {where} is in the red band: {state.trust} of 100",
            figures=figures,
        )
    if raise_fall:
        assert state.change is not None  # nosec B101  # falling
        alert_raise(
            service=service,
            kind=Alert.Kind.TRUST,
            cause=fall,
            title=(
                f"The {where} fell {abs(state.change):.1f} points in {settings.SERVICELOOP_TRUST_FALL_DAYS} days: "
                f"{state.trust_before} to {state.trust}"
            ),
            figures=figures,
        )
    if recover_red:
        alert_recover(red, figures=figures)
    if recover_fall:
        alert_recover(fall, figures=figures)

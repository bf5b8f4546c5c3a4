"""The trust model (DOMAIN §5): beta evidence with forgetting, replayed from an evidence log.

Pure arithmetic, no database: the stored trust states (`trust_states.py`) and `serviceloop trust
simulate` both call `replay`, so there is one implementation and it is tested once.

Per (organisation, service): r is the good evidence, s the bad. Before each day's evidence both
decay (r by 2^(-days/365), s by 2^(-days/540): bad is remembered longer); good evidence of weight w
adds w to r, bad adds k·w to s (k = 3). trust = 100·(r + 15)/(r + s + 30), confidence =
(r + s)/(r + s + 30). A major incident's recovery credit takes bad evidence away again, in two parts
with their own dates (at resolution, and when the review's actions close), never more than what is
left, after decay, of that incident's own bad evidence: recovery never lifts trust above where it
would stand had the incident not happened. docs/trust.md explains each parameter.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, timedelta
from typing import Any

# The kinds of evidence, with the sign they carry.
GOOD_KINDS = ("week_met", "positive_answer")
BAD_KINDS = ("negative_answer", "negative_post", "small_failure", "availability_missed", "major_incident")
RECOVERY_KINDS = ("major_resolved", "review_actions_closed")
# Weightless: they only count how many answers and tickets a week had, for the volume rule below.
VOLUME_KINDS = ("neutral_answer", "ticket_opened")
KINDS = (*GOOD_KINDS, *BAD_KINDS, *RECOVERY_KINDS, *VOLUME_KINDS)
ANSWER_KINDS = ("positive_answer", "negative_answer", "neutral_answer")


class TrustInputError(ValueError):
    """Evidence or parameters that cannot be replayed; the message names the event and the field."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Parameters:
    """The model's parameters (DOMAIN §5's starting points). Stored versions override some of them."""

    half_life_good_days: float = 365.0
    half_life_bad_days: float = 540.0
    negativity: float = 3.0  # k: bad evidence weighs k times its weight
    prior: float = 15.0  # each side's weak prior: trust starts at 50, confidence at 0
    week_met: float = 1.0  # × the share of targets met that week
    positive_answer: float = 0.3
    positive_week_cap: float = 1.0  # positive answers count at most this much per calendar week
    # Volume: a week's answers weigh together at most as much as this many answers (each answer of a
    # week with n > this weighs this/n); a week's small failures of tickets (breaches, reopens) at
    # most as much as this many tickets' (each weighs this/n for n tickets opened that week). One
    # organisation files ten tickets a week, another a thousand: what erodes trust is the share of
    # a week that went wrong, not the size of the customer. Below these volumes: DOMAIN's weights.
    answers_per_week: float = 4.0
    tickets_per_week: float = 1.0
    negative_answer: float = 0.3
    negative_post: float = 0.3
    small_failure: float = 0.5
    availability_missed: float = 2.0
    major_incident: float = 8.0  # × severity (0.5–2)
    severity_min: float = 0.5
    severity_max: float = 2.0
    recovery_first: float = 0.5  # ρ for the first major incident of the pair in the window
    recovery_halving: float = 0.5  # ρ is multiplied by this for each further one
    recovery_window_days: int = 365
    recovery_communication: float = 0.4
    recovery_plan: float = 0.3
    recovery_actions: float = 0.3
    poor_communication: float = 0.3  # below it: no credit at all, and a double deviation
    double_deviation: float = 0.25  # the further share of the incident's weight added as bad evidence

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


DEFAULT_PARAMETERS = Parameters()
PARAMETER_NAMES = tuple(f.name for f in fields(Parameters))
# (low, high) inclusive bounds a parameter must keep; None: unbounded above.
_BOUNDS: dict[str, tuple[float, float | None]] = {
    "half_life_good_days": (1, None),
    "half_life_bad_days": (1, None),
    "negativity": (0, 100),
    "prior": (0.01, None),
    "severity_min": (0, None),
    "severity_max": (0, None),
    "recovery_first": (0, 1),
    "recovery_halving": (0, 1),
    "recovery_window_days": (0, 3650),
    "answers_per_week": (0.01, None),
    "tickets_per_week": (0.01, None),
    "recovery_communication": (0, 1),
    "recovery_plan": (0, 1),
    "recovery_actions": (0, 1),
    "poor_communication": (0, 1),
    "double_deviation": (0, 10),
}


def _finite_number(value: Any) -> bool:
    """A JSON number that is a finite float (an integer of 400 digits is not: float() overflows)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def parameters_from(overrides: dict[str, Any] | None, base: Parameters = DEFAULT_PARAMETERS) -> Parameters:
    """`base` with `overrides` (a JSON object of parameter → number); TrustInputError names a bad one."""
    if overrides is None:
        return base
    if not isinstance(overrides, dict):
        raise TrustInputError('"parameters" must be an object of parameter names and numbers')
    values: dict[str, Any] = {}
    for name, value in overrides.items():
        if name not in PARAMETER_NAMES:
            known = ", ".join(PARAMETER_NAMES)
            raise TrustInputError(f"parameters: unknown parameter {name!r} (known: {known})")
        if not _finite_number(value):
            raise TrustInputError(f"parameters.{name}: must be a number, not {_shown(value)}")
        low, high = _BOUNDS.get(name, (0, None))
        if value < low or (high is not None and value > high):
            span = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
            raise TrustInputError(f"parameters.{name}: must be {span}, not {value!r}")
        values[name] = int(value) if name == "recovery_window_days" else float(value)
    result = replace(base, **values)
    if result.severity_min > result.severity_max:
        raise TrustInputError("parameters.severity_min: must not be above severity_max")
    return result


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence. `incident` ties a major incident's three kinds together; `key` and
    `label` are the caller's (the stored row's id, "major incident MI-12") and only come back out."""

    at: date
    kind: str
    share: float | None = None  # week_met (default 1), review_actions_closed
    severity: float | None = None  # major_incident
    incident: str | None = None  # major_incident, major_resolved, review_actions_closed
    communication: float | None = None  # major_resolved
    plan: float | None = None  # major_resolved
    key: str = ""
    label: str = ""
    per_ticket: bool = False  # small_failure: a ticket's (breach, reopen), weighed by its week's tickets
    opened: date | None = None  # per_ticket: the day its ticket was opened (default: `at`)


@dataclass(frozen=True)
class Point:
    at: date
    trust: float
    confidence: float
    r: float
    s: float


@dataclass
class MajorOutcome:
    """What a major incident did to the pair and what its recovery earned (s units: bad evidence)."""

    incident: str
    at: date
    severity: float
    weight: float  # w = major_incident × severity
    bad: float  # k·w added at the incident
    rho: float
    earlier_majors: int  # of the pair within the window before this one
    resolved_at: date | None = None
    communication: float | None = None
    plan: float | None = None
    share_closed: float = 0.0
    actions_at: date | None = None
    poor: bool = False  # communication below the threshold: no credit, a double deviation
    double_deviation: float = 0.0
    credit_resolution: float = 0.0
    credit_actions: float = 0.0
    remaining: float = 0.0  # what is left, after decay, of the incident's own bad evidence minus credit
    label: str = ""

    @property
    def credit(self) -> float:
        return self.credit_resolution + self.credit_actions

    @property
    def pending(self) -> float:
        """Credit still to come when every review action closes (0 once poor or all closed)."""
        if self.poor or self.resolved_at is None:
            return 0.0
        return max(0.0, min(self.actions_potential - self.credit_actions, self.remaining))

    @property
    def actions_potential(self) -> float:
        return self._actions_factor * self.bad

    _actions_factor: float = field(default=0.0, repr=False)


@dataclass
class Replay:
    points: list[Point]
    final: Point | None  # after the last evidence (or at the last point asked, whichever is later)
    majors: dict[str, MajorOutcome]
    applied: int  # pieces of evidence that counted (references to unknown incidents are skipped)


def trust_of(r: float, s: float, p: Parameters) -> float:
    return 100 * (r + p.prior) / (r + s + 2 * p.prior)


def confidence_of(r: float, s: float, p: Parameters) -> float:
    return (r + s) / (r + s + 2 * p.prior)


def _point(at: date, r: float, s: float, p: Parameters) -> Point:
    return Point(at=at, trust=round(trust_of(r, s, p), 1), confidence=round(confidence_of(r, s, p), 2), r=r, s=s)


def severity_clamp(value: float, p: Parameters = DEFAULT_PARAMETERS) -> float:
    return min(max(value, p.severity_min), p.severity_max)


# Within a day: a major incident before its resolution before its review's actions (a short
# incident's rows share a day, in whatever order they were written or listed), and same-day majors by
# id, so that the result never depends on the order of the input.
_DAY_ORDER = {"major_incident": 1, "major_resolved": 2, "review_actions_closed": 3}


def _replay_order(item: Evidence) -> tuple[date, int, str, float]:
    rank = _DAY_ORDER.get(item.kind, 0)
    incident = (item.incident or item.key) if rank else ""
    return (item.at, rank, incident, (item.share or 0.0) if rank == 3 else 0.0)


def replay(
    evidence: Iterable[Evidence],
    at: Sequence[date] = (),
    parameters: Parameters = DEFAULT_PARAMETERS,
    *,
    until: date | None = None,
) -> Replay:
    """Replay `evidence` (any order: by day, then `_replay_order`) and answer a point for each day in
    `at` (evidence of a day counts before that day's point). `final` is the state at `until` (default:
    the last evidence or point). Evidence naming an incident that was never declared, or credit for
    one not yet resolved, is skipped: `trust_simulate.simulate_input` refuses such input with a message instead."""
    p = parameters
    items = sorted(evidence, key=_replay_order)
    asked = sorted(set(at))
    good_decay = math.log(2) / p.half_life_good_days
    bad_decay = math.log(2) / p.half_life_bad_days
    r = s = 0.0
    day: date | None = None
    majors: dict[str, MajorOutcome] = {}
    positive_by_week: dict[tuple[int, int], float] = {}
    points: list[Point] = []
    applied = 0
    asked_index = 0
    # The volume rule: how many answers and tickets each ISO week had (the whole week: a point in the
    # middle of a week weighs that week's answers by the week's count, including later days).
    answers_in_week: dict[tuple[int, int], int] = {}
    tickets_in_week: dict[tuple[int, int], int] = {}
    for item in items:
        if item.kind in ANSWER_KINDS:
            week = item.at.isocalendar()[:2]
            answers_in_week[week] = answers_in_week.get(week, 0) + 1
        elif item.kind == "ticket_opened":
            week = item.at.isocalendar()[:2]
            tickets_in_week[week] = tickets_in_week.get(week, 0) + 1

    def answer_factor(on: date) -> float:
        count = answers_in_week.get(on.isocalendar()[:2], 0)
        return min(1.0, p.answers_per_week / count) if count else 1.0

    def ticket_factor(on: date) -> float:
        # The week its ticket was opened: a breach often falls due a week after the ticket came in.
        count = tickets_in_week.get(on.isocalendar()[:2], 0)
        return min(1.0, p.tickets_per_week / count) if count else 1.0

    def decay_to(target: date) -> None:
        nonlocal r, s, day
        if day is not None and target > day:
            days = (target - day).days
            good, bad = math.exp(-good_decay * days), math.exp(-bad_decay * days)
            r *= good
            s *= bad
            for major in majors.values():
                major.remaining *= bad
        if day is None or target > day:
            day = target

    for item in items:
        while asked_index < len(asked) and asked[asked_index] < item.at:
            decay_to(asked[asked_index])
            points.append(_point(asked[asked_index], r, s, p))
            asked_index += 1
        decay_to(item.at)
        kind = item.kind
        if kind == "week_met":
            r += p.week_met * (1.0 if item.share is None else item.share)
        elif kind == "positive_answer":
            week = item.at.isocalendar()[:2]
            room = max(0.0, p.positive_week_cap - positive_by_week.get(week, 0.0))
            gain = min(p.positive_answer * answer_factor(item.at), room)
            positive_by_week[week] = positive_by_week.get(week, 0.0) + gain
            r += gain
        elif kind == "negative_answer":
            s += p.negativity * p.negative_answer * answer_factor(item.at)
        elif kind == "small_failure":
            s += p.negativity * p.small_failure * (ticket_factor(item.opened or item.at) if item.per_ticket else 1.0)
        elif kind in ("negative_post", "availability_missed"):
            s += p.negativity * float(getattr(p, kind))
        elif kind in VOLUME_KINDS:
            pass
        elif kind == "major_incident":
            key = item.incident or item.key
            if key in majors:
                continue
            severity = severity_clamp(1.0 if item.severity is None else item.severity, p)
            weight = p.major_incident * severity
            window_start = item.at - timedelta(days=p.recovery_window_days)
            earlier = sum(1 for m in majors.values() if window_start <= m.at <= item.at)
            bad = p.negativity * weight
            s += bad
            majors[key] = MajorOutcome(
                incident=key,
                at=item.at,
                severity=severity,
                weight=weight,
                bad=bad,
                rho=p.recovery_first * p.recovery_halving**earlier,
                earlier_majors=earlier,
                remaining=bad,
                label=item.label,
                _actions_factor=p.recovery_first * p.recovery_halving**earlier * p.recovery_actions,
            )
        elif kind == "major_resolved":
            major = majors.get(item.incident or "")
            if major is None or major.resolved_at is not None:
                continue
            communication = _unit(item.communication)
            plan = _unit(item.plan)
            major.resolved_at, major.communication, major.plan = item.at, communication, plan
            if communication < p.poor_communication:
                major.poor = True
                major.double_deviation = p.negativity * p.double_deviation * major.weight
                s += major.double_deviation
            else:
                wanted = major.rho * (p.recovery_communication * communication + p.recovery_plan * plan) * major.bad
                credit = min(wanted, major.remaining)
                major.credit_resolution = credit
                major.remaining -= credit
                s = max(0.0, s - credit)
        elif kind == "review_actions_closed":
            major = majors.get(item.incident or "")
            if major is None or major.resolved_at is None:
                continue
            share = _unit(item.share)
            if share <= major.share_closed:
                continue
            major.share_closed, major.actions_at = share, item.at
            if not major.poor:
                wanted = major.rho * p.recovery_actions * share * major.bad - major.credit_actions
                credit = max(0.0, min(wanted, major.remaining))
                major.credit_actions += credit
                major.remaining -= credit
                s = max(0.0, s - credit)
        else:
            raise TrustInputError(f"unknown kind of evidence {kind!r}")
        applied += 1

    while asked_index < len(asked):
        decay_to(asked[asked_index])
        points.append(_point(asked[asked_index], r, s, p))
        asked_index += 1
    final = None
    if until is not None:
        decay_to(until)
    if day is not None:
        final = _point(day, r, s, p)
    return Replay(points=points, final=final, majors=majors, applied=applied)


def _unit(value: float | None) -> float:
    return min(max(0.0 if value is None else float(value), 0.0), 1.0)


# -- contributions: what each piece (or group) of evidence does to today's trust ---------------------


@dataclass(frozen=True)
class Contribution:
    """`effect` in trust points at `at`: trust with the evidence minus trust without it."""

    group: str  # "major:<incident>", "credit:<incident>", "kind:<kind>", or the caller's
    label: str
    effect: float
    count: int
    pending: float = 0.0  # for a credit: the points still to come when the review's actions close


def _trust_at(evidence: list[Evidence], day: date, p: Parameters) -> float:
    result = replay(evidence, [day], p)
    return trust_of(result.points[0].r, result.points[0].s, p) if result.points else 100 * p.prior / (2 * p.prior)


def contributions(
    evidence: Sequence[Evidence],
    at: date,
    parameters: Parameters = DEFAULT_PARAMETERS,
    *,
    kind_labels: dict[str, str] | None = None,
) -> list[Contribution]:
    """Each major incident's own drop, its recovery credit (earned, and pending until the review's
    actions close), each missed availability month, and every other kind as one group; largest
    effect first. Leave-one-out: trust at `at` with all the evidence minus trust without the group."""
    p = parameters
    counted = [e for e in evidence if e.at <= at]
    total = _trust_at(counted, at, p)
    labels = kind_labels or {}
    result: list[Contribution] = []
    base = replay(counted, [at], p)
    incidents = [e for e in counted if e.kind == "major_incident"]
    for major_row in incidents:
        key = major_row.incident or major_row.key
        outcome = base.majors.get(key)
        label = major_row.label or f"major incident {key}"
        credit_rows = [e for e in counted if e.kind in RECOVERY_KINDS and e.incident == key]
        without_credit = [e for e in counted if e not in credit_rows]
        without_all = [e for e in without_credit if e is not major_row]
        trust_without_credit = _trust_at(without_credit, at, p)
        drop = trust_without_credit - _trust_at(without_all, at, p)
        # The double deviation is part of the incident's own harm: it comes with major_resolved.
        if outcome is not None and outcome.poor:
            drop = total - _trust_at(without_all, at, p)
        result.append(Contribution(group=f"major:{key}", label=label, effect=round(drop, 1), count=1))
        if outcome is not None and outcome.resolved_at is not None and not outcome.poor:
            earned = total - trust_without_credit
            pending_points = 0.0
            if outcome.pending > 0:
                closed = Evidence(at=at, kind="review_actions_closed", share=1.0, incident=key)
                pending_points = _trust_at([*counted, closed], at, p) - total
            result.append(
                Contribution(
                    group=f"credit:{key}",
                    label=f"recovery credit for {label}",
                    effect=round(earned, 1),
                    count=len(credit_rows),
                    pending=round(pending_points, 1),
                )
            )
    for kind in (*GOOD_KINDS, "negative_answer", "negative_post", "small_failure", "availability_missed"):
        rows = [e for e in counted if e.kind == kind]
        if not rows:
            continue
        effect = total - _trust_at([e for e in counted if e.kind != kind], at, p)
        result.append(
            Contribution(group=f"kind:{kind}", label=labels.get(kind, kind), effect=round(effect, 1), count=len(rows))
        )
    result.sort(key=lambda c: (-abs(c.effect), c.group))
    return result


def _shown(value: Any) -> str:
    """A refused value as the message quotes it: short, whatever was sent."""
    try:
        text = repr(value)
    except ValueError:  # an integer of more digits than Python prints
        return "a number too long to show"
    return text if len(text) <= 60 else f"{text[:57]}..."

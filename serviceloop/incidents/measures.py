"""The measures of a major incident, per incident and over time (DOMAIN §6); trust's recovery
credit (DOMAIN §5) reads the three scores at the end. Reads only: no writes.

Exact definitions, with the worked examples, are in docs/incident-reviews.md; in short:

- time to first update: declared → the first update addressed to customers or the public.
- cadence per audience (each AudiencePlan): the instants declared, each update to that audience,
  resolved (now while open) cut the incident into intervals; an interval is on time when it is at
  most the plan's cadence + SERVICELOOP_INCIDENT_CADENCE_GRACE_MINUTES, counted in business time on
  the plan's calendar when it has one (every minute otherwise). Zero-length intervals are not
  counted. Compliance = on-time intervals / intervals (1 when there is none). The longest silence
  is the longest interval in wall-clock minutes.
- ETA accuracy: an ETA is met when recovery (the step) came at most
  SERVICELOOP_ETA_TOLERANCE_MINUTES after it; ETAs whose outcome is not yet known are left out.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from django.conf import settings

from serviceloop.core import clock
from serviceloop.desk.business_time import business_seconds_between
from serviceloop.desk.services.sla import calendar_of
from serviceloop.incidents.models import (
    Audience,
    AudiencePlan,
    EtaChange,
    Incident,
    IncidentUpdate,
    RecoveryStep,
    Review,
    ReviewAction,
)

EXTERNAL = (Audience.CUSTOMERS, Audience.PUBLIC)


@dataclass(frozen=True)
class AudienceCadence:
    audience: str
    cadence_minutes: int
    updates: int
    intervals: list[float]  # minutes, business minutes when the plan has a calendar
    on_time: int
    compliance: float  # 0–1
    longest_silence_minutes: float  # wall-clock
    counted: bool  # takes part in communication_score (external, active or addressed)


@dataclass(frozen=True)
class EtaAccuracy:
    etas: int  # ETAs whose outcome is known
    met: int
    share_met: float | None
    mean_abs_error_minutes: float | None


@dataclass(frozen=True)
class ActionClosure:
    actions: int  # not dropped
    done: int
    dropped: int
    open: int
    share_closed: float | None  # done / not dropped
    on_time: int  # done on or before their due date (UTC)
    on_time_share: float | None  # on_time / done


@dataclass(frozen=True)
class IncidentMeasures:
    incident_id: int
    start: datetime
    end: datetime
    is_open: bool
    time_to_first_update_minutes: float | None
    cadence: dict[str, AudienceCadence]
    longest_silence_minutes: float | None
    eta_accuracy: EtaAccuracy
    step_eta_accuracy: EtaAccuracy
    action_closure: ActionClosure
    time_to_review_hours: float | None
    duration_minutes: float
    communication_score: float = field(default=0.0)


def _minutes(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds() / 60, 2)


def _start(incident: Incident) -> datetime:
    return incident.declared_at or incident.created_at


def _end(incident: Incident, now: datetime) -> datetime:
    return incident.resolved_at or now


def _external_updates(updates: list[IncidentUpdate]) -> list[IncidentUpdate]:
    return [u for u in updates if any(a in EXTERNAL for a in (u.audiences or []))]


def _cadence(
    plan: AudiencePlan, updates: list[IncidentUpdate], start: datetime, end: datetime, grace: int
) -> AudienceCadence:
    times = sorted(
        max(u.display_at, start) for u in updates if plan.audience in (u.audiences or []) and u.display_at <= end
    )
    points = [start, *times, end]
    calendar = calendar_of(plan.calendar) if plan.calendar is not None else None
    intervals: list[float] = []
    walls: list[float] = []
    for left, right in itertools.pairwise(points):
        if right <= left:
            continue
        walls.append(_minutes(left, right))
        if calendar is not None:
            intervals.append(round(business_seconds_between(calendar, left, right) / 60, 2))
        else:
            intervals.append(_minutes(left, right))
    limit = plan.cadence_minutes + grace
    on_time = sum(1 for minutes in intervals if minutes <= limit)
    # Addressed at all, the resolution notice included: comms closes every plan at resolution
    # (is_active false) and addresses the notice to the plans that were active, at the time it is
    # posted, which may be after a backdated resolved_at (outside the window counted above).
    addressed = any(plan.audience in (u.audiences or []) for u in updates)
    return AudienceCadence(
        audience=plan.audience,
        cadence_minutes=plan.cadence_minutes,
        updates=len(times),
        intervals=intervals,
        on_time=on_time,
        compliance=round(on_time / len(intervals), 4) if intervals else 1.0,
        longest_silence_minutes=max(walls, default=0.0),
        counted=plan.audience in EXTERNAL and (plan.is_active or addressed),
    )


def _accuracy(pairs: list[tuple[datetime, datetime | None]], decided_at: datetime) -> EtaAccuracy:
    """Each pair is (eta, when it was really done or None). Undone and not yet late: left out."""
    tolerance = timedelta(minutes=settings.SERVICELOOP_ETA_TOLERANCE_MINUTES)
    met = 0
    counted = 0
    errors: list[float] = []
    for eta, done in pairs:
        if done is None:
            if eta + tolerance < decided_at:
                counted += 1  # late already, whatever happens next
            continue
        counted += 1
        met += done <= eta + tolerance
        errors.append(abs((done - eta).total_seconds()) / 60)
    return EtaAccuracy(
        etas=counted,
        met=met,
        share_met=round(met / counted, 4) if counted else None,
        mean_abs_error_minutes=round(statistics.fmean(errors), 2) if errors else None,
    )


def action_closure(review: Review | None) -> ActionClosure:
    actions = list(review.actions.all()) if review is not None else []
    kept = [a for a in actions if a.status != ReviewAction.Status.DROPPED]
    done = [a for a in kept if a.status == ReviewAction.Status.DONE]
    on_time = [a for a in done if a.closed_at is not None and a.closed_at.astimezone(UTC).date() <= a.due_on]
    return ActionClosure(
        actions=len(kept),
        done=len(done),
        dropped=len(actions) - len(kept),
        open=len(kept) - len(done),
        share_closed=round(len(done) / len(kept), 4) if kept else None,
        on_time=len(on_time),
        on_time_share=round(len(on_time) / len(done), 4) if done else None,
    )


def incident_measures(incident: Incident, now: datetime | None = None) -> IncidentMeasures:
    now = now or clock.now()
    start, end = _start(incident), _end(incident, now)
    updates = list(incident.updates.all())
    grace = settings.SERVICELOOP_INCIDENT_CADENCE_GRACE_MINUTES
    external = sorted(u.display_at for u in _external_updates(updates))
    cadence = {
        plan.audience: _cadence(plan, updates, start, end, grace)
        for plan in incident.audience_plans.select_related("calendar").all()
    }
    silences = [c.longest_silence_minutes for c in cadence.values() if c.audience in EXTERNAL]
    incident_etas: list[tuple[datetime, datetime | None]] = []
    step_etas: list[tuple[datetime, datetime | None]] = []
    changes = EtaChange.objects.filter(incident=incident, eta__isnull=False).select_related("step")
    for change in changes:
        assert change.eta is not None  # nosec B101  # filtered above; narrows the type
        if change.step is None:
            incident_etas.append((change.eta, incident.resolved_at))
        elif change.step.status != RecoveryStep.Status.DROPPED:
            done = change.step.done_at if change.step.status == RecoveryStep.Status.DONE else None
            step_etas.append((change.eta, done))
    review = Review.objects.filter(incident=incident).first()
    to_review = None
    if review is not None and review.completed_at and incident.resolved_at:
        to_review = round((review.completed_at - incident.resolved_at).total_seconds() / 3600, 2)
    impact_start = incident.impact_started_at or start
    impact_end = incident.impact_ended_at or incident.resolved_at or now
    measures = IncidentMeasures(
        incident_id=incident.pk,
        start=start,
        end=end,
        is_open=incident.resolved_at is None,
        time_to_first_update_minutes=_minutes(start, external[0]) if external else None,
        cadence=cadence,
        longest_silence_minutes=max(silences) if silences else None,
        eta_accuracy=_accuracy(incident_etas, end),
        step_eta_accuracy=_accuracy(step_etas, end),
        action_closure=action_closure(review),
        time_to_review_hours=to_review,
        duration_minutes=max(_minutes(impact_start, impact_end), 0.0),
    )
    return _with_score(measures, has_external=bool(external))


def _with_score(m: IncidentMeasures, *, has_external: bool) -> IncidentMeasures:
    counted = [c.compliance for c in m.cadence.values() if c.counted]
    score = round(statistics.fmean(counted), 4) if counted and has_external else 0.0
    return replace(m, communication_score=score)


def communication_score(m: IncidentMeasures) -> float:
    """0–1: mean cadence compliance over the external audiences with a plan that was active (or
    was addressed at least once); 0 when no update reached customers or the public at all."""
    return m.communication_score


def plan_score(incident: Incident) -> float:
    """1: the recovery plan was published, with a customer-facing step, before resolution (or the
    incident is still open); 0.5: published after resolution; 0: not published or no such step."""
    if incident.plan_published_at is None:
        return 0.0
    if not incident.recovery_steps.filter(customer_facing=True).exclude(status=RecoveryStep.Status.DROPPED).exists():
        return 0.0
    if incident.resolved_at is None or incident.plan_published_at <= incident.resolved_at:
        return 1.0
    return 0.5


def actions_closed_share(review: Review | None) -> float:
    """0–1: actions done over actions not dropped; a completed review with nothing left to do
    (no action, or all dropped) counts 1, a draft without actions 0."""
    closure = action_closure(review)
    if closure.share_closed is not None:
        return closure.share_closed
    if review is not None and review.status in (Review.Status.COMPLETED, Review.Status.PUBLISHED):
        return 1.0
    return 0.0


# -- over time ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthMeasures:
    month: date  # the first day of the month (UTC) in which the incidents were resolved
    incidents: int
    median_time_to_first_update_minutes: float | None
    mean_compliance: float | None
    reviews: int  # reviews due by now or completed
    reviews_on_time: int
    share_reviews_on_time: float | None
    actions: int
    actions_done: int
    action_closure: float | None


MAX_MONTHS = 36


def _months(since: date, until: date) -> list[date]:
    months: list[date] = []
    current = since.replace(day=1)
    while current <= until and len(months) < MAX_MONTHS:
        months.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return months


def measures_over_time(since: date, until: date, now: datetime | None = None) -> list[MonthMeasures]:
    """Per calendar month (UTC) of resolution, the major incidents resolved in it: the median time
    to first update, the mean communication score, the share of reviews completed by their due
    time (among those due by now or completed), and the share of their actions done."""
    now = now or clock.now()
    months = _months(since, until)
    if not months:
        return []
    first = datetime(months[0].year, months[0].month, 1, tzinfo=UTC)
    last = months[-1]
    after = (last + timedelta(days=32)).replace(day=1)
    limit = datetime(after.year, after.month, 1, tzinfo=UTC)
    incidents = (
        Incident.objects.filter(kind=Incident.Kind.INCIDENT, severity__in=["sev1", "sev2"])
        .filter(resolved_at__gte=first, resolved_at__lt=limit)
        .prefetch_related("updates", "audience_plans")
    )
    by_month: dict[date, list[Incident]] = {month: [] for month in months}
    for incident in incidents:
        assert incident.resolved_at is not None  # nosec B101  # filtered above; narrows the type
        key = incident.resolved_at.astimezone(UTC).date().replace(day=1)
        by_month.setdefault(key, []).append(incident)
    return [_month(month, by_month.get(month, []), now) for month in months]


def _month(month: date, incidents: list[Incident], now: datetime) -> MonthMeasures:
    measures = [incident_measures(incident, now=now) for incident in incidents]
    firsts = [m.time_to_first_update_minutes for m in measures if m.time_to_first_update_minutes is not None]
    reviews = list(Review.objects.filter(incident__in=incidents))
    due = [r for r in reviews if r.completed_at is not None or r.due_at <= now]
    on_time = [r for r in due if r.completed_at is not None and r.completed_at <= r.due_at]
    closures = [m.action_closure for m in measures]
    actions = sum(c.actions for c in closures)
    done = sum(c.done for c in closures)
    return MonthMeasures(
        month=month,
        incidents=len(incidents),
        median_time_to_first_update_minutes=round(statistics.median(firsts), 2) if firsts else None,
        mean_compliance=round(statistics.fmean(m.communication_score for m in measures), 4) if measures else None,
        reviews=len(due),
        reviews_on_time=len(on_time),
        share_reviews_on_time=round(len(on_time) / len(due), 4) if due else None,
        actions=actions,
        actions_done=done,
        action_closure=round(done / actions, 4) if actions else None,
    )

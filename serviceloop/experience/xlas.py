"""XLAs: experience level agreements — create, change, archive, evaluate (docs/experience.md, "XLAs").

An XLA holds one metric of `experience/metrics.py` to a target (≥ or ≤) over a window of its scope
(a service, or a relationship: its organisation × offering). `xla_evaluate(xla, at=...)` computes the
figure through `experience.api.compute` and gives it a state:

- `not_enough_data`: fewer answers (or tickets) than the XLA's minimum sample;
- `breached`: the figure misses the target;
- `at_risk`: the figure meets the target, but by less than the XLA's at-risk margin (in the metric's
  unit: happiness ≥ 60 with a margin of 5 is at risk from 60 up to, not including, 65);
- `met`: the figure meets the target by the margin or more.

The latest figure is kept on the XLA; a history row (`XlaEvaluation`) and the durable event
`xla.state_changed` are written, in one transaction, only when the state changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction

from serviceloop.accounts.models import User
from serviceloop.accounts.versioning import version_check, version_claim
from serviceloop.catalogue.models import Service
from serviceloop.core import clock
from serviceloop.core.errors import ConflictError, InvalidInput, NotAllowed
from serviceloop.core.events import event_record
from serviceloop.core.schemas import EARLIEST_DATE, LATEST_DATE, text_problem
from serviceloop.experience.metrics import METRICS, Figure, min_sample
from serviceloop.experience.models import Xla, XlaEvaluation
from serviceloop.experience.recount import day_of
from serviceloop.experience.tally import Scope
from serviceloop.relationships.models import Relationship

# The values a figure of each unit can take: a target (and a baseline value) must lie inside.
UNIT_RANGES: dict[str, tuple[float, float]] = {
    "%": (0.0, 100.0),
    "points": (-100.0, 100.0),
    "1–5": (1.0, 5.0),
    "minutes": (0.0, 1_000_000.0),
    "count": (0.0, 1_000_000.0),
}
# The at-risk margin an XLA gets when none is given, by the metric's unit.
DEFAULT_MARGINS: dict[str, Decimal] = {
    "%": Decimal("5"),
    "points": Decimal("5"),
    "1–5": Decimal("0.2"),
    "minutes": Decimal("10"),
    "count": Decimal("1"),
}
ROLLING_DAYS = {Xla.Window.ROLLING_7: 7, Xla.Window.ROLLING_30: 30, Xla.Window.ROLLING_90: 90}
SLA_METRICS = ("sla_first_response", "sla_resolution")
MAX_MIN_SAMPLE = 1_000_000
EDITABLE = (
    "name",
    "metric",
    "comparator",
    "target",
    "window",
    "min_sample",
    "risk_margin",
    "start_date",
    "baseline_kind",
    "baseline",
    "owner",
)
# A change of any of these makes a baseline taken from the data mean something else: it is taken again.
BASELINE_INPUTS = ("metric", "window", "start_date", "baseline_kind")


def sla_green() -> float:
    """SLA compliance at or above this (per cent, every SLA clock with enough data) reads as "SLA met"."""
    return float(settings.SERVICELOOP_XLA_SLA_GREEN)


def require_manager(by: Any) -> None:
    if not getattr(by, "can_manage_services", False):
        raise NotAllowed("not_a_service_manager", "Only administrators and service managers may change XLAs.")


# ---------------------------------------------------------------- windows and scope


def window_days(window: str, day: date) -> tuple[date, date]:
    """The days (inclusive) the window covers on `day`: the last N days, or the month up to `day`."""
    if window == Xla.Window.MONTH:
        return day.replace(day=1), day
    if window not in ROLLING_DAYS:
        raise InvalidInput(
            "invalid_window", f"window: {window!r} is not one of {', '.join(Xla.Window.values)}.", field="window"
        )
    return day - timedelta(days=ROLLING_DAYS[Xla.Window(window)] - 1), day


def baseline_days(window: str, start: date) -> tuple[date, date]:
    """The window ending on the start date: as long a window just before it (the calendar month before)."""
    if window == Xla.Window.MONTH:
        last = start.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    return window_days(window, start - timedelta(days=1))


def xla_scope(xla: Xla, since: date, until: date) -> Scope:
    relationship = xla.relationship if xla.relationship_id is not None else None
    if relationship is not None:
        return Scope(
            service_ids=(xla.service_id,),
            offering_ids=(relationship.offering_id,),
            organisation_ids=(relationship.organisation_id,),
            since=since,
            until=until,
        )
    return Scope(service_ids=(xla.service_id,), since=since, until=until)


def _figures(scope: Scope, names: list[str]) -> dict[str, Figure]:
    # Imported here: experience.api mounts the XLA router, so it imports this module first.
    from serviceloop.experience.api import compute

    ((_key, shown),) = compute(scope, [], names)
    return {figure.metric: figure for figure in shown}


def figures_by(xla: Xla, since: date, until: date, period: str) -> list[tuple[dict[str, str | None], list[Figure]]]:
    """The XLA's metric in its scope by `period` (week or month) from `since` to `until`: its chart."""
    from serviceloop.experience.api import compute

    return compute(xla_scope(xla, since, until), [period], [xla.metric])


# ---------------------------------------------------------------- the state


def state_of(*, comparator: str, target: float, margin: float, required: int, figure: Figure) -> str:
    """The state of a figure against a target (see the module's docstring)."""
    if figure.value is None or figure.n < required:
        return Xla.State.NOT_ENOUGH_DATA
    value = figure.value
    ahead = value - target if comparator == Xla.Comparator.AT_LEAST else target - value
    if ahead < 0:
        return Xla.State.BREACHED
    if ahead < margin:
        return Xla.State.AT_RISK
    return Xla.State.MET


def sla_met(first_response: float | None, resolution: float | None) -> bool | None:
    """Whether the desk's SLA reads green: every SLA clock with enough data at or above SERVICELOOP_XLA_SLA_GREEN.

    None when neither clock has enough data (no verdict)."""
    known = [value for value in (first_response, resolution) if value is not None]
    if not known:
        return None
    return all(value >= sla_green() for value in known)


def is_watermelon(xla: Xla) -> bool:
    """Green outside, red inside: the SLA reads met while the XLA is breached."""
    return xla.state == Xla.State.BREACHED and sla_met(xla.sla_first_response, xla.sla_resolution) is True


@dataclass(frozen=True)
class Evaluated:
    xla: Xla
    state: str
    figure: Figure
    sla: dict[str, Figure]
    change: XlaEvaluation | None  # the history row, when the state changed


def xla_evaluate(xla: Xla, *, at: datetime | None = None) -> Evaluated:
    """Evaluate an XLA at `at` (default now): keep the figure on it; on a change of state, a history row and an event.

    Safe to run in several processes at once: the row is locked while the state is compared, so one
    change is recorded once. An evaluation older than the one stored changes nothing.
    """
    at = at or clock.now()
    since, until = window_days(xla.window, day_of(at))
    shown = _figures(xla_scope(xla, since, until), [xla.metric, *SLA_METRICS])
    figure = shown[xla.metric]
    sla = {name: shown[name] for name in SLA_METRICS}
    with transaction.atomic():
        current = Xla.objects.select_for_update().get(pk=xla.pk)
        state = state_of(
            comparator=current.comparator,
            target=float(current.target),
            margin=float(current.risk_margin),
            required=current.min_sample,
            figure=figure,
        )
        if current.evaluated_at is not None and at < current.evaluated_at:
            return Evaluated(current, current.state, figure, sla, None)
        previous = current.state
        if state == Xla.State.NOT_ENOUGH_DATA:
            # Under the XLA's own minimum sample the figure says nothing either (n still counts).
            figure = Figure(figure.metric, figure.label, None, figure.n, None, figure.unit, False)
        low, high = figure.interval if figure.interval is not None else (None, None)
        fields: dict[str, Any] = {
            "value": figure.value,
            "n": figure.n,
            "interval_low": low,
            "interval_high": high,
            "window_from": since,
            "window_to": until,
            "evaluated_at": at,
            "sla_first_response": sla["sla_first_response"].value,
            "sla_first_response_n": sla["sla_first_response"].n,
            "sla_resolution": sla["sla_resolution"].value,
            "sla_resolution_n": sla["sla_resolution"].n,
            "state": state,
        }
        change = None
        if state != previous:
            fields["state_since"] = at
            change = XlaEvaluation.objects.create(
                xla=current,
                previous_state=previous,
                state=state,
                value=figure.value,
                n=figure.n,
                interval_low=low,
                interval_high=high,
                target=current.target,
                comparator=current.comparator,
                window_from=since,
                window_to=until,
                sla_first_response=fields["sla_first_response"],
                sla_resolution=fields["sla_resolution"],
                evaluated_at=at,
            )
            data: dict[str, Any] = {
                "xla_id": current.pk,
                "from": previous or None,
                "to": state,
                "evaluation_id": change.pk,
                "value": figure.value,
                "n": figure.n,
            }
            event_record("xla.state_changed", subject=current, **data)
        Xla.objects.filter(pk=current.pk).update(**fields)
        for name, value in fields.items():
            setattr(current, name, value)
    return Evaluated(current, state, figure, sla, change)


def xlas_evaluate_all(*, at: datetime | None = None) -> int:
    """Evaluate every active XLA at one instant; how many changed state."""
    at = at or clock.now()
    changed = 0
    ids = list(Xla.objects.filter(status=Xla.Status.ACTIVE).order_by("pk").values_list("pk", flat=True))
    for pk in ids:
        xla = Xla.objects.select_related("relationship").filter(pk=pk, status=Xla.Status.ACTIVE).first()
        if xla is not None and xla_evaluate(xla, at=at).change is not None:
            changed += 1
    return changed


# ---------------------------------------------------------------- validation


def _decimal(value: Any, *, field: str, label: str) -> Decimal:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput("invalid", f"{field}: {label} is a number.", field=field) from None
    if not number.is_finite():
        raise InvalidInput("invalid", f"{field}: {label} is a finite number.", field=field)
    return number.quantize(Decimal("0.01"))


def _in_range(value: Decimal, unit: str, *, field: str, label: str, metric: str) -> Decimal:
    low, high = UNIT_RANGES.get(unit, (-1_000_000.0, 1_000_000.0))
    if not low <= float(value) <= high:
        raise InvalidInput(
            "out_of_range",
            f"{field}: {label} {value} is outside the range of {metric} ({low:g} to {high:g} {unit}).",
            field=field,
        )
    return value


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Check every field of a whole XLA (after a change is applied); InvalidInput names the field."""
    name = str(data.get("name") or "").strip()
    if not name:
        raise InvalidInput("required", "name: an XLA needs a name.", field="name")
    problem = text_problem(name)
    if problem or len(name) > 200:
        raise InvalidInput("invalid", f"name: {problem or 'at most 200 characters'}.", field="name")
    metric_name = data.get("metric")
    if metric_name not in METRICS:
        raise InvalidInput(
            "unknown_metric",
            f"metric: no metric named {metric_name!r}; one of {', '.join(METRICS)}.",
            field="metric",
        )
    metric = METRICS[metric_name]
    if data.get("comparator") not in Xla.Comparator.values:
        raise InvalidInput("invalid", "comparator: gte (≥, at least) or lte (≤, at most).", field="comparator")
    if data.get("window") not in Xla.Window.values:
        raise InvalidInput(
            "invalid_window",
            f"window: {data.get('window')!r} is not one of {', '.join(Xla.Window.values)}.",
            field="window",
        )
    target = _in_range(
        _decimal(data.get("target"), field="target", label="the target"),
        metric.unit,
        field="target",
        label="the target",
        metric=metric.name,
    )
    floor = min_sample()
    required = data.get("min_sample")
    required = floor if required is None else required
    if isinstance(required, bool) or not isinstance(required, int) or not floor <= required <= MAX_MIN_SAMPLE:
        raise InvalidInput(
            "invalid",
            f"min_sample: a whole number from {floor} (SERVICELOOP_MIN_SAMPLE: figures say nothing below it) "
            f"to {MAX_MIN_SAMPLE}.",
            field="min_sample",
        )
    margin = data.get("risk_margin")
    margin = DEFAULT_MARGINS.get(metric.unit, Decimal("0")) if margin is None else margin
    margin = _decimal(margin, field="risk_margin", label="the at-risk margin")
    low, high = UNIT_RANGES.get(metric.unit, (0.0, 1_000_000.0))
    if margin < 0 or float(margin) > high - low:
        raise InvalidInput(
            "out_of_range",
            f"risk_margin: the at-risk margin is from 0 to {high - low:g} {metric.unit}.",
            field="risk_margin",
        )
    start = data.get("start_date") or day_of(clock.now())
    if not isinstance(start, date) or not EARLIEST_DATE <= start <= LATEST_DATE:
        raise InvalidInput("invalid", f"start_date: a day from {EARLIEST_DATE} to {LATEST_DATE}.", field="start_date")
    kind = data.get("baseline_kind") or Xla.BaselineKind.NONE
    if kind not in Xla.BaselineKind.values:
        raise InvalidInput(
            "invalid", f"baseline_kind: one of {', '.join(Xla.BaselineKind.values)}.", field="baseline_kind"
        )
    baseline = data.get("baseline")
    if kind == Xla.BaselineKind.VALUE:
        if baseline is None:
            raise InvalidInput(
                "required", "baseline: give the baseline value (or choose another baseline).", field="baseline"
            )
        baseline = _in_range(
            _decimal(baseline, field="baseline", label="the baseline"),
            metric.unit,
            field="baseline",
            label="the baseline",
            metric=metric.name,
        )
    owner = data.get("owner")
    if owner is not None and not (getattr(owner, "can_manage_services", False) and owner.is_active):
        raise InvalidInput(
            "invalid_owner", "owner: an active service manager or administrator owns an XLA.", field="owner"
        )
    return {
        **data,
        "name": name,
        "target": target,
        "min_sample": required,
        "risk_margin": margin,
        "start_date": start,
        "baseline_kind": kind,
        # A baseline from the data keeps the figure stored (taken again by _take_baseline when needed).
        "baseline": None if kind == Xla.BaselineKind.NONE else baseline,
        "owner": owner,
    }


def _take_baseline(xla: Xla) -> None:
    """A baseline "before start": the figure over the window ending on the start date, stored (taken once)."""
    if xla.baseline_kind != Xla.BaselineKind.BEFORE_START:
        xla.baseline_n = xla.baseline_from = xla.baseline_to = None
        return
    since, until = baseline_days(xla.window, xla.start_date)
    figure = _figures(xla_scope(xla, since, until), [xla.metric])[xla.metric]
    xla.baseline = None if figure.value is None else Decimal(str(figure.value)).quantize(Decimal("0.01"))
    xla.baseline_n, xla.baseline_from, xla.baseline_to = figure.n, since, until


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, User):
        return value.public_id
    return value


# ---------------------------------------------------------------- writes


def xla_create(
    *,
    by: User,
    name: str,
    metric: str,
    target: Any,
    service: Service | None = None,
    relationship: Relationship | None = None,
    comparator: str = Xla.Comparator.AT_LEAST,
    window: str = Xla.Window.ROLLING_30,
    min_sample: int | None = None,
    risk_margin: Any = None,
    start_date: date | None = None,
    baseline_kind: str = Xla.BaselineKind.NONE,
    baseline: Any = None,
    owner: User | None = None,
) -> Xla:
    """A new XLA for a service or a relationship (one of them), evaluated at once."""
    require_manager(by)
    if relationship is not None:
        if service is not None and service.pk != relationship.offering.service_id:
            raise InvalidInput(
                "scope_mismatch",
                "service: the relationship's offering belongs to another service; give one of them.",
                field="service",
            )
        service = relationship.offering.service
    if service is None:
        raise InvalidInput("required", "service: an XLA is for a service or a relationship.", field="service")
    data = _clean(
        {
            "name": name,
            "metric": metric,
            "comparator": comparator,
            "target": target,
            "window": window,
            "min_sample": min_sample,
            "risk_margin": risk_margin,
            "start_date": start_date,
            "baseline_kind": baseline_kind,
            "baseline": baseline,
            "owner": owner,
        }
    )
    with transaction.atomic():
        xla = Xla(service=service, relationship=relationship, **data)
        _take_baseline(xla)
        xla.save()
        event_record(
            "xla.created",
            subject=xla,
            by=by,
            xla_id=xla.pk,
            definition={key: _plain(value) for key, value in data.items()},
        )
        xla_evaluate(xla)
    xla.refresh_from_db()
    return xla


def xla_update(*, xla: Xla, by: User, expected_version: list[int] | None = None, **changes: Any) -> Xla:
    """Change an XLA's definition (not its scope); a baseline from the data is taken again when what it
    measures changes; re-evaluated at once when anything that decides the state changed."""
    require_manager(by)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput("invalid", f"{sorted(unknown)[0]}: cannot be changed.", field=sorted(unknown)[0])
    if xla.status == Xla.Status.ARCHIVED:
        raise ConflictError("archived", "This XLA is archived; it can no longer be changed.")
    before = {key: getattr(xla, key) for key in EDITABLE}
    merged = _clean({**before, **changes})
    if merged["baseline_kind"] == Xla.BaselineKind.BEFORE_START:
        # Taken from the data, never typed in: a value sent with it is ignored (it is taken again below
        # when what it measures changes).
        merged["baseline"] = before["baseline"]
    changed = {key: value for key, value in merged.items() if key in EDITABLE and value != before[key]}
    with transaction.atomic():
        if not changed:
            version_check(xla, expected=expected_version, noun="XLA")
            return xla
        version_claim(xla, expected=expected_version, noun="XLA")
        for key, value in changed.items():
            setattr(xla, key, value)
        if set(changed) & set(BASELINE_INPUTS):
            _take_baseline(xla)
        xla.save()
        event_record(
            "xla.updated",
            subject=xla,
            by=by,
            xla_id=xla.pk,
            changes={key: [_plain(before[key]), _plain(value)] for key, value in changed.items()},
        )
        xla_evaluate(xla)
    xla.refresh_from_db()
    return xla


def xla_archive(*, xla: Xla, by: User) -> Xla:
    """Stop evaluating an XLA; it and its history stay readable. Archiving again changes nothing."""
    require_manager(by)
    if xla.status == Xla.Status.ARCHIVED:
        return xla
    with transaction.atomic():
        xla.status = Xla.Status.ARCHIVED
        xla.archived_at = clock.now()
        xla.save(update_fields=["status", "archived_at", "updated_at"])
        event_record("xla.archived", subject=xla, by=by, xla_id=xla.pk)
        # No evaluation will ever recover its alert: archiving does (imported here: alerts are a later room).
        from serviceloop.experience.alerts import alert_recover

        alert_recover(f"xla:{xla.public_id}", figures={"reason": "archived"})
    return xla

"""Service review reports: the data of one review (a service or a relationship over a period), and its services.

Every figure comes from `experience.api.compute` for the review's scope, so the report says what
the metrics API says. The web page (report_views.py) and the PDF (report_pdf.py, made by the worker)
render the same template from the same `ReportData`.

Sections fed by other parts of the product that are not there yet return empty lists here, each from
one clearly named function: `xla_states_for` (XLAs), `hotspots_for` (the portfolio's hotspots) and
`improvement_items_for` (the improvement register). The trust section (`trust_for`) reads the stored
trust states (trust_panels.py).
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from serviceloop.accounts.models import Organisation
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core import clock
from serviceloop.core.errors import InvalidInput, NotAllowed
from serviceloop.core.events import event_record
from serviceloop.core.visibility import is_staff_viewer, restrict_to_organisation
from serviceloop.experience.api import compute
from serviceloop.experience.charts import Chart, Point, Series, bar_chart, format_value, line_chart
from serviceloop.experience.metrics import METRICS, Figure, min_sample
from serviceloop.experience.models import ServiceReview
from serviceloop.experience.sources import day_bounds
from serviceloop.experience.tally import Scope
from serviceloop.experience.trust_panels import ReviewTrust, review_trust
from serviceloop.feedback.models import Driver, Response, SentimentLabel
from serviceloop.feedback.services.responses import mask_text
from serviceloop.relationships.models import Relationship

logger = logging.getLogger(__name__)

# The figures of a review, in the order the report shows them.
EXPERIENCE_FIGURES = (
    "happiness",
    "csat",
    "nps",
    "ces",
    "lost_time_mean",
    "lost_time_total",
    "response_rate",
)
DESK_FIGURES = ("fcr", "mtta_mean", "mttr_mean", "reopen_rate")
SLA_FIGURES = ("sla_first_response", "sla_resolution", "sla_paused")
DRIVER_FIGURES = tuple(f"driver_{driver}" for driver in Driver.values)
FIGURES = EXPERIENCE_FIGURES + DESK_FIGURES + SLA_FIGURES

# The trend charts: (title, unit, y range, metrics drawn as one line each).
TRENDS: tuple[tuple[str, str, tuple[float, float] | None, tuple[str, ...]], ...] = (
    ("Happiness and NPS", "points", (-100.0, 100.0), ("happiness", "nps")),
    ("CSAT and ease (CES)", "%", (0.0, 100.0), ("csat", "ces")),
    ("Desk: first contact, SLA and reopens", "%", (0.0, 100.0), ("fcr", "sla_resolution", "reopen_rate")),
    ("Lost time per answer", "minutes", None, ("lost_time_mean",)),
)
TREND_METRICS = tuple(dict.fromkeys(name for *_rest, names in TRENDS for name in names))

# Weeks up to about a quarter, months beyond.
WEEKLY_UP_TO_DAYS = 92
# A longer period is no longer a review; two years bounds the work of one report.
MAX_PERIOD_DAYS = 731
COMMENTS_SHOWN = 5
# A review left waiting this long (broker down when it was asked for) is handed to the worker again;
# one "generating" longer than the task's time limit lost its worker.
REQUEUE_AFTER = timedelta(minutes=2)
STALE_GENERATING = timedelta(seconds=int(getattr(settings, "CELERY_TASK_TIME_LIMIT", 300)) + 60)
MAX_ATTEMPTS = 3


# ---------------------------------------------------------------- the report's data


@dataclass(frozen=True)
class FigureRow:
    """One figure as the report prints it: value with its unit, interval, n, or "not enough data"."""

    figure: Figure
    shown: str
    interval: str
    direction: str

    @property
    def enough(self) -> bool:
        return self.figure.enough


@dataclass(frozen=True)
class Comment:
    when: datetime
    text: str
    sentiment: str
    sentiment_label: str
    score: str
    organisation: str


@dataclass
class ReportData:
    review: ServiceReview
    title: str
    subject: str
    period: str
    grain: str  # "week" or "month"
    scope: Scope
    experience: list[FigureRow]
    desk: list[FigureRow]
    sla: list[FigureRow]
    trends: list[Chart]
    drivers: list[FigureRow]
    drivers_chart: Chart | None
    negative_comments: list[Comment]
    positive_comments: list[Comment]
    xlas: list[Any] = field(default_factory=list)
    hotspots: list[Any] = field(default_factory=list)
    improvement_items: list[Any] = field(default_factory=list)
    trust: ReviewTrust | None = None
    min_sample: int = 0
    generated_at: datetime | None = None

    @property
    def has_answers(self) -> bool:
        return any(row.figure.n for row in self.experience + self.desk)


def review_scope(review: ServiceReview) -> Scope:
    """The rows a review counts: its service (and, for a relationship, its offering and organisation), its days."""
    relationship = review.relationship
    return Scope(
        service_ids=(review.service_id,),
        offering_ids=(relationship.offering_id,) if relationship is not None else None,
        organisation_ids=(relationship.organisation_id,) if relationship is not None else None,
        since=review.period_start,
        until=review.period_end,
    )


def grain_of(start: date, end: date) -> str:
    return "week" if (end - start).days < WEEKLY_UP_TO_DAYS else "month"


def buckets(start: date, end: date, grain: str) -> list[date]:
    """The first day of every week (Monday) or month touched by the period, in order."""
    if grain == "week":
        first = start - timedelta(days=start.weekday())
        return [first + timedelta(weeks=n) for n in range((end - first).days // 7 + 1)]
    days, current = [], start.replace(day=1)
    while current <= end:
        days.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return days


def bucket_label(day: date, grain: str) -> str:
    return f"{day.day} {day:%b}" if grain == "week" else f"{day:%b %Y}"


def period_label(start: date, end: date) -> str:
    """'November 2026', 'Q4 2026', or '3 Nov 2026 – 9 Jan 2027'."""
    last_of_month = calendar.monthrange(end.year, end.month)[1]
    if start.day == 1 and end.day == last_of_month:
        if (start.year, start.month) == (end.year, end.month):
            return f"{start:%B %Y}"
        if start.year == end.year and start.month % 3 == 1 and end.month == start.month + 2:
            return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    return f"{start.day} {start:%b %Y} – {end.day} {end:%b %Y}"


def figure_row(figure: Figure) -> FigureRow:
    interval = ""
    if figure.interval is not None:
        low, high = figure.interval
        interval = f"{low:g} – {high:g}{'%' if figure.unit == '%' else ''}"
    metric = METRICS[figure.metric]
    return FigureRow(
        figure=figure, shown=format_value(figure.value, figure.unit), interval=interval, direction=metric.direction
    )


def _api_link(review: ServiceReview, metrics: Sequence[str], since: date, until: date) -> str:
    """The figures behind a chart point: the metrics API for the same scope and bucket."""
    query: dict[str, str] = {"service": review.service.public_id, "from": since.isoformat(), "to": until.isoformat()}
    if review.relationship is not None:
        query["offering"] = review.relationship.offering.public_id
        query["organisation"] = review.relationship.organisation.public_id
    query["metrics"] = ",".join(metrics)
    return f"/api/experience/metrics?{urlencode(query)}"


def _trend_charts(review: ServiceReview, scope: Scope, grain: str) -> list[Chart]:
    groups = compute(scope, [grain], list(TREND_METRICS))
    by_bucket = {key[grain]: {figure.metric: figure for figure in shown} for key, shown in groups}
    days = buckets(review.period_start, review.period_end, grain)
    charts = []
    for title, unit, y_range, names in TRENDS:
        series = []
        for name in names:
            points = []
            for index, day in enumerate(days):
                last = days[index + 1] - timedelta(days=1) if index + 1 < len(days) else review.period_end
                found = by_bucket.get(day.isoformat(), {}).get(name)
                low, high = found.interval if found is not None and found.interval is not None else (None, None)
                points.append(
                    Point(
                        label=bucket_label(day, grain),
                        value=found.value if found is not None else None,
                        low=low,
                        high=high,
                        n=found.n if found is not None else 0,
                        href=_api_link(review, [name], max(day, review.period_start), last),
                    )
                )
            series.append(Series(name=METRICS[name].label, points=points))
        charts.append(line_chart(series, title=f"{title} by {grain}", unit=unit, y_range=y_range))
    return charts


def _driver_rows(figures: dict[str, Figure]) -> list[FigureRow]:
    rows = [figure_row(figures[name]) for name in DRIVER_FIGURES]
    # The drivers named most first; those under the minimum sample after them.
    return sorted(rows, key=lambda row: (row.figure.value is None, -(row.figure.value or 0.0), row.figure.metric))


def _drivers_chart(review: ServiceReview, rows: list[FigureRow]) -> Chart | None:
    shown = [row for row in rows if row.figure.value is not None]
    if not shown:
        return None
    points = [
        Point(
            label=METRICS[row.figure.metric].label.removeprefix("Driver named: "),
            value=row.figure.value,
            low=row.figure.interval[0] if row.figure.interval else None,
            high=row.figure.interval[1] if row.figure.interval else None,
            n=row.figure.n,
            href=_api_link(review, [row.figure.metric], review.period_start, review.period_end),
        )
        for row in shown
    ]
    return bar_chart(points, title="Drivers named (% of answers)", unit="%", y_range=(0.0, 100.0))


def comments_of(scope: Scope, label: str, limit: int = COMMENTS_SHOWN) -> list[Comment]:
    """The latest comments of the scope with one sentiment label (index: service, -responded_at)."""
    start, end = day_bounds(scope)
    rows: QuerySet[Response] = Response.objects.filter(sentiment_label=label).exclude(comment="")
    if scope.service_ids is not None:
        rows = rows.filter(service_id__in=scope.service_ids)
    if scope.offering_ids is not None:
        rows = rows.filter(offering_id__in=scope.offering_ids)
    if scope.organisation_ids is not None:
        rows = rows.filter(organisation_id__in=scope.organisation_ids)
    if start is not None:
        rows = rows.filter(responded_at__gte=start)
    if end is not None:
        rows = rows.filter(responded_at__lt=end)
    rows = rows.select_related("organisation").order_by("-responded_at", "-pk")[:limit]
    labels = dict(SentimentLabel.choices)
    return [
        Comment(
            when=row.responded_at,
            # Stored masked when SERVICELOOP_MASK_PERSONAL_DATA is on; masked again for text kept from before.
            text=mask_text(row.comment),
            sentiment=label,
            sentiment_label=labels.get(label, label),
            score=f"{row.score_name} {row.score}" if row.score is not None else "",
            organisation=row.organisation.name if row.organisation is not None else "",
        )
        for row in rows
    ]


def xla_states_for(review: ServiceReview) -> list[str]:
    """The active XLAs of the review's scope, each judged over the review's period (not its own window).

    A relationship's review shows that relationship's XLAs only (a customer may read it: service-wide
    XLAs are the provider's); a service's review shows every XLA of the service.
    """
    from serviceloop.experience.models import Xla
    from serviceloop.experience.xlas import state_of, xla_scope

    xlas = Xla.objects.filter(service_id=review.service_id, status=Xla.Status.ACTIVE).order_by("name", "pk")
    if review.relationship_id is not None:
        xlas = xlas.filter(relationship_id=review.relationship_id)
    shown = []
    for xla in xlas:
        ((_key, (figure,)),) = compute(xla_scope(xla, review.period_start, review.period_end), [], [xla.metric])
        state = state_of(
            comparator=xla.comparator,
            target=float(xla.target),
            margin=float(xla.risk_margin),
            required=xla.min_sample,
            figure=figure,
        )
        target = format_value(float(xla.target), figure.unit)
        value = format_value(figure.value, figure.unit)
        shown.append(
            f"{xla.name} ({figure.label} {'≥' if xla.comparator == Xla.Comparator.AT_LEAST else '≤'} {target}): "
            f"{Xla.State(state).label.lower()} over the period — {value}, n {figure.n}"
        )
    return shown


HOTSPOT_METRIC = "happiness"
HOTSPOTS_SHOWN = 5


def hotspots_for(review: ServiceReview) -> list[str]:
    """A service review's worst organisations and offerings by impact (DOMAIN §2): answers × the gap of
    their happiness to the service's own over the period; the negative ones, worst first. A relationship's
    review is one organisation and offering: it has none."""
    if review.relationship_id is not None:
        return []
    scope = review_scope(review)
    ((_key, (overall,)),) = compute(scope, [], [HOTSPOT_METRIC])
    if overall.value is None:
        return []
    found: list[tuple[float, int, str]] = []
    models: tuple[tuple[str, Any], ...] = (("organisation", Organisation), ("offering", Offering))
    for order, (kind, model) in enumerate(models):
        groups = compute(scope, [kind], [HOTSPOT_METRIC])
        names = dict(
            model.objects.filter(public_id__in=[key[kind] for key, _ in groups if key[kind]]).values_list(
                "public_id", "name"
            )
        )
        for key, (figure,) in groups:
            if figure.value is None or not key[kind]:
                continue
            impact = figure.n * (figure.value - overall.value)
            if impact < 0:
                label = names.get(str(key[kind]), str(key[kind]))
                found.append(
                    (
                        impact,
                        order,
                        f"{kind.capitalize()} {label}: happiness {format_value(figure.value, figure.unit)} "
                        f"against {format_value(overall.value, overall.unit)} for the service (n {figure.n}), "
                        f"impact {impact:+.0f}",
                    )
                )
    return [text for _impact, _order, text in sorted(found)[:HOTSPOTS_SHOWN]]


def improvement_items_for(review: ServiceReview) -> list[Any]:
    """The improvement register's items for the service (a later issue); none yet."""
    return []


def trust_for(review: ServiceReview) -> ReviewTrust:
    """The trust section (trust_panels.review_trust): a relationship's trust over the period and what
    moved it, or a service's lowest and falling fastest relationships. The template shows a
    relationship's to its organisation's customers — and prints it in the PDF they download — only
    when that organisation sees its trust in the portal."""
    return review_trust(review)


def report_data(review: ServiceReview) -> ReportData:
    """Everything the report shows, from compute() for the review's scope and a few recent comments."""
    scope = review_scope(review)
    grain = grain_of(review.period_start, review.period_end)
    ((_key, overall),) = compute(scope, [], list(FIGURES + DRIVER_FIGURES))
    figures = {figure.metric: figure for figure in overall}
    driver_rows = _driver_rows(figures)
    subject = review.subject_label
    period = period_label(review.period_start, review.period_end)
    return ReportData(
        review=review,
        title=f"Service review: {subject}",
        subject=subject,
        period=period,
        grain=grain,
        scope=scope,
        experience=[figure_row(figures[name]) for name in EXPERIENCE_FIGURES],
        desk=[figure_row(figures[name]) for name in DESK_FIGURES],
        sla=[figure_row(figures[name]) for name in SLA_FIGURES],
        trends=_trend_charts(review, scope, grain),
        drivers=driver_rows,
        drivers_chart=_drivers_chart(review, driver_rows),
        negative_comments=comments_of(scope, SentimentLabel.NEGATIVE),
        positive_comments=comments_of(scope, SentimentLabel.POSITIVE),
        xlas=xla_states_for(review),
        hotspots=hotspots_for(review),
        improvement_items=improvement_items_for(review),
        trust=trust_for(review),
        min_sample=min_sample(),
        generated_at=clock.now(),
    )


# ---------------------------------------------------------------- reads


def _rows() -> QuerySet[ServiceReview]:
    return ServiceReview.objects.select_related(
        "service", "relationship__organisation", "relationship__offering", "requested_by"
    )


def reviews_visible_to(viewer: Any) -> QuerySet[ServiceReview]:
    """Staff see every review; a customer sees the reviews of their own organisation's relationships only
    (a review of a whole service counts every organisation: staff only)."""
    return restrict_to_organisation(_rows(), viewer)


def review_for(viewer: Any, public_id: str) -> ServiceReview:
    """One review the viewer may see; ServiceReview.DoesNotExist otherwise (a 404 at the edge)."""
    return reviews_visible_to(viewer).get(public_id=public_id)


# ---------------------------------------------------------------- services


def _kick(review_id: int) -> None:
    from serviceloop.core.tasks import enqueue
    from serviceloop.experience.tasks import generate_review_pdf

    enqueue(generate_review_pdf, review_id)


def review_request(
    *,
    by: Any,
    period_start: date,
    period_end: date,
    service: Service | None = None,
    relationship: Relationship | None = None,
) -> ServiceReview:
    """Ask for a review of a service or a relationship over a period; the worker makes its PDF."""
    if not is_staff_viewer(by):
        raise NotAllowed("not_allowed", "Only the provider's staff may ask for service reviews.")
    if relationship is not None:
        if service is not None and service.pk != relationship.offering.service_id:
            raise InvalidInput(
                "invalid", "The relationship is not one of this service's offerings.", field="relationship"
            )
        service = relationship.offering.service
    if service is None:
        raise InvalidInput("required", "Choose a service or a relationship.", field="service")
    if period_start > period_end:
        raise InvalidInput("invalid", "The first day is after the last day.", field="period_start")
    if (period_end - period_start).days >= MAX_PERIOD_DAYS:
        raise InvalidInput("invalid", "A review covers at most two years.", field="period_end")
    if period_start > timezone.localdate(clock.now()):
        raise InvalidInput("invalid", "The period has not started yet.", field="period_start")
    with transaction.atomic():
        review = ServiceReview.objects.create(
            service=service,
            relationship=relationship,
            organisation_id=relationship.organisation_id if relationship is not None else None,
            period_start=period_start,
            period_end=period_end,
            requested_by=by,
        )
        event_record("review.requested", subject=review, by=by, service=service.pk, period=[period_start, period_end])
        review_id = review.pk
        transaction.on_commit(lambda: _kick(review_id))
    return review


def review_regenerate(*, by: Any, review: ServiceReview) -> ServiceReview:
    """Make the PDF again (after a failure, or for today's figures); the previous PDF stays until then."""
    if not is_staff_viewer(by):
        raise NotAllowed("not_allowed", "Only the provider's staff may regenerate service reviews.")
    with transaction.atomic():
        changed = ServiceReview.objects.filter(
            pk=review.pk, state__in=[ServiceReview.State.READY, ServiceReview.State.FAILED]
        ).update(state=ServiceReview.State.QUEUED, failure="", attempts=0, updated_at=clock.now())
        if not changed:
            raise InvalidInput("busy", "This review's PDF is already being made.", field=None)
        event_record("review.regenerated", subject=review, by=by)
        review_id = review.pk
        transaction.on_commit(lambda: _kick(review_id))
    review.refresh_from_db()
    return review


def reviews_requeue_for_organisation(*, organisation_id: int) -> int:
    """Make every stored PDF of the organisation's relationship reviews again (in the caller's
    transaction): what a PDF holds depends on what the organisation may see (its trust is printed
    only while shared), and its customers download it. Until remade a PDF is not served. How many."""
    states = [ServiceReview.State.READY, ServiceReview.State.FAILED]
    ids = list(
        ServiceReview.objects.filter(organisation_id=organisation_id, state__in=states).values_list("pk", flat=True)
    )
    ServiceReview.objects.filter(pk__in=ids, state__in=states).update(
        state=ServiceReview.State.QUEUED, failure="", attempts=0, updated_at=clock.now()
    )
    for review_id in ids:
        transaction.on_commit(partial(_kick, review_id))
    return len(ids)


def review_generate(*, review_id: int) -> str:
    """Make one review's PDF and store it (the worker's task); idempotent: only a queued review is taken.

    Returns the state it left the review in ("ready", "failed"), or what it found ("missing", or a
    state another worker already has it in).
    """
    from serviceloop.experience.report_pdf import PdfUnavailable, render_review_pdf, store_review_pdf

    claimed = ServiceReview.objects.filter(pk=review_id, state=ServiceReview.State.QUEUED).update(
        state=ServiceReview.State.GENERATING, started_at=clock.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        state = ServiceReview.objects.filter(pk=review_id).values_list("state", flat=True).first()
        return state or "missing"
    review = _rows().get(pk=review_id)
    try:
        content = render_review_pdf(review)
    except PdfUnavailable as error:
        return _failed(review_id, str(error))
    except Exception as error:  # a rendering failure of any kind: recorded on the row, shown on the list
        logger.exception("service review %s: the PDF could not be made", review.public_id)
        return _failed(review_id, f"The PDF could not be made: {type(error).__name__}: {str(error)[:300]}")
    store_review_pdf(review, content)
    return ServiceReview.State.READY


def _failed(review_id: int, reason: str) -> str:
    ServiceReview.objects.filter(pk=review_id, state=ServiceReview.State.GENERATING).update(
        state=ServiceReview.State.FAILED, failure=reason, finished_at=clock.now()
    )
    return ServiceReview.State.FAILED


def reviews_sweep() -> int:
    """Hand reviews the worker never got (broker down) back to it; a review whose worker was lost goes
    back to the queue, or fails after MAX_ATTEMPTS. Returns how many were handed to the worker."""
    now = clock.now()
    stale = ServiceReview.objects.filter(state=ServiceReview.State.GENERATING, started_at__lt=now - STALE_GENERATING)
    stale.filter(attempts__gte=MAX_ATTEMPTS).update(
        state=ServiceReview.State.FAILED,
        failure=f"The worker stopped while making the PDF, {MAX_ATTEMPTS} times; try again or look at the worker's log.",
        finished_at=now,
    )
    lost = list(stale.values_list("pk", flat=True)[:100])
    ServiceReview.objects.filter(pk__in=lost, state=ServiceReview.State.GENERATING).update(
        state=ServiceReview.State.QUEUED, updated_at=now
    )
    waiting = list(
        ServiceReview.objects.filter(state=ServiceReview.State.QUEUED, updated_at__lt=now - REQUEUE_AFTER)
        .order_by("created_at")
        .values_list("pk", flat=True)[:100]
    )
    for review_id in dict.fromkeys(waiting + lost):
        _kick(review_id)
    return len(set(waiting + lost))

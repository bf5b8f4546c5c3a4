"""The portfolio on staff's home page: the period selector, the table (paged, sortable), its CSV, the charts.

`serviceloop.views.home` calls `portfolio_page` for staff (customers keep their portal); bad input
(a period, sort or export not offered) raises InvalidInput, which the home view answers with a 400.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from serviceloop.core.csvsafe import safe_row
from serviceloop.core.errors import InvalidInput
from serviceloop.core.pagination import paginate
from serviceloop.experience.charts import Point, sparkline
from serviceloop.experience.metrics import Metric, min_sample
from serviceloop.experience.portfolio import (
    DEFAULT_PERIOD,
    FDR_Q,
    PERIODS,
    Portfolio,
    ServiceRow,
    portfolio,
    trends_fill,
    worse_by,
)
from serviceloop.feedback.models import Response

SORTS = {"name": "Name", "score": "Score, worst first", "responses": "Responses, most first"}


def _choice(request: HttpRequest, parameter: str, allowed: tuple[str, ...], default: str) -> str:
    value = request.GET.get(parameter, default) or default
    if value not in allowed:
        raise InvalidInput("invalid", f"{parameter}: {value!r} is not one of {', '.join(allowed)}.", field=parameter)
    return value


def _sorted(rows: list[ServiceRow], metric: Metric, sort: str) -> list[ServiceRow]:
    if sort == "score":
        # Worst first by the metric's direction; "not enough data" last.
        return sorted(
            rows, key=lambda row: (row.score.value is None, -worse_by(metric, row.score.value or 0.0), row.name)
        )
    if sort == "responses":
        return sorted(rows, key=lambda row: (-row.responses, row.name))
    return rows


def _trend(row: ServiceRow, metric: Metric) -> Any:
    points = [
        Point(
            label=week.isoformat(),
            value=None if figure is None else figure.value,
            low=None if figure is None or figure.interval is None else figure.interval[0],
            high=None if figure is None or figure.interval is None else figure.interval[1],
            n=0 if figure is None else figure.n,
        )
        for week, figure in row.trend
    ]
    return sparkline(points, title=f"{row.name}: {metric.label} by week", unit=metric.unit)


def portfolio_csv(result: Portfolio) -> HttpResponse:
    """The portfolio table, one row per service, figures with their n and interval."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    metric = result.metric.name
    writer.writerow(
        safe_row(
            [
                "service",
                "service_id",
                "metric",
                "value",
                "n",
                "interval_low",
                "interval_high",
                "unit",
                "enough",
                "lost_time_mean_minutes",
                "lost_time_mean_n",
                "lost_time_total_minutes",
                "responses",
                "xla_state",
                "from",
                "to",
            ]
        )
    )
    for row in result.rows:
        low, high = row.score.interval if row.score.interval is not None else ("", "")
        writer.writerow(
            safe_row(
                [
                    row.name,
                    row.public_id,
                    metric,
                    "" if row.score.value is None else row.score.value,
                    row.score.n,
                    low,
                    high,
                    row.score.unit,
                    "yes" if row.score.enough else "no",
                    "" if row.lost_mean.value is None else row.lost_mean.value,
                    row.lost_mean.n,
                    "" if row.lost_total.value is None else row.lost_total.value,
                    row.responses,
                    "" if row.xla_state == "—" else row.xla_state,
                    result.period.since.isoformat(),
                    result.period.until.isoformat(),
                ]
            )
        )
    answer = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    answer["Content-Disposition"] = f'attachment; filename="portfolio-{result.period.until.isoformat()}.csv"'
    return answer


def portfolio_page(request: HttpRequest, *, xla_states: dict[int, str] | None = None) -> HttpResponse:
    """Staff's home page. `xla_states` (service pk → state) is the XLA engine's hook: empty until wired."""
    days = int(_choice(request, "period", tuple(map(str, PERIODS)), str(DEFAULT_PERIOD)))
    export = _choice(request, "export", ("", "portfolio"), "")
    sort = _choice(request, "sort", tuple(SORTS), "name")
    result = portfolio(request.user, days=days, xla_states=xla_states or {})  # type: ignore[arg-type]
    if export == "portfolio":
        return portfolio_csv(result)
    metric = result.metric
    rows = _sorted(result.rows, metric, sort)
    page_obj = paginate(request, rows)
    shown = list(page_obj)
    trends_fill(shown, metric, result.period.until)
    charted = [(row, _trend(row, metric)) for row in shown]
    answered = any(row.responses for row in result.rows) or bool(result.rows and Response.objects.exists())
    query = "&".join(f"{name}={value}" for name, value in (("period", days), ("sort", sort)))
    context = {
        "portfolio": result,
        "metric": metric,
        "page_obj": page_obj,
        "charted": charted,
        "query": query,
        "periods": PERIODS,
        "days": days,
        "sorts": SORTS,
        "sort": sort,
        "answered": answered,
        "fdr_q": FDR_Q,
        "min_sample": min_sample(),
        "csv_url": f"{reverse('home')}?period={days}&export=portfolio",
    }
    return render(request, "home.html", context)

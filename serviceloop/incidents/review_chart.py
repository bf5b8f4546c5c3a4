"""The small bar chart of the reviews page: per month, cadence compliance and reviews on time (0–100 %).

Plain numbers for an inline SVG in the template (no script, no inline style: the CSP holds).
"""

from __future__ import annotations

from dataclasses import dataclass

from serviceloop.incidents.measures import MonthMeasures

HEIGHT = 100
BAR = 10
GAP = 4
GROUP = 2 * BAR + 3 * GAP


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    height: int
    series: str  # "compliance" or "reviews"
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    labels: list[tuple[int, str]]  # x and the month's short name


def _bar(x: int, value: float | None, series: str, month: str) -> Bar | None:
    if value is None:
        return None
    height = round(value * HEIGHT)
    what = "cadence compliance" if series == "compliance" else "reviews on time"
    return Bar(x=x, y=HEIGHT - height, height=height, series=series, label=f"{month}: {what} {value:.0%}")


def month_chart(months: list[MonthMeasures]) -> Chart:
    bars: list[Bar] = []
    labels: list[tuple[int, str]] = []
    for index, month in enumerate(months):
        x = index * GROUP + GAP
        name = month.month.strftime("%b %Y")
        for bar in (
            _bar(x, month.mean_compliance, "compliance", name),
            _bar(x + BAR + GAP, month.share_reviews_on_time, "reviews", name),
        ):
            if bar is not None:
                bars.append(bar)
        labels.append((x + BAR, month.month.strftime("%b")))
    return Chart(width=max(len(months), 1) * GROUP + GAP, height=HEIGHT, bars=bars, labels=labels)

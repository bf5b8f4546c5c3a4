"""Charts as inline SVG: the same markup in the page and in the PDF of a report.

No script and no asset from another host. Readable without colour: each series has its own marker
and dash pattern, values are printed, and every chart carries its data as a table for screen readers
(`Chart.table`, inside a <details> when the chart is rendered whole).

    chart = line_chart([Series("Happiness", points)], title="Happiness by week", unit="points")
    {{ chart }}            →  <figure class="chart"> svg, caption, data table </figure>
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Colour is a help, never the only carrier: markers and dashes differ per series too.
PALETTE = ("#1f5f99", "#b5541a", "#2e7d32", "#6a3d9a", "#8a6d00", "#5c5c5c")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "4 2", "1 2")
MARKERS = ("circle", "square", "triangle", "diamond", "circle", "square")
BAND_OPACITY = "0.16"
REFERENCE_COLOUR = "#6b6b6b"
LABELLED_POINTS = 8  # up to this many points one line prints every value, beyond only the last


@dataclass(frozen=True)
class Point:
    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    n: int = 0
    href: str = ""


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[Point]


@dataclass(frozen=True)
class Reference:
    """A horizontal line at `value` (e.g. a published benchmark or a target), labelled with its source."""

    value: float
    label: str
    source: str = ""


@dataclass(frozen=True)
class Chart:
    title: str
    svg: SafeString
    table: SafeString

    def __html__(self) -> str:
        return (
            f'<figure class="chart">{self.svg}<figcaption>{escape(self.title)}</figcaption>'
            f'<details class="chart-table"><summary>Data table</summary>{self.table}</details></figure>'
        )

    def __str__(self) -> str:
        # A template calls str() before escaping: the markup must come back marked safe.
        return mark_safe(self.__html__())  # noqa: S308  # nosec B308 B703  # built from escaped text only


def format_value(value: float | None, unit: str) -> str:
    """A figure as people read it: 41.2%, +41.2, 3 h 1 min, 4.21; "not enough data" for None."""
    if value is None:
        return "not enough data"
    if unit == "%":
        return f"{value:.1f}%"
    if unit == "points":
        return f"{value:+.1f}"
    if unit == "0–100":  # a level such as trust: one decimal, no sign
        return f"{value:.1f}"
    if unit == "minutes":
        minutes = round(value)
        hours, rest = divmod(abs(minutes), 60)
        sign = "−" if minutes < 0 else ""
        return f"{sign}{hours} h {rest} min" if hours else f"{sign}{rest} min"
    if float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.2f}"


def points_of(
    groups: Iterable[tuple[dict[str, Any], Sequence[Any]]],
    metric: str,
    label: Callable[[dict[str, Any]], str] | None = None,
    href: Callable[[dict[str, Any]], str] = lambda key: "",
) -> list[Point]:
    """One point per group of `experience.api.compute()`'s answer, for one metric (label: the key's values)."""
    label = label or _key_label
    points = []
    for key, figures in groups:
        for figure in figures:
            if figure.metric != metric:
                continue
            low, high = figure.interval if figure.interval is not None else (None, None)
            points.append(Point(label(key), figure.value, low, high, figure.n, href(key)))
    return points


def _key_label(key: dict[str, Any]) -> str:
    return " · ".join(str(part) for part in key.values() if part is not None)


# -- scales ---------------------------------------------------------------------------------------


MINUTE_STEPS = (5, 10, 15, 30, 60, 120, 180, 240, 360, 480, 720, 1440)


def _nice_step(span: float, ticks: int = 4, unit: str = "") -> float:
    raw = span / max(ticks, 1)
    if unit == "minutes" and raw <= MINUTE_STEPS[-1]:
        return float(next(step for step in MINUTE_STEPS if raw <= step))
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _range(values: Iterable[float], y_range: tuple[float, float] | None, unit: str = "") -> tuple[float, float, float]:
    """(low, high, tick step) covering the values, rounded to nice ticks."""
    if y_range is not None:
        low, high = y_range
        return low, high, _nice_step(high - low, unit=unit)
    seen = list(values)
    if not seen:
        return 0.0, 1.0, 0.25
    low, high = min(seen), max(seen)
    if low == high:
        low, high = low - 1, high + 1
    low = min(low, 0.0) if low >= 0 else low
    step = _nice_step(high - low, unit=unit)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def _ticks(low: float, high: float, step: float) -> list[float]:
    ticks, tick = [], low
    while tick <= high + step / 1000:
        ticks.append(round(tick, 6))
        tick += step
    return ticks


def _tick_label(value: float, unit: str) -> str:
    if unit == "minutes":
        return f"{round(value) // 60} h" if value and round(value) % 60 == 0 else format_value(value, unit)
    text = f"{value:g}"
    return f"{text}%" if unit == "%" else text


def _number(value: float) -> str:
    return f"{value:.1f}"


def _marker(kind: str, x: float, y: float, colour: str, size: float = 3.5) -> str:
    if kind == "square":
        return (
            f'<rect x="{_number(x - size)}" y="{_number(y - size)}" width="{_number(2 * size)}" '
            f'height="{_number(2 * size)}" fill="{colour}"/>'
        )
    if kind == "triangle":
        points = f"{_number(x)},{_number(y - size - 1)} {_number(x - size - 1)},{_number(y + size)} {_number(x + size + 1)},{_number(y + size)}"
        return f'<polygon points="{points}" fill="{colour}"/>'
    if kind == "diamond":
        s = size + 1
        points = f"{_number(x)},{_number(y - s)} {_number(x + s)},{_number(y)} {_number(x)},{_number(y + s)} {_number(x - s)},{_number(y)}"
        return f'<polygon points="{points}" fill="{colour}"/>'
    return f'<circle cx="{_number(x)}" cy="{_number(y)}" r="{_number(size)}" fill="{colour}"/>'


def _linked(inner: str, href: str, tooltip: str) -> str:
    title = f"<title>{escape(tooltip)}</title>"
    if href:
        return f'<a href="{escape(href)}">{title}{inner}</a>'
    return f"<g>{title}{inner}</g>"


def _tooltip(point: Point, unit: str, series: str = "") -> str:
    name = f"{series}, " if series else ""
    text = f"{name}{point.label}: {format_value(point.value, unit)}"
    if point.value is not None and point.low is not None and point.high is not None:
        text += f" [{format_value(point.low, unit)} – {format_value(point.high, unit)}]"
    return f"{text} (n {point.n})"


def _segments(points: Sequence[Point]) -> list[list[int]]:
    """Runs of consecutive points with a value: a gap ("not enough data") breaks the line."""
    runs: list[list[int]] = []
    current: list[int] = []
    for index, point in enumerate(points):
        if point.value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(index)
    if current:
        runs.append(current)
    return runs


# -- tables ---------------------------------------------------------------------------------------


def _interval_text(point: Point, unit: str) -> str:
    if point.value is None or point.low is None or point.high is None:
        return ""
    return f"{format_value(point.low, unit)} – {format_value(point.high, unit)}"


def _table(title: str, unit: str, series: Sequence[Series]) -> SafeString:
    labels: list[str] = []
    for one in series:
        for point in one.points:
            if point.label not in labels:
                labels.append(point.label)
    head = "".join(
        f'<th scope="col">{escape(one.name)}</th><th scope="col">95% interval</th><th scope="col">n</th>'
        for one in series
    )
    rows = []
    for label in labels:
        cells = []
        for one in series:
            found = next((p for p in one.points if p.label == label), None)
            if found is None:
                cells.append("<td></td><td></td><td></td>")
                continue
            value = str(escape(format_value(found.value, unit)))
            if found.href:
                value = f'<a href="{escape(found.href)}">{value}</a>'
            cells.append(f"<td>{value}</td><td>{escape(_interval_text(found, unit))}</td><td>{found.n}</td>")
        rows.append(f'<tr><th scope="row">{escape(label)}</th>{"".join(cells)}</tr>')
    return mark_safe(  # noqa: S308  # nosec B308 B703  # every text above is escaped
        f'<table class="chart-data"><caption>{escape(title)} ({escape(unit)})</caption>'
        f'<thead><tr><th scope="col"></th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


# -- charts ---------------------------------------------------------------------------------------


def _svg(width: int, height: int, title: str, body: str, css_class: str) -> SafeString:
    return mark_safe(  # noqa: S308  # nosec B308 B703  # escaped text and numbers only
        f'<svg class="{css_class}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" '
        f'font-family="DejaVu Sans, Arial, sans-serif" font-size="11">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    unit: str,
    y_range: tuple[float, float] | None = None,
    references: Sequence[Reference] = (),
    width: int = 640,
    height: int = 240,
) -> Chart:
    """Lines over the same labels (weeks, months), each with its 95% interval as a band."""
    labels: list[str] = []
    for one in series:
        for point in one.points:
            if point.label not in labels:
                labels.append(point.label)
    values: list[float] = [ref.value for ref in references]
    for one in series:
        for point in one.points:
            values.extend(v for v in (point.value, point.low, point.high) if v is not None)
    low, high, step = _range(values, y_range, unit)
    legend_height = 18 if len(series) > 1 or references else 0
    left, right, top, bottom = (72 if unit == "minutes" else 56), 16, 12 + legend_height, 30
    plot_w, plot_h = width - left - right, height - top - bottom

    def x_of(label: str) -> float:
        index = labels.index(label)
        return left + (plot_w * (index + 0.5) / max(len(labels), 1))

    def y_of(value: float) -> float:
        value = min(max(value, low), high)
        return top + plot_h * (1 - (value - low) / (high - low or 1))

    parts: list[str] = []
    for tick in _ticks(low, high, step):
        y = y_of(tick)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{_number(y)}" y2="{_number(y)}" stroke="#e2e2e2"/>'
            f'<text x="{left - 6}" y="{_number(y + 4)}" text-anchor="end" fill="#444">{escape(_tick_label(tick, unit))}</text>'
        )
    if low < 0 < high:
        y = y_of(0)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{_number(y)}" y2="{_number(y)}" stroke="#999"/>')
    # As many labels as fit without touching (about 6.5 px a character at 11 px).
    longest = max((len(label) for label in labels), default=1)
    every = max(1, math.ceil(len(labels) * (longest * 6.5 + 10) / max(plot_w, 1)))
    for index, label in enumerate(labels):
        if (len(labels) - 1 - index) % every == 0:  # counted from the latest, which is always labelled
            parts.append(
                f'<text x="{_number(x_of(label))}" y="{height - 10}" text-anchor="middle" fill="#444">{escape(label)}</text>'
            )
    placed: list[float] = []  # label heights so far: a label that would touch one moves to the right end
    for ref in references:
        y = y_of(ref.value)
        caption = ref.label + (f" ({ref.source})" if ref.source else "")
        label_y = y + 12 if y < top + plot_h - 14 else y - 4
        at_right = any(abs(label_y - other) < 13 for other in placed)
        placed.append(-100.0 if at_right else label_y)
        label_x, anchor = (left + plot_w - 4, "end") if at_right else (left + 4, "start")
        parts.append(
            f"<g><title>{escape(caption)}: {escape(format_value(ref.value, unit))}</title>"
            f'<line x1="{left}" x2="{left + plot_w}" y1="{_number(y)}" y2="{_number(y)}" '
            f'stroke="{REFERENCE_COLOUR}" stroke-dasharray="1 3" stroke-width="1.5"/>'
            f'<text x="{_number(label_x)}" y="{_number(label_y)}" text-anchor="{anchor}" fill="{REFERENCE_COLOUR}">'
            f"{escape(ref.label)} {escape(format_value(ref.value, unit))}</text></g>"
        )
    for number, one in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        dash = DASHES[number % len(DASHES)]
        marker = MARKERS[number % len(MARKERS)]
        points = list(one.points)
        for run in _segments(points):
            banded = [points[i] for i in run if points[i].low is not None and points[i].high is not None]
            if len(banded) == len(run) and banded:
                upper = [f"{_number(x_of(p.label))},{_number(y_of(p.high))}" for p in banded if p.high is not None]
                lower = [
                    f"{_number(x_of(p.label))},{_number(y_of(p.low))}" for p in reversed(banded) if p.low is not None
                ]
                if len(banded) == 1:
                    x = x_of(banded[0].label)
                    upper = [f"{_number(x - 4)},{upper[0].split(',')[1]}", f"{_number(x + 4)},{upper[0].split(',')[1]}"]
                    lower = [f"{_number(x + 4)},{lower[0].split(',')[1]}", f"{_number(x - 4)},{lower[0].split(',')[1]}"]
                parts.append(
                    f'<polygon points="{" ".join(upper + lower)}" fill="{colour}" fill-opacity="{BAND_OPACITY}"/>'
                )
            line = " ".join(f"{_number(x_of(points[i].label))},{_number(y_of(points[i].value or 0))}" for i in run)
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"{dash_attr}/>')
        shown = [p for p in points if p.value is not None]
        for point in shown:
            x, y = x_of(point.label), y_of(point.value or 0.0)
            inner = _marker(marker, x, y, colour)
            # Every value when one line has few points; else the last one of each line (the table has all).
            if (len(series) == 1 and len(shown) <= LABELLED_POINTS) or point is shown[-1]:
                inner += (
                    f'<text x="{_number(x)}" y="{_number(y - 7)}" text-anchor="middle" fill="#222" font-size="10">'
                    f"{escape(format_value(point.value, unit))}</text>"
                )
            parts.append(_linked(inner, point.href, _tooltip(point, unit, one.name if len(series) > 1 else "")))
    if legend_height:
        x = left
        for number, one in enumerate(series):
            colour = PALETTE[number % len(PALETTE)]
            dash = DASHES[number % len(DASHES)]
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(
                f'<line x1="{x}" x2="{x + 22}" y1="9" y2="9" stroke="{colour}" stroke-width="2"{dash_attr}/>'
                + _marker(MARKERS[number % len(MARKERS)], x + 11, 9, colour, 3)
                + f'<text x="{x + 27}" y="13" fill="#222">{escape(one.name)}</text>'
            )
            x += 40 + 7 * len(one.name)
    if not any(p.value is not None for one in series for p in one.points):
        parts.append(
            f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" fill="#666">'
            "Not enough data in this period</text>"
        )
    return Chart(title, _svg(width, height, title, "".join(parts), "chart-line"), _table(title, unit, series))


def bar_chart(
    points: Sequence[Point],
    *,
    title: str,
    unit: str,
    y_range: tuple[float, float] | None = None,
    references: Sequence[Reference] = (),
    width: int = 640,
) -> Chart:
    """One horizontal bar per label, its interval as a whisker; label, value and n printed beside it."""
    row, label_w, value_w, top = 24, 170, 150, 8
    height = top + row * max(len(points), 1) + 24
    values = [ref.value for ref in references] + [v for p in points for v in (p.value, p.low, p.high) if v is not None]
    low, high, step = _range([*values, 0.0], y_range, unit)
    plot_left, plot_w = label_w, width - label_w - value_w

    def x_of(value: float) -> float:
        value = min(max(value, low), high)
        return plot_left + plot_w * (value - low) / (high - low or 1)

    zero = x_of(0.0 if low <= 0 <= high else low)
    parts: list[str] = []
    for tick in _ticks(low, high, step):
        x = x_of(tick)
        parts.append(
            f'<line x1="{_number(x)}" x2="{_number(x)}" y1="{top}" y2="{height - 20}" stroke="#ececec"/>'
            f'<text x="{_number(x)}" y="{height - 6}" text-anchor="middle" fill="#444">{escape(_tick_label(tick, unit))}</text>'
        )
    for index, point in enumerate(points):
        y = top + index * row
        label = point.label if len(point.label) <= 26 else point.label[:25] + "…"
        inner = f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" fill="#222">{escape(label)}</text>'
        if point.value is not None:
            x = x_of(point.value)
            inner += (
                f'<rect x="{_number(min(x, zero))}" y="{y + 5}" width="{_number(max(abs(x - zero), 1))}" height="14" '
                f'fill="{PALETTE[0]}" fill-opacity="0.8"/>'
            )
            if point.low is not None and point.high is not None:
                lo, hi = x_of(point.low), x_of(point.high)
                inner += (
                    f'<line x1="{_number(lo)}" x2="{_number(hi)}" y1="{y + 12}" y2="{y + 12}" stroke="#222"/>'
                    f'<line x1="{_number(lo)}" x2="{_number(lo)}" y1="{y + 8}" y2="{y + 16}" stroke="#222"/>'
                    f'<line x1="{_number(hi)}" x2="{_number(hi)}" y1="{y + 8}" y2="{y + 16}" stroke="#222"/>'
                )
        text = f"{format_value(point.value, unit)} (n {point.n})"
        inner += f'<text x="{plot_left + plot_w + 8}" y="{y + 16}" fill="#222">{escape(text)}</text>'
        parts.append(_linked(inner, point.href, _tooltip(point, unit)))
    for ref in references:
        x = x_of(ref.value)
        caption = ref.label + (f" ({ref.source})" if ref.source else "")
        parts.append(
            f"<g><title>{escape(caption)}: {escape(format_value(ref.value, unit))}</title>"
            f'<line x1="{_number(x)}" x2="{_number(x)}" y1="{top}" y2="{height - 20}" stroke="{REFERENCE_COLOUR}" '
            f'stroke-dasharray="1 3" stroke-width="1.5"/></g>'
        )
    if not points:
        parts.append(f'<text x="{width / 2}" y="{top + 16}" text-anchor="middle" fill="#666">Nothing to show</text>')
    body = "".join(parts)
    return Chart(title, _svg(width, height, title, body, "chart-bar"), _table(title, unit, [Series(title, points)]))


def sparkline(points: Sequence[Point], *, title: str, unit: str, width: int = 120, height: int = 28) -> Chart:
    """A small trend without axes: the line, its last value marked."""
    values = [p.value for p in points if p.value is not None]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if low == high:
        low, high = low - 1, high + 1
    pad = 4

    def x_of(index: int) -> float:
        return pad + (width - 2 * pad) * (index / max(len(points) - 1, 1))

    def y_of(value: float) -> float:
        return pad + (height - 2 * pad) * (1 - (value - low) / (high - low))

    parts = []
    for run in (run for run in _segments(points) if len(run) > 1):
        line = " ".join(f"{_number(x_of(i))},{_number(y_of(points[i].value or 0))}" for i in run)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{PALETTE[0]}" stroke-width="1.5"/>')
    for run in _segments(points):
        if len(run) == 1:  # a value between two gaps: a dot, or it would not show at all
            parts.append(_marker("circle", x_of(run[0]), y_of(points[run[0]].value or 0), PALETTE[0], 1.5))
    last = next((i for i in range(len(points) - 1, -1, -1) if points[i].value is not None), None)
    if last is not None:
        parts.append(_marker("circle", x_of(last), y_of(points[last].value or 0), PALETTE[0], 2.5))
    svg = mark_safe(  # noqa: S308  # nosec B308 B703  # numbers and escaped text only
        f'<svg class="sparkline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{''.join(parts)}</svg>"
    )
    return Chart(title, svg, _table(title, unit, [Series(title, points)]))

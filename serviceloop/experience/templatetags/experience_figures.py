"""`{{ figure|shown }}`: a figure as the pages print it — value in its unit, n, interval — or "not enough data"."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from serviceloop.experience.metrics import Figure

register = template.Library()


def value_text(value: float, unit: str) -> str:
    """A value in its unit: 72.0%, +41.2, 95 min, 3 h 1 min, 4.20 (of 5), 12."""
    if unit == "%":
        return f"{value:.1f}%"
    if unit == "points":
        return f"{value:+.1f}" if value else "0.0"
    if unit == "minutes":
        minutes = round(value)
        if minutes < 120:
            return f"{value:g} min" if value != minutes else f"{minutes} min"
        hours, rest = divmod(minutes, 60)
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    if unit == "1–5":
        return f"{value:.2f} of 5"
    return f"{value:g}"


@register.filter
def shown(figure: Figure | None) -> SafeString:
    if figure is None:
        return format_html('<span class="muted">—</span>')
    if not figure.enough or figure.value is None:
        return format_html(
            '<span class="muted nodata">not enough data</span> <small class="muted">n {}</small>', figure.n
        )
    interval = ""
    if figure.interval is not None:
        low, high = figure.interval
        interval = f" [{value_text(low, figure.unit)}, {value_text(high, figure.unit)}]"
    return format_html(
        '<span class="figure-value">{}</span> <small class="muted">n {}{}</small>',
        value_text(figure.value, figure.unit),
        figure.n,
        interval,
    )


@register.filter
def value_of(figure: Figure | None) -> str:
    """The bare value in its unit, for a headline tile ("" under the minimum sample)."""
    if figure is None or figure.value is None:
        return ""
    return value_text(figure.value, figure.unit)

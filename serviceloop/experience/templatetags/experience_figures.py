"""Figures as text in templates: `{{ figure|figure_text }}`, `{{ figure|interval_text }}`, `{{ number|signed }}`.

A figure reads as the charts' data tables print it (`charts.format_value`): +41.2, 62.5%, 3 h 1 min.
"""

from __future__ import annotations

from django import template

from serviceloop.experience.charts import format_value
from serviceloop.experience.metrics import Figure

register = template.Library()


@register.filter
def figure_text(figure: Figure | None) -> str:
    """The value in its unit, or "not enough data"."""
    if figure is None:
        return format_value(None, "")
    return format_value(figure.value, figure.unit)


@register.filter
def interval_text(figure: Figure | None) -> str:
    """The 95% interval as "33.5 – 48.9" in the figure's unit, or "" without one."""
    if figure is None or figure.value is None or figure.interval is None:
        return ""
    low, high = figure.interval
    return f"{format_value(low, figure.unit)} – {format_value(high, figure.unit)}"


@register.filter
def signed(value: float | None) -> str:
    """A change, gap or impact with its sign: "+3.2", "−12", "0"."""
    if value is None:
        return ""
    if value == 0:
        return "0"
    return f"{value:+g}".replace("-", "−")

"""Figures as text in templates: `{{ figure|figure_text }}`, `{{ figure|interval_text }}`, `{{ minutes|signed }}`."""

from __future__ import annotations

from django import template

from serviceloop.experience.metrics import Figure

register = template.Library()


def _minus(text: str) -> str:
    """The typographic minus sign, as the page prints every negative number."""
    return text.replace("-", "−")


@register.filter
def figure_text(figure: Figure | None) -> str:
    """The value with its unit ("+41.2", "62.5%", "45 minutes"), or "not enough data"."""
    if figure is None or figure.value is None:
        return "not enough data"
    if figure.unit == "points":
        return _minus(f"{figure.value:+g}")
    if figure.unit == "%":
        return _minus(f"{figure.value:g}%")
    return _minus(f"{figure.value:g} {figure.unit}")


@register.filter
def interval_text(figure: Figure | None) -> str:
    """The 95% interval as "33.5 to 48.9", or "" without one."""
    if figure is None or figure.interval is None:
        return ""
    low, high = figure.interval
    return _minus(f"{low:g} to {high:g}")


@register.filter
def signed(value: float | None) -> str:
    """A change or gap with its sign: "+3.2", "−12", "0"."""
    if value is None:
        return ""
    if value == 0:
        return "0"
    return _minus(f"{value:+g}")

"""`{{ figure|shown }}`: a figure as the pages print it — value in its unit, n, interval — or "not enough data"."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from serviceloop.experience.charts import Chart, format_value
from serviceloop.experience.metrics import Figure

register = template.Library()


def value_text(value: float, unit: str) -> str:
    """A value in its unit, as the charts print it (one formatter: charts.format_value)."""
    return format_value(value, unit)


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


@register.filter
def chart(value: Chart | None) -> SafeString:
    """`{{ chart|chart }}`: the whole <figure>. A bare `{{ chart }}` is escaped: the template engine
    calls str() on it first, and Chart.__str__ answers a plain str (charts.py keeps the contract's markup)."""
    if value is None:
        return SafeString("")
    return mark_safe(value.__html__())  # noqa: S308  # nosec B308 B703  # charts.py escapes every text it draws

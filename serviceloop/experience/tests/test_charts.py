"""Charts: the SVG says what the data says, without colour, with its table, and escapes every text."""

from __future__ import annotations

import re
from types import SimpleNamespace
from xml.etree import ElementTree

from serviceloop.experience.charts import (
    Point,
    Reference,
    Series,
    bar_chart,
    format_value,
    line_chart,
    points_of,
    sparkline,
)

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # noqa: S314  # nosec B314: our own output


def test_format_value_reads_like_a_person_writes() -> None:
    assert format_value(41.24, "%") == "41.2%"
    assert format_value(12.0, "points") == "+12.0"
    assert format_value(-7.5, "points") == "-7.5"
    assert format_value(181, "minutes") == "3 h 1 min"
    assert format_value(45, "minutes") == "45 min"
    assert format_value(None, "%") == "not enough data"
    assert format_value(4.213, "1–5") == "4.21"


def test_a_line_has_a_marker_per_point_a_band_per_run_and_a_gap_where_data_is_missing() -> None:
    points = [
        Point("W1", 10.0, 5.0, 15.0, 40, "/rows?w=1"),
        Point("W2", None, None, None, 12),
        Point("W3", 30.0, 20.0, 40.0, 44, "/rows?w=3"),
        Point("W4", 35.0, 25.0, 45.0, 50),
    ]
    chart = line_chart([Series("Happiness", points)], title="Happiness by week", unit="points")
    root = _parse(chart.svg)
    polylines = root.findall(f".//{SVG}polyline")
    assert len(polylines) == 2  # W1 alone, then W3–W4: the gap breaks the line
    bands = [p for p in root.findall(f".//{SVG}polygon") if p.get("fill-opacity")]
    assert len(bands) == 2
    links = root.findall(f".//{SVG}a")
    assert [a.get("href") for a in links] == ["/rows?w=1", "/rows?w=3"]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "+10.0" in texts and "+35.0" in texts  # values printed, not only drawn
    assert "W1" in texts and "W4" in texts
    # The table carries the same figures, the missing week says so.
    assert "<td>not enough data</td><td></td><td>12</td>" in chart.table
    assert '<td><a href="/rows?w=3">+30.0</a></td><td>+20.0 – +40.0</td><td>44</td>' in chart.table


def test_series_differ_by_marker_and_dash_not_only_colour() -> None:
    one = Series("Org A", [Point("M1", 10.0), Point("M2", 20.0)])
    two = Series("Org B", [Point("M1", -10.0), Point("M2", -5.0)])
    root = _parse(line_chart([one, two], title="t", unit="points").svg)
    lines = root.findall(f".//{SVG}polyline")
    assert lines[0].get("stroke-dasharray") is None and lines[1].get("stroke-dasharray")
    assert root.findall(f".//{SVG}circle") and root.findall(f".//{SVG}rect")  # circle vs square markers


def test_a_reference_line_is_drawn_and_labelled_with_its_source() -> None:
    ref = Reference(67.0, "IT incidents", "HappySignals IT benchmark, Q4 2019")
    chart = line_chart([Series("Happiness", [Point("W1", 40.0)])], title="t", unit="points", references=[ref])
    assert "HappySignals IT benchmark, Q4 2019" in chart.svg
    assert "IT incidents +67.0" in chart.svg


def test_text_is_escaped_everywhere() -> None:
    hostile = '<script>alert("x")</script>'
    chart = bar_chart([Point(hostile, 5.0, n=31, href='/x?a=1&b="2"')], title=hostile, unit="%")
    for markup in (chart.svg, chart.table, str(chart)):
        assert "<script>" not in markup
    _parse(chart.svg)  # still well-formed XML
    assert "&amp;b=&quot;2&quot;" in chart.svg


def test_bars_print_value_and_n_and_not_enough_data() -> None:
    chart = bar_chart([Point("Speed", 42.0, 30.0, 55.0, 60), Point("Cost", None, n=7)], title="Drivers", unit="%")
    texts = [t.text for t in _parse(chart.svg).iter(f"{SVG}text")]
    assert "42.0% (n 60)" in texts
    assert "not enough data (n 7)" in texts
    assert len(_parse(chart.svg).findall(f".//{SVG}rect")) == 1  # no bar for the missing figure


def test_an_empty_chart_says_so() -> None:
    chart = line_chart([Series("x", [Point("W1", None, n=3)])], title="t", unit="%")
    assert "Not enough data in this period" in chart.svg
    assert "Nothing to show" in bar_chart([], title="t", unit="%").svg


def test_sparkline_marks_the_last_value() -> None:
    chart = sparkline([Point("a", 1.0), Point("b", 3.0), Point("c", None)], title="trend", unit="points")
    root = _parse(chart.svg)
    assert len(root.findall(f".//{SVG}circle")) == 1
    assert len(root.findall(f".//{SVG}polyline")) == 1


def test_points_of_reads_compute_output() -> None:
    figure = SimpleNamespace(metric="happiness", value=41.2, n=318, interval=(33.5, 48.9))
    other = SimpleNamespace(metric="csat", value=80.0, n=10, interval=None)
    groups = [({"week": "2026-06-01"}, [other, figure])]
    (point,) = points_of(groups, "happiness", href=lambda key: f"/rows?week={key['week']}")
    assert point == Point("2026-06-01", 41.2, 33.5, 48.9, 318, "/rows?week=2026-06-01")


def test_the_figure_wraps_svg_caption_and_table() -> None:
    chart = line_chart([Series("x", [Point("W1", 1.0)])], title="Caption here", unit="%")
    html = str(chart)
    assert re.search(r"<figure class=\"chart\"><svg.*</svg><figcaption>Caption here</figcaption><details", html)


def test_a_template_renders_the_chart_as_markup_not_text() -> None:
    from django.template import Context, Template

    chart = line_chart([Series("x", [Point("W1", 1.0)])], title="In a template", unit="%")
    html = Template("{{ chart }}").render(Context({"chart": chart}))
    assert html.startswith('<figure class="chart"><svg')
    assert "&lt;svg" not in html


def test_a_sparkline_shows_a_value_between_two_gaps() -> None:
    points = [Point("a", None), Point("b", 2.0), Point("c", None), Point("d", 4.0), Point("e", 5.0)]
    root = _parse(sparkline(points, title="t", unit="points").svg)
    assert len(root.findall(f".//{SVG}polyline")) == 1  # d–e
    assert len(root.findall(f".//{SVG}circle")) == 2  # b alone, and the last value

"""CSV of the pages' tables (`?export=<table>` on the page's own URL, same filters, same tenancy).

A table of figures answers one row per group and figure, with the columns of the metrics API's CSV
(`metric, label, value, n, interval_low, interval_high, unit, enough`) after the group's key and name;
the comments answer one row per response.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

from serviceloop.core.csvsafe import safe_row
from serviceloop.experience.queries import Table
from serviceloop.feedback.models import Response

FIGURE_COLUMNS = ["metric", "label", "value", "n", "interval_low", "interval_high", "unit", "enough"]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _stream(rows: Iterable[list[object]], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(safe_row(row)) for row in rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _table_rows(table: Table) -> Iterator[list[object]]:
    keyed = bool(table.key_name)
    # A table of one group's figures (a row per metric) needs no label column: the metric names the row.
    labelled = table.metrics != ["_figure"]
    yield [*([table.key_name] if keyed else []), *(table.dimensions if labelled else []), *FIGURE_COLUMNS]
    for row in table.rows:
        for figure in row.figures:
            low, high = figure.interval if figure.interval is not None else ("", "")
            yield [
                *([row.key.get(table.key_name) or ""] if keyed else []),
                *(row.labels if labelled else []),
                figure.metric,
                figure.label,
                "" if figure.value is None else figure.value,
                figure.n,
                low,
                high,
                figure.unit,
                "yes" if figure.enough else "no",
            ]


def table_csv(table: Table, prefix: str) -> StreamingHttpResponse:
    return _stream(_table_rows(table), f"{prefix}-{table.name}.csv")


def _comment_rows(rows: Iterable[Response], *, with_organisation: bool) -> Iterator[list[object]]:
    yield [
        "responded_at",
        "service",
        *(["organisation"] if with_organisation else []),
        "channel",
        "score_kind",
        "score",
        "sentiment",
        "sentiment_score",
        "lost_time",
        "drivers",
        "ticket",
        "comment",
    ]
    for response in rows:
        yield [
            response.responded_at.isoformat(),
            response.service.name,
            *([response.organisation.name if response.organisation else ""] if with_organisation else []),
            response.channel,
            response.score_kind or "",
            "" if response.score is None else response.score,
            response.sentiment_label or "",
            "" if response.sentiment_score is None else response.sentiment_score,
            response.lost_time_bucket or "",
            " ".join(response.drivers or []),
            response.ticket.reference if response.ticket else "",
            response.comment,
        ]


def comments_csv(rows: Iterable[Response], prefix: str, *, with_organisation: bool) -> StreamingHttpResponse:
    return _stream(_comment_rows(rows, with_organisation=with_organisation), f"{prefix}-comments.csv")

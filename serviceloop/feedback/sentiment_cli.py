"""Body of the ``serviceloop sentiment`` command: score texts from a file or stdin, write CSV.

Plain input is one text per line (blank lines are skipped). With ``column``, the input is a CSV
file with a header row and the texts are read from that column; the output keeps every input
column and appends ``label`` and ``score``. Open a CSV source with ``newline=""`` so that texts
with line breaks inside quotes survive.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from itertools import islice
from typing import TextIO

from tqdm import tqdm

from serviceloop.feedback.sentiment import DEFAULT_THRESHOLDS, Thresholds, score_texts

# Texts scored and written per batch: large enough to keep per-batch overhead small, small enough
# to keep memory flat and the progress bar moving.
_BATCH = 2_000
_BOM = "\ufeff"


class SentimentInputError(ValueError):
    """The input cannot be read as asked; the message says what to change."""


def run_sentiment(
    *,
    source: TextIO,
    output: TextIO,
    column: str | None,
    progress: bool,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> int:
    """Score every text of ``source`` and write CSV rows to ``output``; returns how many."""
    total = _count_records(source, has_header=column is not None)
    if column is None:
        header = ["text", "label", "score"]
        records = _plain_records(source)
    else:
        input_header, records = _csv_records(source, column)
        header = [*input_header, _free_name("label", input_header), _free_name("score", input_header)]

    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(header)
    count = 0
    with tqdm(total=total, disable=not progress, file=sys.stderr, unit=" texts") as bar:
        while batch := list(islice(records, _BATCH)):
            results = score_texts((text for _, text in batch), thresholds)
            writer.writerows(
                [*row, result.label.value, f"{result.score:.4f}"]
                for (row, _), result in zip(batch, results, strict=True)
            )
            count += len(batch)
            bar.update(len(batch))
    return count


def _plain_records(source: TextIO) -> Iterator[tuple[list[str], str]]:
    for number, line in enumerate(source):
        text = line.rstrip("\r\n")
        if number == 0:
            text = text.removeprefix(_BOM)
        if text.strip():
            yield [text], text


def _csv_records(source: TextIO, column: str) -> tuple[list[str], Iterator[tuple[list[str], str]]]:
    reader = csv.reader(source)
    header = next(reader, None)
    if not header:
        raise SentimentInputError(
            f"The input is empty: expected a CSV file with a header row naming the column {column!r}."
        )
    header[0] = header[0].removeprefix(_BOM)  # spreadsheets like to start UTF-8 files with one
    if column not in header:
        available = ", ".join(repr(name) for name in header)
        raise SentimentInputError(f"The input has no column {column!r}; the available columns are: {available}.")
    index = header.index(column)

    def records() -> Iterator[tuple[list[str], str]]:
        for row in reader:
            if not row:
                continue
            if len(row) > len(header):
                raise SentimentInputError(
                    f"Line {reader.line_num} has {len(row)} cells but the header has "
                    f"{len(header)}; quote texts that contain commas."
                )
            row += [""] * (len(header) - len(row))
            yield row, row[index]

    return header, records()


def _free_name(name: str, taken: list[str]) -> str:
    """``name``, or ``sentiment_<name>`` when the input already has such a column."""
    return name if name not in taken else f"sentiment_{name}"


def _count_records(source: TextIO, *, has_header: bool) -> int | None:
    """How many texts a seekable source holds (for the progress bar); None for a pipe.

    Counts lines, so a CSV with line breaks inside quoted texts is over-counted; the bar then
    stops short of 100 %, which is harmless.
    """
    try:
        if not source.seekable():
            return None
        start = source.tell()
        lines = sum(1 for line in source if line.strip())
        source.seek(start)
    except UnicodeDecodeError:
        # Refused before any output: swallowed here, it left the file at its end and the command
        # wrote a header, no rows, and exited 0.
        raise SentimentInputError("The input is not UTF-8 text; save it as UTF-8.") from None
    except (OSError, ValueError):
        return None
    return max(lines - 1, 0) if has_header else lines

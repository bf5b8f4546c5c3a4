"""The body of ``serviceloop sentiment``: texts in (lines or a CSV column), CSV with labels out."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest

from serviceloop.feedback.sentiment import DEFAULT_THRESHOLDS, Thresholds, score_text
from serviceloop.feedback.sentiment_cli import SentimentInputError, run_sentiment

OUTAGE = "The outage lasted 4 hours and nobody told us anything"


def run_on_text(
    source: str, *, column: str | None = None, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> list[list[str]]:
    output = io.StringIO()
    run_sentiment(
        source=io.StringIO(source, newline=""),
        output=output,
        column=column,
        progress=False,
        thresholds=thresholds,
    )
    return list(csv.reader(io.StringIO(output.getvalue())))


def write(path: Path, content: str) -> Path:
    path.write_text(content, encoding="utf-8", newline="")
    return path


# --- one text per line


def test_plain_lines_become_text_label_score_rows() -> None:
    rows = run_on_text(f"{OUTAGE}\nGreat service, thanks!\n")
    assert rows == [
        ["text", "label", "score"],
        [OUTAGE, "negative", f"{score_text(OUTAGE).score:.4f}"],
        ["Great service, thanks!", "positive", f"{score_text('Great service, thanks!').score:.4f}"],
    ]


def test_score_is_written_with_four_decimals() -> None:
    [_, row] = run_on_text("Fixed quickly, thanks.\n")
    assert len(row[2].split(".")[1]) == 4


def test_blank_lines_are_skipped() -> None:
    rows = run_on_text("first text\n\n   \nsecond text\n")
    assert [row[0] for row in rows[1:]] == ["first text", "second text"]


def test_windows_line_endings_are_not_part_of_the_text() -> None:
    rows = run_on_text("VPN down again\r\nAll sorted\r\n")
    assert [row[0] for row in rows[1:]] == ["VPN down again", "All sorted"]


def test_last_line_without_newline_is_scored() -> None:
    rows = run_on_text("one\ntwo")
    assert [row[0] for row in rows[1:]] == ["one", "two"]


def test_returns_the_number_of_texts_scored() -> None:
    count = run_sentiment(source=io.StringIO("a\nb\n\nc\n"), output=io.StringIO(), column=None, progress=False)
    assert count == 3


def test_empty_plain_input_writes_only_the_header() -> None:
    assert run_on_text("") == [["text", "label", "score"]]


def test_thresholds_given_are_applied() -> None:
    [_, row] = run_on_text("Fixed, thanks.\n", thresholds=Thresholds(positive=0.95, negative=-0.95))
    assert row[1] == "neutral"


def test_many_texts_keep_their_order_across_batches() -> None:
    texts = [f"text number {i} was {'great' if i % 2 else 'awful'}" for i in range(5_000)]
    rows = run_on_text("\n".join(texts) + "\n")
    assert [row[0] for row in rows[1:]] == texts
    assert [row[1] for row in rows[1:3]] == ["negative", "positive"]


def test_byte_order_mark_is_not_part_of_the_first_text() -> None:
    [_, row] = run_on_text("\ufeffVPN down again\n")
    assert row[0] == "VPN down again"


# --- CSV with a column


def test_csv_keeps_original_columns_and_appends_label_and_score(tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", f'id,comment\n7,"{OUTAGE}"\n8,"Sorted, thanks!"\n')
    output = io.StringIO()
    with path.open(encoding="utf-8", newline="") as source:
        run_sentiment(source=source, output=output, column="comment", progress=False)
    rows = list(csv.reader(io.StringIO(output.getvalue())))
    assert rows[0] == ["id", "comment", "label", "score"]
    assert rows[1][:3] == ["7", OUTAGE, "negative"]
    assert rows[2][:3] == ["8", "Sorted, thanks!", "positive"]


def test_missing_column_error_lists_the_available_columns() -> None:
    with pytest.raises(SentimentInputError, match=r"no column 'text'.*'id', 'comment'"):
        run_on_text("id,comment\n1,hello\n", column="text")


def test_missing_column_error_is_a_value_error() -> None:
    assert issubclass(SentimentInputError, ValueError)


def test_empty_csv_input_is_refused_with_a_message() -> None:
    with pytest.raises(SentimentInputError, match="empty"):
        run_on_text("", column="comment")


def test_existing_label_column_is_kept_and_ours_is_prefixed() -> None:
    rows = run_on_text("text,label\nVPN down again,negative\n", column="text")
    assert rows[0] == ["text", "label", "sentiment_label", "score"]
    assert rows[1][:3] == ["VPN down again", "negative", "negative"]


def test_csv_text_with_commas_quotes_and_line_breaks_survives() -> None:
    text = 'Down again,\n"nobody" told us'
    source = io.StringIO()
    csv.writer(source).writerows([["comment"], [text]])
    rows = run_on_text(source.getvalue(), column="comment")
    assert rows[1][0] == text


def test_short_csv_rows_are_padded_to_the_header() -> None:
    rows = run_on_text("comment,channel\nVPN down again\n", column="comment")
    assert rows[1][:3] == ["VPN down again", "", "negative"]


def test_csv_row_with_more_cells_than_the_header_is_refused() -> None:
    with pytest.raises(SentimentInputError, match="Line 2 has 3 cells but the header has 2"):
        run_on_text("id,comment\n1,Down again, nobody told us\n", column="comment")


def test_byte_order_mark_does_not_hide_the_first_column() -> None:
    rows = run_on_text("\ufeffcomment,id\nAll sorted,1\n", column="comment")
    assert rows[0] == ["comment", "id", "label", "score"]


# --- progress


def test_progress_bar_goes_to_stderr_with_the_total_of_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "in.txt", "one\ntwo\nthree\n")
    output = io.StringIO()
    with path.open(encoding="utf-8") as source:
        run_sentiment(source=source, output=output, column=None, progress=True)
    captured = capsys.readouterr()
    assert "3/3" in captured.err
    assert captured.out == ""


def test_progress_bar_works_without_a_total_on_a_pipe(capsys: pytest.CaptureFixture[str]) -> None:
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "w") as writer:
        writer.write("one\ntwo\n")
    with os.fdopen(read_end) as source:
        count = run_sentiment(source=source, output=io.StringIO(), column=None, progress=True)
    assert count == 2
    assert "2 texts" in capsys.readouterr().err


def test_no_progress_output_when_not_asked(capsys: pytest.CaptureFixture[str]) -> None:
    run_on_text("one\ntwo\n")
    assert capsys.readouterr().err == ""

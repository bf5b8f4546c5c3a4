"""Feedback subcommands of `serviceloop`: `sentiment` (score, calibrate, rescore) and `import posts`."""

from __future__ import annotations

import argparse
import io
import sys
from typing import Any, TextIO

from serviceloop.core.cli import setup_django

SENTIMENT_ACTIONS = ("calibrate", "rescore")


def register(sub: Any) -> None:
    sentiment = sub.add_parser(
        "sentiment",
        help="score texts (a file or - for stdin) and write CSV; or 'calibrate' / 'rescore' stored rows",
        description=(
            "serviceloop sentiment [FILE|-] [--column NAME] [--output FILE]: one text a line, or the named column "
            "of a CSV file; writes CSV with label and score for each. "
            "serviceloop sentiment calibrate: fit the cut-offs to staff corrections and store them. "
            "serviceloop sentiment rescore: recompute comments and posts scored by another analyser version."
        ),
    )
    sentiment.add_argument("source", nargs="?", default="-", metavar="FILE|-|calibrate|rescore")
    sentiment.add_argument("--column", help="read the texts from this column of a CSV file with a header row")
    sentiment.add_argument("--output", "-o", help="write the CSV here (default: standard output)")
    sentiment.set_defaults(handler=cmd_sentiment)

    # `import` may be shared with other apps' kinds of import: reuse the parser if one exists.
    importer = sub.choices.get("import") or sub.add_parser("import", help="import data from files")
    kinds = getattr(importer, "serviceloop_kinds", None)
    if kinds is None:
        kinds = importer.add_subparsers(dest="import_kind", required=True, metavar="WHAT")
        importer.serviceloop_kinds = kinds
    posts = kinds.add_parser(
        "posts",
        help="import social posts, mentions, chat messages and reviews from a CSV file",
        description=(
            "Columns: source, external_id, kind, author_handle, url, text, posted_at (ISO 8601 with a time zone). "
            "Valid lines are stored, invalid ones reported with their line number; importing again creates nothing."
        ),
    )
    posts.add_argument("file", help="the CSV file, or - for standard input")
    posts.set_defaults(handler=cmd_import_posts)


def _stored_thresholds() -> Any:
    from django.db import DatabaseError

    from serviceloop.feedback.sentiment import Thresholds
    from serviceloop.feedback.services.sentiment_labels import current_thresholds

    try:
        return current_thresholds()
    except DatabaseError:
        # No database yet (not migrated): the defaults of DOMAIN §2.
        return Thresholds()


def _open_text(name: str, errors: str = "strict") -> TextIO:
    if name == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", errors=errors, newline="")
    return open(name, encoding="utf-8-sig", errors=errors, newline="")


def cmd_sentiment(args: argparse.Namespace) -> int:
    setup_django()
    if args.source in SENTIMENT_ACTIONS:
        return _sentiment_calibrate() if args.source == "calibrate" else _sentiment_rescore()
    from serviceloop.feedback.sentiment_cli import SentimentInputError, run_sentiment

    try:
        source = _open_text(args.source)
    except OSError as error:
        print(f"error: cannot read {args.source}: {error.strerror}", file=sys.stderr)
        return 2
    output: TextIO = sys.stdout
    try:
        if args.output:
            output = open(args.output, "w", encoding="utf-8", newline="")  # noqa: SIM115
        count = run_sentiment(
            source=source,
            output=output,
            column=args.column,
            progress=sys.stderr.isatty(),
            thresholds=_stored_thresholds(),
        )
    except SentimentInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except UnicodeDecodeError:
        # Standard input is read as it comes: the rows before the bad bytes were written.
        print("error: the input is not UTF-8 text; save it as UTF-8.", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: cannot write {args.output}: {error.strerror}", file=sys.stderr)
        return 2
    finally:
        source.close()
        if output is not sys.stdout:
            output.close()
    if args.output:
        print(f"{count:,} texts scored into {args.output}.", file=sys.stderr)
    return 0


def _sentiment_calibrate() -> int:
    from serviceloop.feedback.services.sentiment_labels import CALIBRATION_MINIMUM, sentiment_calibrate

    result = sentiment_calibrate(by=None)
    if not result.enough:
        print(
            f"{result.examples} corrections; at least {CALIBRATION_MINIMUM} are needed, so the defaults stay: "
            f"positive >= {result.thresholds.positive}, negative <= {result.thresholds.negative}"
        )
        return 0
    print(
        f"Calibrated on {result.examples} corrections: positive >= {result.thresholds.positive}, "
        f"negative <= {result.thresholds.negative}" + ("" if result.changed else " (unchanged)")
    )
    return 0


def _sentiment_rescore() -> int:
    from serviceloop.feedback.sentiment import ANALYSER_VERSION
    from serviceloop.feedback.services.sentiment_labels import sentiment_rescore

    changed = sentiment_rescore()
    print(f"{changed:,} comments and posts rescored with {ANALYSER_VERSION}.")
    return 0


def cmd_import_posts(args: argparse.Namespace) -> int:
    setup_django()
    from serviceloop.core.errors import DomainError
    from serviceloop.feedback.services.posts import posts_import_csv

    try:
        # Bytes that are not UTF-8 become lone surrogates, which PostItem refuses: the line is
        # reported with its number and the other lines are stored.
        handle = _open_text(args.file, errors="surrogateescape")
    except OSError as error:
        print(f"error: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 2
    try:
        report = posts_import_csv(handle=handle, progress=sys.stderr.isatty())
    except DomainError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2
    finally:
        handle.close()
    for line_error in report.errors:
        print(f"line {line_error.line}: {line_error.reason}", file=sys.stderr)
    print(
        f"{report.received:,} posts read: {report.created:,} stored ({report.matched:,} matched to a service, "
        f"{report.created - report.matched:,} in the inbox), {report.duplicates:,} already there, "
        f"{report.rejected:,} rejected."
    )
    return 1 if report.rejected else 0

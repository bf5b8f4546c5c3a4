"""Schemas shared by every app's API, and the validated types every edge uses for its input.

The types refuse what the database would refuse later with a 500, so the refusal names the field:
- `BoundedDateTime`, `BoundedDate`: a year from 1970 to 2099 (a year 0001 with a +14:00 offset
  overflowed on the way to UTC; a date before 1970 is a typing slip, not a service history).
- `Text`: no NUL character (PostgreSQL cannot store one in text; SQLite would, so both refuse it)
  and no lone surrogate (not text: neither database can encode it).
- `Integer`: a JSON integer, never `true`/`false` (pydantic reads `true` as 1); 4.0 is read as 4,
  4.5 and "4" are refused.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

# The range every date and time of the input must fall in (inclusive, by the year as written).
EARLIEST_YEAR = 1970
LATEST_YEAR = 2099
EARLIEST_DATE = date(EARLIEST_YEAR, 1, 1)
LATEST_DATE = date(LATEST_YEAR, 12, 31)
DATE_RANGE_MESSAGE = f"must be between {EARLIEST_DATE:%Y-%m-%d} and {LATEST_DATE:%Y-%m-%d}"
NUL_MESSAGE = "must not contain the NUL character (\\u0000)"


class FieldErrorOut(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None
    errors: list[FieldErrorOut] = []


# The statuses every authenticated route may answer besides its own.
AUTH_ERRORS: dict[int, type[Schema]] = {401: ErrorOut, 403: ErrorOut}


def date_in_range(value: date) -> bool:
    """Whether a date (or a datetime, by its year as written) is in the range the edge accepts."""
    return EARLIEST_YEAR <= value.year <= LATEST_YEAR


def _bounded(value: Any) -> Any:
    # The year as written, not in UTC: converting 0001-01-01T00:00+14:00 to UTC is what overflowed.
    if not date_in_range(value):
        raise PydanticCustomError("date_out_of_range", DATE_RANGE_MESSAGE)
    return value


# A lone surrogate is no character at all: json.loads makes one of "\ud800", a file read with
# errors="surrogateescape" of a byte that is not UTF-8; neither database can store it.
_SURROGATE = re.compile("[\ud800-\udfff]")
SURROGATE_MESSAGE = "must be UTF-8 text (it holds a lone surrogate, \\ud800-\\udfff, or bytes that are not UTF-8)"


def text_problem(value: str) -> str | None:
    """Why a string cannot be stored (a NUL character, a lone surrogate), or None."""
    if "\x00" in value:
        return NUL_MESSAGE
    if _SURROGATE.search(value):
        return SURROGATE_MESSAGE
    return None


def _shown(key: str) -> str:
    return key.encode("unicode_escape").decode("ascii") if text_problem(key) else key


def unstorable_at(value: Any, path: tuple[str | int, ...] = ()) -> tuple[tuple[str | int, ...], str] | None:
    """Where the first string that cannot be stored is inside parsed JSON, and why; or None.

    The path names the field as the API's errors do: `("questions", 0, "text")`.
    """
    if isinstance(value, str):
        problem = text_problem(value)
        return (path, problem) if problem else None
    if isinstance(value, dict):
        for key, item in value.items():
            problem = text_problem(str(key))
            if problem:
                return (*path, _shown(str(key))), problem
            found = unstorable_at(item, (*path, str(key)))
            if found is not None:
                return found
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = unstorable_at(item, (*path, index))
            if found is not None:
                return found
    return None


def _storable(value: Any) -> Any:
    # Before pydantic's own str check too, which refuses a lone surrogate with a cryptic message.
    problem = text_problem(value) if isinstance(value, str) else None
    if problem:
        raise PydanticCustomError("string_unstorable", problem)
    return value


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("int_not_bool", "must be a number, not true or false")
    if isinstance(value, str):
        raise PydanticCustomError("int_type", "must be a number, not a string")
    return value


BoundedDateTime = Annotated[datetime, AfterValidator(_bounded)]
BoundedDate = Annotated[date, AfterValidator(_bounded)]
Text = Annotated[str, BeforeValidator(_storable), AfterValidator(_storable)]
Integer = Annotated[int, BeforeValidator(_not_bool)]


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def Omittable(**constraints: Any) -> Any:
    """A field of a PATCH body: left out, the stored value stays; sent as null, it is refused (422).

    A field that null clears is typed `X | None` instead (a value item's estimate, a person's login).
    The document shows no default: a client sends the field or leaves it out.
    """
    return Field(None, json_schema_extra=_no_default, **constraints)

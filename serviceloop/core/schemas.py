"""Schemas shared by every app's API."""

from __future__ import annotations

from ninja import Schema


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

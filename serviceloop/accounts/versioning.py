"""Optimistic concurrency for rows that staff edit: a version number, the ETag, and the stale refusal.

Why a version column rather than `updated_at`: an integer is exact (two edits within the same
clock tick, or web nodes whose clocks differ, cannot share a value), the conditional UPDATE compares
it with `=` on every database, and it is short in an ETag and a hidden form field.

The update service calls `version_claim(row, expected=...)` inside its transaction before it
writes: a conditional `UPDATE ... SET version = version + 1 WHERE pk = ... AND version IN
(expected)`. When another edit committed first, no row matches and the edit is refused with a
`PreconditionFailed` naming who changed it and when (from the event log). `expected=None` (a PATCH
without If-Match, a script) claims whatever version is stored: the last writer wins, field by field.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC
from typing import Any

from django import forms
from django.db.models import F, Model
from ninja import Header

from serviceloop.accounts.models import User
from serviceloop.core.errors import ConflictError, PreconditionFailed
from serviceloop.core.models import Event

# The API's If-Match header of a PATCH on a versioned row.
IF_MATCH = Header(
    None,
    alias="If-Match",
    description=(
        'The ETag of the GET this edit is based on (e.g. "3"). Another edit since then answers 412 and '
        "nothing changes; without If-Match the edit applies to whatever is stored (last writer wins)."
    ),
)


def etag(row: Any) -> str:
    """The strong ETag of a versioned row, e.g. `"3"`."""
    return f'"{row.version}"'


def versions_in(if_match: str | None) -> list[int] | None:
    """The versions an `If-Match` header accepts; None when it is absent or `*` (any version).

    A tag that is not one of ours (`"abc"`) matches no version, so the request answers 412.
    """
    if if_match is None or not if_match.strip() or if_match.strip() == "*":
        return None
    versions: list[int] = []
    for tag in if_match.split(","):
        value = tag.strip().removeprefix("W/").strip('"')
        if value.isascii() and value.isdigit() and len(value) < 10:
            versions.append(int(value))
    return versions


def version_claim(row: Model, *, expected: Iterable[int] | None, noun: str) -> None:
    """Raise the version of `row` by one if it is still at `expected`; call it inside the edit's transaction.

    The UPDATE takes the row lock, so of two edits of the same version exactly one matches; the
    other waits for it to commit, then matches nothing and is refused.
    """
    model = type(row)
    rows = model._default_manager.filter(pk=row.pk)
    if expected is not None:
        rows = rows.filter(version__in=list(expected))
    if not rows.update(version=F("version") + 1):
        if not model._default_manager.filter(pk=row.pk).exists():
            raise ConflictError("deleted", f"This {noun} was deleted meanwhile.")
        raise stale(row, noun=noun)
    row.version = model._default_manager.filter(pk=row.pk).values_list("version", flat=True).get()  # type: ignore[attr-defined]


def version_check(row: Model, *, expected: Iterable[int] | None, noun: str) -> None:
    """Refuse an edit that changes nothing when it was made on an earlier version (If-Match holds
    whether or not the body changes anything)."""
    if expected is not None and row.version not in list(expected):  # type: ignore[attr-defined]
        raise stale(row, noun=noun)


def stale(row: Model, *, noun: str) -> PreconditionFailed:
    """The refusal of an edit made on an earlier version: who changed the row last, and when."""
    last = (
        Event.objects.filter(subject_type=row._meta.label_lower, subject_id=row.pk)
        .order_by("-created_at", "-pk")
        .first()
    )
    who, when = "Someone", getattr(row, "updated_at", None)
    if last is not None:
        when = last.created_at
        user = User.objects.filter(pk=last.actor_id).first() if last.actor_id else None
        who = (user.name or user.email) if user is not None else (last.actor_label or "The system")
    at = f" at {when.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if when is not None else ""
    return PreconditionFailed("stale", f"{who} changed this {noun}{at}; reload and apply your change again.")


class VersionedForm(forms.Form):
    """An edit form that carries the version it was rendered from: a submit made after someone
    else's edit is refused with their name instead of reverting it."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def edit_data(self) -> tuple[dict[str, object], list[int] | None]:
        """The cleaned fields without the version, and the versions the edit expects (None: any)."""
        data = dict(self.cleaned_data)
        version = data.pop("version", None)
        return data, None if version is None else [int(version)]

"""The visibility protocol: who may see which rows, decided in one place per model.

A query takes the viewer and narrows a queryset through `visible_to`; views and API handlers never
filter by organisation themselves. Rows that belong to a consumer organisation are visible to staff
and to customer users of that organisation only.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


class Viewer(Protocol):
    is_authenticated: bool

    @property
    def is_staff_member(self) -> bool: ...

    @property
    def organisation_id(self) -> int | None: ...


def is_staff_viewer(viewer: object) -> bool:
    return bool(getattr(viewer, "is_authenticated", False) and getattr(viewer, "is_staff_member", False))


def restrict_to_organisation(queryset: QuerySet[M], viewer: object, field: str = "organisation") -> QuerySet[M]:
    """Staff see every row; a customer user sees their own organisation's; anyone else nothing."""
    if isinstance(viewer, AnonymousUser) or not getattr(viewer, "is_authenticated", False):
        return queryset.none()
    if is_staff_viewer(viewer):
        return queryset
    organisation_id = getattr(viewer, "organisation_id", None)
    if organisation_id is None:
        return queryset.none()
    return queryset.filter(**{f"{field}_id": organisation_id})


def require_staff(viewer: object) -> None:
    if not is_staff_viewer(viewer):
        raise PermissionDenied("Only staff may do this.")

"""Reads of XLAs, narrowed to what the viewer may see (docs/experience.md, "XLAs").

Staff see every XLA. A customer user sees the XLAs of their own organisation's relationships, and no
service-wide XLA (it counts every organisation).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from serviceloop.core.visibility import is_staff_viewer
from serviceloop.experience.models import Xla, XlaEvaluation


def xlas_visible(*, viewer: Any) -> QuerySet[Xla]:
    """Staff: every XLA. A customer: the XLAs of their own organisation's relationships, nothing service-wide."""
    rows = Xla.objects.select_related(
        "service", "service__service_manager", "owner", "relationship__organisation", "relationship__offering"
    )
    if not getattr(viewer, "is_authenticated", False):
        return rows.none()
    if is_staff_viewer(viewer):
        return rows
    organisation_id = getattr(viewer, "organisation_id", None)
    if organisation_id is None:
        return rows.none()
    return rows.filter(relationship__organisation_id=organisation_id)


def xla_list(*, viewer: Any, service: str = "", state: str = "", status: str = "active") -> QuerySet[Xla]:
    rows = xlas_visible(viewer=viewer)
    if service:
        rows = rows.filter(service__public_id=service)
    if state == "none":
        rows = rows.filter(state="")
    elif state:
        rows = rows.filter(state=state)
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("service__name", "name", "pk")


def xla_for(*, viewer: Any, public_id: str) -> Xla:
    xla = xlas_visible(viewer=viewer).filter(public_id=public_id).first()
    if xla is None:
        raise Http404("No such XLA.")
    return xla


def xla_history(xla: Xla) -> QuerySet[XlaEvaluation]:
    return XlaEvaluation.objects.filter(xla=xla).order_by("-evaluated_at", "-pk")


# Worst first: what a portfolio shows for a service with several XLAs.
STATE_SEVERITY = (Xla.State.BREACHED, Xla.State.AT_RISK, Xla.State.NOT_ENOUGH_DATA, Xla.State.MET)


def worst_states(*, viewer: Any, service_ids: list[int]) -> dict[int, str]:
    """The worst state of each service's active, evaluated XLAs the viewer may see (one query): the portfolio's column."""
    rows = xlas_visible(viewer=viewer).filter(status=Xla.Status.ACTIVE, service_id__in=service_ids).exclude(state="")
    worst: dict[int, str] = {}
    for service_id, state in rows.values_list("service_id", "state").order_by():
        if service_id not in worst or STATE_SEVERITY.index(state) < STATE_SEVERITY.index(worst[service_id]):  # type: ignore[arg-type]
            worst[service_id] = state
    return worst

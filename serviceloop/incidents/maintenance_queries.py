"""Reads of maintenance windows for the staff pages and the API (staff only; customers see them on
the status page and in the portal, which read the rows themselves)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from serviceloop.catalogue.models import Offering
from serviceloop.core.visibility import require_staff
from serviceloop.incidents.models import AffectedOrganisation, AffectedService, Incident, IncidentUpdate

WHEN = ("upcoming", "active", "past")


def _windows(viewer: object) -> QuerySet[Incident]:
    require_staff(viewer)
    return (
        Incident.objects.filter(kind=Incident.Kind.MAINTENANCE)
        .select_related("owner")
        .prefetch_related(
            # What the API's MaintenanceOut reads of each window, in the order it lists them.
            Prefetch(
                "affected_services",
                queryset=AffectedService.objects.select_related("service").order_by("service__name", "pk"),
            ),
            Prefetch("offerings", queryset=Offering.objects.order_by("name", "pk")),
            Prefetch(
                "affected_organisations",
                queryset=AffectedOrganisation.objects.select_related("organisation").order_by(
                    "organisation__name", "pk"
                ),
            ),
        )
    )


def maintenance_list(*, viewer: object, when: str = "") -> QuerySet[Incident]:
    """Windows by when: upcoming (scheduled, soonest first), active (in progress or verifying), past
    (completed or cancelled, latest first); every window, latest planned first, without `when`."""
    windows = _windows(viewer)
    if when == "upcoming":
        return windows.filter(status=Incident.Status.SCHEDULED).order_by("scheduled_for", "pk")
    if when == "active":
        return windows.filter(status__in=Incident.MAINTENANCE_ACTIVE).order_by("scheduled_for", "pk")
    if when == "past":
        return windows.filter(status=Incident.Status.COMPLETED).order_by("-scheduled_for", "-pk")
    return windows.order_by("-scheduled_for", "-pk")


def maintenance_for(*, viewer: object, public_id: str) -> Incident:
    return get_object_or_404(_windows(viewer), public_id=(public_id or "")[:24])


def maintenance_updates(*, viewer: object, maintenance: Incident) -> QuerySet[IncidentUpdate]:
    require_staff(viewer)
    return maintenance.updates.select_related("posted_by").order_by("-display_at", "-pk")

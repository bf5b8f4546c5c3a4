"""Reads of the catalogue, narrowed to what the viewer may see.

Staff read the whole catalogue. A customer user sees only the offerings their organisation consumes
through a relationship that has not ended, and nothing else of the catalogue (another offering is a 404).
The relationships app stands on a higher floor, so the relationship is reached through the ORM's
reverse name (`relationships`) rather than an import.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from serviceloop.accounts.models import User
from serviceloop.catalogue.models import CatalogueChange, Offering, OfferingComponent, Service, ValueItem
from serviceloop.core.visibility import is_staff_viewer

# relationships.Relationship.Status ACTIVE and PAUSED (not ENDED); spelled out because catalogue may
# not import relationships. relationships/tests checks the two lists agree.
RELATIONSHIP_OPEN = ("active", "paused")


def services_visible(*, viewer: User) -> QuerySet[Service]:
    if not is_staff_viewer(viewer):
        return Service.objects.none()
    return Service.objects.select_related("service_manager").annotate(offering_count=Count("offerings"))


def service_list(
    *, viewer: User, q: str = "", lifecycle: str = "", criticality: str = "", manager: str = ""
) -> QuerySet[Service]:
    rows = services_visible(viewer=viewer)
    if q:
        rows = rows.filter(Q(name__icontains=q) | Q(description__icontains=q) | Q(slug__icontains=q))
    if lifecycle:
        rows = rows.filter(lifecycle=lifecycle)
    if criticality:
        rows = rows.filter(criticality=criticality)
    if manager:
        rows = rows.filter(service_manager__public_id=manager)
    return rows.order_by("name")


def service_for(*, viewer: User, public_id: str) -> Service:
    return get_object_or_404(services_visible(viewer=viewer), public_id=public_id)


def _offerings_base() -> QuerySet[Offering]:
    return Offering.objects.select_related("service", "service__service_manager").prefetch_related(
        Prefetch("components", queryset=OfferingComponent.objects.order_by("position", "pk")),
        Prefetch("value_items", queryset=ValueItem.objects.order_by("kind", "position", "pk")),
    )


def offerings_visible(*, viewer: User) -> QuerySet[Offering]:
    """Staff: every offering. A customer: those their organisation consumes (relationship not ended)."""
    if not getattr(viewer, "is_authenticated", False):
        return Offering.objects.none()
    if is_staff_viewer(viewer):
        return _offerings_base()
    if viewer.organisation_id is None:
        return Offering.objects.none()
    # One filter() call, so both conditions hold on the same relationship row; a subquery, not a
    # join, so an offering with an ended and an open relationship is listed once.
    open_ids = Offering.objects.filter(
        relationships__organisation_id=viewer.organisation_id, relationships__status__in=RELATIONSHIP_OPEN
    ).values("pk")
    return _offerings_base().filter(pk__in=open_ids)


def offering_list(*, viewer: User, service: str = "", q: str = "", lifecycle: str = "") -> QuerySet[Offering]:
    rows = offerings_visible(viewer=viewer)
    if service:
        rows = rows.filter(service__public_id=service)
    if q:
        rows = rows.filter(Q(name__icontains=q) | Q(service__name__icontains=q) | Q(target_group__icontains=q))
    if lifecycle:
        rows = rows.filter(service__lifecycle=lifecycle)
    return rows.order_by("service__name", "name")


def offering_for(*, viewer: User, public_id: str) -> Offering:
    return get_object_or_404(offerings_visible(viewer=viewer), public_id=public_id)


def component_for(*, viewer: User, public_id: str) -> OfferingComponent:
    if not is_staff_viewer(viewer):
        return get_object_or_404(OfferingComponent.objects.none(), public_id=public_id)
    return get_object_or_404(OfferingComponent.objects.select_related("offering__service"), public_id=public_id)


def value_item_for(*, viewer: User, public_id: str) -> ValueItem:
    if not is_staff_viewer(viewer):
        return get_object_or_404(ValueItem.objects.none(), public_id=public_id)
    return get_object_or_404(ValueItem.objects.select_related("offering__service"), public_id=public_id)


def catalogue_changes(*, viewer: User, service: str = "", object_id: str = "") -> QuerySet[CatalogueChange]:
    if not is_staff_viewer(viewer):
        return CatalogueChange.objects.none()
    rows = CatalogueChange.objects.select_related("by", "service")
    if service:
        rows = rows.filter(service__public_id=service)
    if object_id:
        rows = rows.filter(object_public_id=object_id)
    return rows.order_by("-created_at", "-pk")


@dataclass(frozen=True)
class ValueSides:
    """The customer page's two columns: what the offering gives and what it asks, never netted."""

    gives: dict[str, list[ValueItem]]
    asks: dict[str, list[ValueItem]]

    @property
    def is_empty(self) -> bool:
        return not any(self.gives.values()) and not any(self.asks.values())


def value_sides(offering: Offering) -> ValueSides:
    """Group the (prefetched) value items by side and kind, in the kinds' order."""
    items = list(offering.value_items.all())
    labels = dict(ValueItem.Kind.choices)
    gives = {labels[kind]: [i for i in items if i.kind == kind] for kind in ValueItem.GIVES}
    asks = {labels[kind]: [i for i in items if i.kind == kind] for kind in ValueItem.ASKS}
    return ValueSides(gives=gives, asks=asks)

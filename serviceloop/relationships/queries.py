"""Reads of organisations, people and relationships, narrowed to what the viewer may see.

Staff see all; a customer user sees only their own organisation's rows; another's is a 404.
"""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.queries import organisations_visible
from serviceloop.core.visibility import restrict_to_organisation
from serviceloop.relationships.models import Person, Relationship, RelationshipEvent, RelationshipRole

OPEN_STATUSES = (Relationship.Status.ACTIVE, Relationship.Status.PAUSED)


def _count(queryset: QuerySet) -> Subquery:
    # A correlated count per row: one query for the whole list, and no join that multiplies rows.
    counted = queryset.order_by().values("organisation").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))  # type: ignore[return-value]


def organisation_list(*, viewer: User, q: str = "") -> QuerySet[Organisation]:
    rows = organisations_visible(viewer=viewer).annotate(
        people_count=_count(Person.objects.filter(organisation=OuterRef("pk"))),
        relationship_count=_count(Relationship.objects.filter(organisation=OuterRef("pk"), status__in=OPEN_STATUSES)),
    )
    if q:
        rows = rows.filter(Q(name__icontains=q) | Q(domain__icontains=q) | Q(slug__icontains=q))
    return rows.order_by("name")


def organisation_for(*, viewer: User, public_id: str) -> Organisation:
    return get_object_or_404(organisation_list(viewer=viewer), public_id=public_id)


def people_visible(*, viewer: User) -> QuerySet[Person]:
    return restrict_to_organisation(Person.objects.select_related("organisation", "user"), viewer)


def person_list(
    *, viewer: User, organisation: str = "", q: str = "", survey_opt_out: bool | None = None
) -> QuerySet[Person]:
    rows = people_visible(viewer=viewer)
    if organisation:
        rows = rows.filter(organisation__public_id=organisation)
    if q:
        rows = rows.filter(Q(name__icontains=q) | Q(email__icontains=q))
    if survey_opt_out is not None:
        rows = rows.filter(survey_opt_out=survey_opt_out)
    return rows.order_by("name", "email")


def person_for(*, viewer: User, public_id: str) -> Person:
    return get_object_or_404(people_visible(viewer=viewer), public_id=public_id)


def _roles() -> Prefetch:
    return Prefetch(
        "roles", queryset=RelationshipRole.objects.select_related("person").order_by("role", "person__name")
    )


def relationships_visible(*, viewer: User) -> QuerySet[Relationship]:
    rows = Relationship.objects.select_related("organisation", "offering", "offering__service").prefetch_related(
        _roles()
    )
    return restrict_to_organisation(rows, viewer)


def relationship_list(
    *,
    viewer: User,
    organisation: str = "",
    offering: str = "",
    service: str = "",
    status: str = "",
    person: str = "",
    q: str = "",
) -> QuerySet[Relationship]:
    rows = relationships_visible(viewer=viewer)
    if organisation:
        rows = rows.filter(organisation__public_id=organisation)
    if offering:
        rows = rows.filter(offering__public_id=offering)
    if service:
        rows = rows.filter(offering__service__public_id=service)
    if status:
        rows = rows.filter(status=status)
    if person:
        rows = rows.filter(pk__in=RelationshipRole.objects.filter(person__public_id=person).values("relationship"))
    if q:
        rows = rows.filter(
            Q(organisation__name__icontains=q)
            | Q(offering__name__icontains=q)
            | Q(offering__service__name__icontains=q)
        )
    return rows.order_by("organisation__name", "offering__service__name", "offering__name", "-started_on")


def relationship_for(*, viewer: User, public_id: str) -> Relationship:
    return get_object_or_404(relationships_visible(viewer=viewer), public_id=public_id)


def relationship_events(*, relationship: Relationship) -> QuerySet[RelationshipEvent]:
    return relationship.events.select_related("by").order_by("-occurred_at", "-pk")


def roles_of(*, person: Person) -> QuerySet[RelationshipRole]:
    return person.roles.select_related("relationship__offering__service").order_by(
        "relationship__offering__service__name", "role"
    )


def organisation_history(*, organisation: Organisation, limit: int = 30) -> QuerySet[RelationshipEvent]:
    """The latest events of every relationship of one organisation (the organisation page's timeline)."""
    return (
        RelationshipEvent.objects.filter(relationship__organisation=organisation)
        .select_related("by", "relationship__offering__service")
        .order_by("-occurred_at", "-pk")[:limit]
    )

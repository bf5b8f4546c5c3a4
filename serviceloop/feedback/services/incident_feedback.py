"""Feedback about major incidents (DOMAIN §3, §6): a survey offered to every affected organisation
once the incident is resolved, and the review's "lost time from feedback".

Who is asked: in each affected organisation, every person holding the customer or sponsor role in
an active relationship of that organisation on an affected service (the incident's affected services
and its offerings' services), once per person, about the first such service by name. Each goes
through the throttle like any trigger (`Trigger.MAJOR_INCIDENT`, a transactional survey), so a
person asked about a ticket yesterday is suppressed with the reason, not asked twice. The offer is
recorded on the organisation's `AffectedOrganisation.survey_offered_at` in the same transaction as
its invitations: a re-delivered event, or the incident resolved again after a reopen, offers nothing.

Lost time: the answers counted for an incident are the responses to its invitations and the
responses about its linked tickets (`IncidentTicket`) that carry a lost-time bucket ("none"
included, as experience counts the answers with a bucket); `Review.lost_minutes` is the sum of their
bucket midpoints and `lost_responses` their number. The recount reads everything again, so calling
it at any moment converges; with no review yet (it is opened when a major incident resolves) it does
nothing, and the next recount — the review completed or published, a later answer — writes it.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, Q, Sum

from serviceloop.core import clock
from serviceloop.feedback.models import Response, Trigger
from serviceloop.feedback.services.invitations import InvitationOutcome, invitation_create
from serviceloop.incidents.models import AffectedOrganisation, Incident, Review
from serviceloop.relationships.models import Relationship, RelationshipRole

SURVEYED_ROLES = (RelationshipRole.Role.CUSTOMER, RelationshipRole.Role.SPONSOR)


def incident_service_ids(incident: Incident) -> set[int]:
    """The services an incident affects: its affected services and its offerings' services."""
    ids = set(incident.affected_services.values_list("service_id", flat=True))
    ids |= set(incident.offerings.values_list("service_id", flat=True))
    return ids


def roles_to_ask(affected: AffectedOrganisation, service_ids: set[int]) -> list[RelationshipRole]:
    """One role per person of the organisation: the first affected service by name, then the oldest role."""
    roles = (
        RelationshipRole.objects.filter(
            role__in=SURVEYED_ROLES,
            person__organisation_id=affected.organisation_id,
            relationship__organisation_id=affected.organisation_id,
            relationship__status=Relationship.Status.ACTIVE,
            relationship__offering__service_id__in=service_ids,
        )
        .select_related("person", "relationship__offering__service")
        .order_by("person__pk", "relationship__offering__service__name", "pk")
    )
    first: dict[int, RelationshipRole] = {}
    for role in roles:
        first.setdefault(role.person_id, role)
    return list(first.values())


def incident_surveys_offer(*, incident_id: int) -> list[InvitationOutcome]:
    """Offer the incident's survey to each affected organisation not yet offered one (major, resolved only).

    Returns every outcome (invitations and suppressed rows); an organisation with nobody to ask is
    still marked offered, so a later delivery does not look again."""
    incident = Incident.objects.filter(pk=incident_id).first()
    if incident is None or not incident.is_major or incident.status != Incident.Status.RESOLVED:
        return []
    service_ids = incident_service_ids(incident)
    outcomes: list[InvitationOutcome] = []
    for affected_id in incident.affected_organisations.filter(survey_offered_at__isnull=True).values_list(
        "pk", flat=True
    ):
        outcomes += _offer_one(incident=incident, affected_id=affected_id, service_ids=service_ids)
    return outcomes


def _offer_one(*, incident: Incident, affected_id: int, service_ids: set[int]) -> list[InvitationOutcome]:
    with transaction.atomic():
        # Locked and checked again: two deliveries of the event at once must not both invite.
        affected = AffectedOrganisation.objects.select_for_update().get(pk=affected_id)
        if affected.survey_offered_at is not None:
            return []
        outcomes = [
            invitation_create(
                person=role.person,
                service=role.relationship.offering.service,
                offering=role.relationship.offering,
                relationship=role.relationship,
                incident=incident,
                trigger=Trigger.MAJOR_INCIDENT,
            )
            for role in roles_to_ask(affected, service_ids)
        ]
        affected.survey_offered_at = clock.now()
        affected.save(update_fields=["survey_offered_at", "updated_at"])
    return outcomes


def incidents_of_responses(response_ids: Iterable[int]) -> set[int]:
    """The incidents the responses are about: through their invitation, or their ticket's incident link."""
    rows = Response.objects.filter(pk__in=list(response_ids)).values_list(
        "invitation__incident_id", "ticket__incident_link__incident_id"
    )
    return {pk for pair in rows for pk in pair if pk is not None}


def incident_lost_answers(incident_id: int) -> tuple[int, int]:
    """(lost minutes, answers with a lost-time bucket) of the responses about the incident."""
    totals = Response.objects.filter(
        Q(invitation__incident_id=incident_id) | Q(ticket__incident_link__incident_id=incident_id),
        lost_time_minutes__isnull=False,
    ).aggregate(minutes=Sum("lost_time_minutes"), answers=Count("pk"))
    return totals["minutes"] or 0, totals["answers"] or 0


def incident_lost_time_recount(*, incident_id: int) -> Review | None:
    """Write the incident's review's lost minutes and lost-time answers from the responses; None without a review."""
    with transaction.atomic():
        review = Review.objects.select_for_update().filter(incident_id=incident_id).first()
        if review is None:
            return None
        minutes, answers = incident_lost_answers(incident_id)
        if (review.lost_minutes, review.lost_responses) != (minutes, answers):
            review.lost_minutes, review.lost_responses = minutes, answers
            review.save(update_fields=["lost_minutes", "lost_responses", "updated_at"])
    return review

"""Feedback's side of major incidents: the survey offered to each affected organisation at resolution,
and the review's lost time from the answers about the incident."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction

from serviceloop.accounts.models import Organisation
from serviceloop.accounts.testing import api_client_for
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core import clock
from serviceloop.core.events import event_dispatch, event_record
from serviceloop.desk.tests.factories import grant, make_person, make_relationship
from serviceloop.feedback.models import Invitation, SuppressedInvitation, Trigger
from serviceloop.feedback.services.responses import response_answer_link, response_update_followups
from serviceloop.feedback.tests.survey_factories import make_ticket, past_invitation
from serviceloop.incidents import events
from serviceloop.incidents.models import (
    AffectedOrganisation,
    AffectedService,
    Incident,
    IncidentTicket,
    Review,
    Severity,
)
from serviceloop.incidents.references import next_reference
from serviceloop.relationships.models import Person, Relationship

pytestmark = pytest.mark.django_db


def make_incident(service: Service, *organisations: Organisation, severity: str = Severity.SEV1) -> Incident:
    now = clock.now()
    incident = Incident.objects.create(
        reference=next_reference(Incident.Kind.INCIDENT),
        title="Mail delivery delayed",
        severity=severity,
        status=Incident.Status.RESOLVED,
        declared_at=now - timedelta(hours=3),
        resolved_at=now,
    )
    AffectedService.objects.create(incident=incident, service=service)
    for organisation in organisations:
        AffectedOrganisation.objects.create(incident=incident, organisation=organisation)
    return incident


def resolved(incident: Incident) -> None:
    """The event as the incidents app records it at resolution, delivered as the worker does."""
    with transaction.atomic():
        event = event_record(
            events.INCIDENT_RESOLVED,
            subject=incident,
            incident_id=incident.pk,
            resolved_at=incident.resolved_at,
            is_major=incident.is_major,
            organisation_ids=list(incident.affected_organisations.values_list("organisation_id", flat=True)),
        )
    event_dispatch(event_id=event.pk)


def open_review(incident: Incident) -> Review:
    return Review.objects.create(incident=incident, due_at=clock.now() + timedelta(days=3))


@pytest.fixture
def pia(org_a: Organisation, relationship_a: Relationship) -> Person:
    """Organisation A's customer of the mailbox offering."""
    person = make_person(org_a, email="pia@acme.example", name="Pia Acme")
    grant(relationship_a, person, "customer")
    return person


@pytest.fixture
def sol(org_a: Organisation, relationship_a: Relationship) -> Person:
    """Organisation A's sponsor."""
    person = make_person(org_a, email="sol@acme.example", name="Sol Sponsor")
    grant(relationship_a, person, "sponsor")
    return person


@pytest.fixture
def bea(org_b: Organisation, offering: Offering) -> Person:
    """Organisation B's customer of the same offering."""
    person = make_person(org_b, email="bea@borealis.example", name="Bea Borealis")
    grant(make_relationship(org_b, offering), person, "customer")
    return person


def test_resolving_a_major_incident_invites_each_affected_organisations_customers_and_sponsors(
    service: Service,
    org_a: Organisation,
    org_b: Organisation,
    pia: Person,
    sol: Person,
    bea: Person,
    carol_person: Person,
    smtp_server: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    incident = make_incident(service, org_a, org_b)
    with django_capture_on_commit_callbacks(execute=True):
        resolved(incident)
    # Three invitations, and the service manager's two trust alerts (the major incident put both
    # organisations' new relationships in the red band: experience's trust, a higher floor).
    messages = [m for m in smtp_server.wait_for(5) if str(m["Subject"]).startswith("How did we handle")]
    assert sorted(m["To"] for m in messages) == ["bea@borealis.example", "pia@acme.example", "sol@acme.example"]
    message = smtp_server.to("pia@acme.example")[0]
    assert message["Subject"] == f"How did we handle {incident.reference}? {service.name}: Mail delivery delayed"
    assert f'{incident.reference} "Mail delivery delayed" affected' in message.get_body(("plain",)).get_content()
    invitations = Invitation.objects.filter(incident=incident)
    assert {i.trigger for i in invitations} == {Trigger.MAJOR_INCIDENT}
    assert {i.organisation for i in invitations} == {org_a, org_b}
    # A plain user of the relationship (Carol) is not asked; each organisation is marked offered.
    assert not invitations.filter(person=carol_person).exists()
    assert not AffectedOrganisation.objects.filter(incident=incident, survey_offered_at__isnull=True).exists()


def test_a_person_surveyed_this_week_is_suppressed_as_throttled(
    service: Service, org_a: Organisation, pia: Person
) -> None:
    past_invitation(pia, service, clock.now() - timedelta(days=2))
    incident = make_incident(service, org_a)
    resolved(incident)
    assert not Invitation.objects.filter(incident=incident).exists()
    row = SuppressedInvitation.objects.get(person=pia)
    assert (row.reason, row.trigger) == (SuppressedInvitation.Reason.THROTTLED, Trigger.MAJOR_INCIDENT)


def test_redelivery_and_a_second_resolution_invite_nobody_twice(
    service: Service, org_a: Organisation, pia: Person, travel: Any
) -> None:
    incident = make_incident(service, org_a)
    resolved(incident)
    event = event_record(events.INCIDENT_RESOLVED, subject=incident, incident_id=incident.pk, is_major=True)
    travel.by(days=10)  # past the throttle: only the offer's record holds
    event_dispatch(event_id=event.pk)
    resolved(incident)
    assert Invitation.objects.filter(incident=incident).count() == 1
    assert not SuppressedInvitation.objects.exists()


def test_a_minor_incident_offers_no_survey(service: Service, org_a: Organisation, pia: Person) -> None:
    incident = make_incident(service, org_a, severity=Severity.SEV3)
    resolved(incident)
    assert not Invitation.objects.exists()
    assert AffectedOrganisation.objects.get(incident=incident).survey_offered_at is None


def test_only_affected_organisations_are_asked(service: Service, org_a: Organisation, pia: Person, bea: Person) -> None:
    incident = make_incident(service, org_a)
    resolved(incident)
    assert list(Invitation.objects.values_list("person__email", flat=True)) == ["pia@acme.example"]
    assert not Invitation.objects.filter(organisation__name=bea.organisation.name).exists()


def test_lost_time_in_answers_about_the_incident_is_the_reviews_figure(
    service: Service, org_a: Organisation, pia: Person, sol: Person, django_capture_on_commit_callbacks: Any
) -> None:
    incident = make_incident(service, org_a)
    review = open_review(incident)
    resolved(incident)
    with django_capture_on_commit_callbacks(execute=True):
        for person, bucket in ((pia, "1to2h"), (sol, "none")):
            invitation = Invitation.objects.get(incident=incident, person=person)
            response = response_answer_link(invitation=invitation, score=3)
            response_update_followups(response=response, lost_time_bucket=bucket)
    review.refresh_from_db()
    assert (review.lost_minutes, review.lost_responses) == (90, 2)


def test_an_answer_about_a_linked_ticket_counts_for_the_incident(
    service: Service, org_a: Organisation, pia: Person, django_capture_on_commit_callbacks: Any
) -> None:
    incident = make_incident(service, org_a, severity=Severity.SEV3)
    review = open_review(incident)
    ticket = make_ticket(service, pia)
    IncidentTicket.objects.create(incident=incident, ticket=ticket)
    other = make_ticket(service, pia)  # not linked: its lost time is not the incident's
    with django_capture_on_commit_callbacks(execute=True):
        for about, bucket in ((ticket, "2to4h"), (other, "gt1day")):
            invitation = Invitation.objects.create(
                survey_version=past_invitation(pia, service, clock.now()).survey_version,
                person=pia,
                organisation=org_a,
                service=service,
                ticket=about,
                trigger=Trigger.TICKET_RESOLVED,
                sent_at=clock.now(),
                expires_at=clock.now() + timedelta(days=14),
            )
            response = response_answer_link(invitation=invitation, score=2)
            response_update_followups(response=response, lost_time_bucket=bucket)
    review.refresh_from_db()
    assert (review.lost_minutes, review.lost_responses) == (180, 1)


def test_answers_before_the_review_exists_are_counted_when_it_is_completed(
    service: Service, org_a: Organisation, pia: Person, django_capture_on_commit_callbacks: Any
) -> None:
    incident = make_incident(service, org_a)
    resolved(incident)
    # A major incident's review opens when it is resolved (incidents.review_open); take it away, as
    # if it were opened by hand later, so the answer arrives while there is no review to count into.
    Review.objects.filter(incident=incident).delete()
    invitation = Invitation.objects.get(incident=incident)
    with django_capture_on_commit_callbacks(execute=True):
        response_update_followups(
            response=response_answer_link(invitation=invitation, score=4), lost_time_bucket="lt30"
        )
    review = open_review(incident)
    with transaction.atomic():
        event = event_record(events.REVIEW_COMPLETED, subject=review, incident_id=incident.pk, review_id=review.pk)
    event_dispatch(event_id=event.pk)
    review.refresh_from_db()
    assert (review.lost_minutes, review.lost_responses) == (15, 1)


def test_each_organisation_sees_only_its_own_answers_about_the_incident(
    service: Service, org_a: Organisation, org_b: Organisation, pia: Person, bea: Person, carol: Any, bob: Any
) -> None:
    incident = make_incident(service, org_a, org_b)
    resolved(incident)
    answers = {
        i.person.email: response_answer_link(invitation=i, score=1).public_id
        for i in Invitation.objects.filter(incident=incident).select_related("person")
    }
    for viewer, own, other in (
        (carol, "pia@acme.example", "bea@borealis.example"),
        (bob, "bea@borealis.example", "pia@acme.example"),
    ):
        seen = {row["public_id"] for row in api_client_for(viewer).get("/api/feedback/responses").json()["items"]}
        assert answers[own] in seen and answers[other] not in seen
        assert api_client_for(viewer).get(f"/api/feedback/responses/{answers[other]}").status_code == 404

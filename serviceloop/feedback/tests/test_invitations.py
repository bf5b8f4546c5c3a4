"""Invitations from the desk, the API trigger and the relationship schedule; the suppressed-invitation log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from serviceloop.accounts.models import Organisation
from serviceloop.accounts.testing import api_client_for
from serviceloop.catalogue.models import Offering
from serviceloop.feedback.models import Invitation, SuppressedInvitation, SurveyKind, Trigger
from serviceloop.feedback.services.invitations import relationship_invitations_send
from serviceloop.feedback.services.surveys import throttle_policy_set
from serviceloop.feedback.tests.survey_factories import (
    make_person,
    make_service,
    make_ticket,
    past_invitation,
    resolve,
)
from serviceloop.relationships.models import Relationship, RelationshipRole

Reason = SuppressedInvitation.Reason


@pytest.fixture
def payroll(sam: Any) -> Any:
    return make_service("Payroll", sam)


@pytest.fixture
def pat(org_a: Organisation) -> Any:
    return make_person(org_a, "pat@acme.example", name="Pat Pay")


def test_resolving_a_ticket_emails_its_requester_the_first_question(
    payroll: Any, pat: Any, smtp_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ticket = make_ticket(payroll, pat)
    with django_capture_on_commit_callbacks(execute=True):
        resolve(ticket)
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "pat@acme.example"
    assert "Payroll" in message["Subject"] and ticket.reference in message["Subject"]
    assert message["List-Unsubscribe"].strip().startswith("<http://testserver/feedback/s/")
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert all(f'data-score="{n}"' in html for n in range(11))
    assert "10: http://testserver/feedback/r/" in text
    invitation = Invitation.objects.get(ticket=ticket)
    assert (invitation.trigger, invitation.person, invitation.kind) == (Trigger.TICKET_RESOLVED, pat, "transactional")


def test_duplicate_ticket_is_not_surveyed_and_the_reason_is_kept(payroll: Any, pat: Any) -> None:
    resolve(make_ticket(payroll, pat, is_duplicate=True))
    assert not Invitation.objects.exists()
    row = SuppressedInvitation.objects.get()
    assert (row.reason, row.person, row.trigger) == (Reason.DUPLICATE, pat, Trigger.TICKET_RESOLVED)


def test_automatically_closed_ticket_is_not_surveyed(payroll: Any, pat: Any) -> None:
    resolve(make_ticket(payroll, pat, closed_automatically=True))
    assert not Invitation.objects.exists()
    assert SuppressedInvitation.objects.get().detail == "The ticket was closed automatically."


def test_resolving_a_reopened_ticket_again_does_not_invite_twice(payroll: Any, pat: Any) -> None:
    ticket = resolve(make_ticket(payroll, pat))
    resolve(ticket)
    assert Invitation.objects.filter(ticket=ticket).count() == 1
    assert SuppressedInvitation.objects.get().reason == Reason.DUPLICATE


def test_second_ticket_within_a_week_is_throttled_and_logged(payroll: Any, pat: Any) -> None:
    past_invitation(pat, payroll, timezone.now() - timedelta(days=3))
    ticket = resolve(make_ticket(payroll, pat))
    assert not Invitation.objects.filter(ticket=ticket).exists()
    row = SuppressedInvitation.objects.get(ticket=ticket)
    assert (row.reason, row.service, row.organisation) == (Reason.THROTTLED, payroll, pat.organisation)
    assert "7 days" in row.detail


def test_fourth_ticket_within_30_days_is_throttled_and_logged(payroll: Any, pat: Any) -> None:
    for days in (9, 18, 27):
        past_invitation(pat, payroll, timezone.now() - timedelta(days=days))
    ticket = resolve(make_ticket(payroll, pat))
    assert "30 days" in SuppressedInvitation.objects.get(ticket=ticket).detail


def test_ticket_within_24_hours_of_a_relationship_survey_is_throttled(payroll: Any, pat: Any) -> None:
    past_invitation(pat, payroll, timezone.now() - timedelta(hours=5), kind=SurveyKind.RELATIONSHIP)
    ticket = resolve(make_ticket(payroll, pat))
    assert "24 hours" in SuppressedInvitation.objects.get(ticket=ticket).detail


def test_throttle_counts_invitations_of_every_service(payroll: Any, pat: Any, sam: Any) -> None:
    other = make_service("Laptops", sam)
    past_invitation(pat, other, timezone.now() - timedelta(days=2))
    ticket = resolve(make_ticket(payroll, pat))
    assert SuppressedInvitation.objects.get(ticket=ticket).reason == Reason.THROTTLED


def test_opted_out_person_is_suppressed_as_opted_out(payroll: Any, org_a: Organisation) -> None:
    person = make_person(org_a, "quiet@acme.example", survey_opt_out=True)
    ticket = resolve(make_ticket(payroll, person))
    assert SuppressedInvitation.objects.get(ticket=ticket).reason == Reason.OPTED_OUT


def test_service_sampling_everyone_out_logs_sampled_out(payroll: Any, pat: Any, sam: Any) -> None:
    throttle_policy_set(service=payroll, by=sam, sample_rate=0)
    ticket = resolve(make_ticket(payroll, pat))
    assert SuppressedInvitation.objects.get(ticket=ticket).reason == Reason.SAMPLED_OUT


def test_a_service_can_allow_a_second_invitation_in_a_week(payroll: Any, pat: Any, sam: Any) -> None:
    throttle_policy_set(service=payroll, by=sam, transactional_short_limit=2)
    past_invitation(pat, payroll, timezone.now() - timedelta(days=3))
    ticket = resolve(make_ticket(payroll, pat))
    assert Invitation.objects.filter(ticket=ticket).exists()


def test_api_trigger_invites_then_reports_the_throttle(payroll: Any, pat: Any, alex: Any) -> None:
    client = api_client_for(alex)
    body = {"person": pat.public_id, "service": payroll.public_id}
    first = client.post("/api/feedback/invitations", body, content_type="application/json")
    second = client.post("/api/feedback/invitations", body, content_type="application/json")
    assert first.status_code == 201 and first.json()["trigger"] == "api"
    assert second.status_code == 200 and second.json()["suppressed"] == "throttled"
    listed = client.get(f"/api/feedback/suppressed-invitations?service={payroll.public_id}").json()
    assert [row["reason"] for row in listed["items"]] == ["throttled"]


def test_api_trigger_refuses_an_unknown_person(payroll: Any, alex: Any) -> None:
    response = api_client_for(alex).post(
        "/api/feedback/invitations", {"person": "nobody", "service": payroll.public_id}, content_type="application/json"
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_api_trigger_is_for_staff(payroll: Any, pat: Any, carol: Any) -> None:
    response = api_client_for(carol).post(
        "/api/feedback/invitations",
        {"person": pat.public_id, "service": payroll.public_id},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_relationship_schedule_invites_customer_and_sponsor_roles_once(payroll: Any, org_a: Organisation) -> None:
    offering = Offering.objects.create(service=payroll, name="Payroll for SMEs", slug="sme")
    relationship = Relationship.objects.create(organisation=org_a, offering=offering, started_on="2025-01-01")
    roles = {"customer": "cus@acme.example", "sponsor": "spo@acme.example", "user": "use@acme.example"}
    for role, email in roles.items():
        RelationshipRole.objects.create(relationship=relationship, person=make_person(org_a, email), role=role)
    assert relationship_invitations_send() == 2
    assert relationship_invitations_send() == 0
    invited = set(Invitation.objects.values_list("person__email", flat=True))
    assert invited == {"cus@acme.example", "spo@acme.example"}
    assert set(Invitation.objects.values_list("kind", "trigger")) == {("relationship", "relationship_schedule")}
    assert not SuppressedInvitation.objects.exists()

"""The working page of an incident, through its forms: updates (and templates), plans, the recovery
plan and ETAs, resolution, severity and roles; a refusal is shown next to its field."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from serviceloop.core import clock
from serviceloop.incidents.models import (
    AffectedService,
    AudiencePlan,
    EtaChange,
    Incident,
    IncidentUpdate,
    RecoveryStep,
)
from serviceloop.incidents.services import incident_declare, recovery_step_add

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def incident(alex: Any, sam: Any, service: Any, relationship_a: Any, travel: Any) -> Incident:
    travel.to(clock.now().replace(second=0, microsecond=0))
    return incident_declare(
        by=alex,
        title="Mail is down",
        severity="sev1",
        services={service: "major_outage"},
        owner=sam,
        comms_lead=alex,
        visibility="customers",
    )


def _url(incident: Incident, tail: str = "") -> str:
    return f"/incidents/{incident.public_id}/{tail}"


def test_the_page_shows_the_header_the_clocks_and_the_composer(alex: Any, incident: Incident, org_a: Any) -> None:
    response = _client(alex).get(_url(incident))
    body = response.content.decode()
    assert response.status_code == 200
    assert "MI-1 Mail is down" in body and "Investigating" in body and "SEV1" in body
    assert "Communication clocks" in body and "Internal (staff)" in body and "Affected customers" in body
    assert "min left" in body and org_a.name in body
    assert 'name="audiences"' in body and "Post update" in body


def test_an_overdue_clock_is_red_and_says_so_in_words(alex: Any, incident: Incident, travel: Any) -> None:
    due = AudiencePlan.objects.filter(incident=incident).order_by("next_due_at").first()
    assert due is not None and due.next_due_at is not None
    travel.to(due.next_due_at + timedelta(minutes=4))
    body = _client(alex).get(_url(incident)).content.decode()
    assert 'class="clock bad"' in body and "Update overdue" in body and "Overdue by 4 min" in body


def test_a_template_fills_the_composer_without_a_script(alex: Any, incident: Incident) -> None:
    response = _client(alex).get(_url(incident) + "?template=identified")
    form = response.context["update_form"]
    assert form["status"].value() == "identified"
    assert "identified the cause" in form["actions"].value()
    assert 'href="?template=monitoring#composer"' in response.content.decode()
    resolve = _client(alex).get(_url(incident) + "?template=resolved").context["resolve_form"]
    assert "The incident is resolved" in resolve["body"].value()


def test_posting_an_update_restarts_the_clocks_and_shows_it_on_the_timeline(
    alex: Any, incident: Incident, service: Any, travel: Any
) -> None:
    travel.by(minutes=10)
    response = _client(alex).post(
        _url(incident, "updates/"),
        {
            "audiences": ["internal", "customers"],
            "status": "identified",
            "affected": "Mail",
            "impacted": "Everyone at Acme",
            "actions": "Replacing the relay",
            f"status_{service.public_id}": "partial_outage",
            "deliver_notifications": "on",
        },
    )
    assert response.status_code == 302 and response["Location"] == _url(incident) + "#timeline"
    assert any("Update posted to" in m for m in _messages(response))
    update = IncidentUpdate.objects.get(incident=incident)
    assert update.status == "identified" and set(update.audiences) == {"internal", "customers"}
    assert AffectedService.objects.get(incident=incident).component_status == "partial_outage"
    body = _client(alex).get(_url(incident)).content.decode()
    assert "Replacing the relay" in body and "Identified" in body


def test_an_update_without_an_audience_or_its_parts_is_refused_next_to_the_fields(
    alex: Any, incident: Incident
) -> None:
    response = _client(alex).post(_url(incident, "updates/"), {"status": "identified", "affected": "Mail"})
    assert response.status_code == 422
    assert response.context["update_form"].errors["audiences"]
    response = _client(alex).post(
        _url(incident, "updates/"), {"audiences": ["internal"], "status": "identified", "affected": "Mail"}
    )
    assert response.status_code == 422
    assert "a body, or all three" in response.context["update_form"].errors["body"][0]
    assert "a body, or all three" in response.content.decode()
    assert not IncidentUpdate.objects.exists()


def test_the_plan_settings_of_an_audience_are_saved(alex: Any, sam: Any, incident: Incident) -> None:
    response = _client(alex).post(
        _url(incident, "plans/customers/"),
        {
            "plan-customers-cadence_minutes": "45",
            "plan-customers-channels": ["email"],
            "plan-customers-owner": sam.pk,
            "plan-customers-is_active": "on",
        },
    )
    assert response.status_code == 302
    plan = AudiencePlan.objects.get(incident=incident, audience="customers")
    assert plan.cadence_minutes == 45 and plan.owner == sam and plan.channels == ["email"]
    refused = _client(alex).post(_url(incident, "plans/customers/"), {"plan-customers-cadence_minutes": "2"})
    assert refused.status_code == 422
    assert "Ensure this value is greater than or equal to 5." in refused.content.decode()


def test_recovery_steps_are_added_edited_and_published_with_their_eta_history(
    alex: Any, sam: Any, incident: Incident, travel: Any
) -> None:
    eta = (clock.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = _client(alex).post(
        _url(incident, "steps/"),
        {
            "new-step-title": "Fail over to the second relay",
            "new-step-owner": sam.pk,
            "new-step-eta": eta,
            "new-step-eta_confidence": "medium",
            "new-step-customer_facing": "on",
        },
    )
    assert response.status_code == 302 and response["Location"].endswith("#recovery")
    step = RecoveryStep.objects.get(incident=incident)
    later = (clock.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    prefix = f"step-{step.public_id}"
    response = _client(alex).post(
        _url(incident, f"steps/{step.public_id}/"),
        {
            f"{prefix}-title": step.title,
            f"{prefix}-status": "in_progress",
            f"{prefix}-owner": sam.pk,
            f"{prefix}-eta": later,
            f"{prefix}-eta_confidence": "low",
            f"{prefix}-customer_facing": "on",
        },
    )
    assert response.status_code == 302
    step.refresh_from_db()
    assert step.status == "in_progress" and step.eta_confidence == "low"
    assert EtaChange.objects.filter(step=step).count() == 2
    body = _client(alex).get(_url(incident)).content.decode()
    assert "ETAs given:" in body and "Publish the plan" in body
    response = _client(alex).post(_url(incident, "publish-plan/"))
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.plan_published_at is not None


def test_a_step_needs_a_title_and_an_eta_needs_a_confidence(alex: Any, incident: Incident) -> None:
    refused = _client(alex).post(_url(incident, "steps/"), {"new-step-title": ""})
    assert refused.status_code == 422 and "This field is required." in refused.content.decode()
    eta = (clock.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    refused = _client(alex).post(_url(incident, "eta/"), {"eta": eta})
    assert refused.status_code == 422
    assert "Say how sure the team is of the ETA." in refused.content.decode()
    accepted = _client(alex).post(_url(incident, "eta/"), {"eta": eta, "confidence": "high"})
    assert accepted.status_code == 302
    incident.refresh_from_db()
    assert incident.eta is not None and incident.eta_confidence == "high"
    assert "ETA history (1)" in _client(alex).get(_url(incident)).content.decode()


def test_publishing_without_a_customer_facing_step_says_why(alex: Any, incident: Incident) -> None:
    recovery_step_add(incident=incident, by=alex, title="Internal only")
    response = _client(alex).post(_url(incident, "publish-plan/"))
    assert response.status_code == 302
    assert _messages(response) and "customer-facing" in _messages(response)[0]


def test_resolving_sends_the_notice_and_links_the_review(alex: Any, incident: Incident) -> None:
    refused = _client(alex).post(_url(incident, "resolve/"), {"body": ""})
    assert refused.status_code == 422 and "This field is required." in refused.content.decode()
    response = _client(alex).post(_url(incident, "resolve/"), {"body": "Mail flows again."})
    assert response.status_code == 302
    assert any("is resolved" in m for m in _messages(response))
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    body = _client(alex).get(_url(incident)).content.decode()
    assert f'href="/incidents/{incident.public_id}/review/"' in body
    assert "Post an update" not in body and "Resolve MI-1" not in body


def test_severity_visibility_and_roles_are_changed(alex: Any, sam: Any, incident: Incident) -> None:
    response = _client(alex).post(
        _url(incident, "change/"),
        {"title": "Mail is slow", "severity": "sev2", "visibility": "public", "owner": alex.pk, "comms_lead": sam.pk},
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert (incident.title, incident.severity, incident.visibility) == ("Mail is slow", "sev2", "public")
    assert incident.owner == alex and incident.comms_lead == sam
    refused = _client(alex).post(_url(incident, "change/"), {"title": "", "severity": "sev9", "visibility": "public"})
    assert refused.status_code == 422 and "Select a valid choice." in refused.content.decode()


def test_an_unknown_incident_or_step_is_not_found(alex: Any, incident: Incident) -> None:
    assert _client(alex).get("/incidents/nosuchthing/").status_code == 404
    assert _client(alex).post(_url(incident, "steps/nosuchstep/"), {}).status_code == 404
    assert _client(alex).post(_url(incident, "plans/everyone/"), {}).status_code == 302

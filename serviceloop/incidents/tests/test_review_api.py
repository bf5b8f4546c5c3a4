"""The reviews API and pages, end to end: edit, act, complete, publish, measures, timeline."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from serviceloop.accounts.models import User
from serviceloop.accounts.testing import api_client_for
from serviceloop.core.models import Event
from serviceloop.incidents import events as names
from serviceloop.incidents.models import Review, ReviewAction
from serviceloop.incidents.tests.factories_review import make_incident, make_plan, make_review, post_update

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 12, 1, 10, tzinfo=UTC)


def _review(owner: User) -> Review:
    incident = make_incident(declared_at=T0, owner=owner, status="resolved", resolved_at=T0 + timedelta(hours=1))
    make_plan(incident, "customers", 30)
    post_update(incident, T0 + timedelta(minutes=10), "customers", "public")
    post_update(incident, T0 + timedelta(minutes=40), "customers")
    return make_review(incident, due_at=T0 + timedelta(days=3), owner=owner)


def _json(client: Client, method: str, url: str, body: Any = None) -> Any:
    return client.generic(
        method, url, data=json.dumps(body) if body is not None else "", content_type="application/json"
    )


def test_a_review_is_worked_through_the_api(sam: User, alex: User) -> None:
    review = _review(sam)
    agent = api_client_for(alex)
    base = f"/api/incidents/reviews/{review.public_id}"

    refused = _json(agent, "PATCH", base, {"contributing_factors": ["Human error"]})
    assert refused.status_code == 422 and refused.json()["field"] == "contributing_factors"
    assert "blameless" in refused.json()["message"]

    changed = _json(
        agent,
        "PATCH",
        base,
        {
            "root_cause_category": "configuration",
            "root_cause": "A route was removed",
            "contributing_factors": ["No review of routing changes", "Alert threshold too high"],
            "customer_summary": "A configuration change delayed mail for an hour.",
            "owner": alex.public_id,
        },
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["owner"]["email"] == alex.email
    assert changed.json()["contributing_factors"] == ["No review of routing changes", "Alert threshold too high"]

    early = _json(agent, "POST", f"{base}/complete", {})
    assert early.status_code == 422 and early.json()["field"] == "no_actions"
    added = _json(
        agent,
        "POST",
        f"{base}/actions",
        {"title": "Review routing changes", "kind": "prevent", "due_on": "2026-12-10", "owner": alex.public_id},
    )
    assert added.status_code == 201, added.content
    action_id = added.json()["public_id"]
    assert (
        _json(agent, "PATCH", f"/api/incidents/actions/{action_id}", {"due_on": "2026-12-12"}).json()["due_on"]
        == "2026-12-12"
    )

    completed = _json(agent, "POST", f"{base}/complete", {})
    assert completed.status_code == 200 and completed.json()["status"] == "completed"
    assert _json(agent, "POST", f"{base}/publish").status_code == 403  # agents do not publish
    published = _json(api_client_for(sam), "POST", f"{base}/publish")
    assert published.status_code == 200 and published.json()["published_at"]

    closed = _json(agent, "POST", f"/api/incidents/actions/{action_id}/close", {"outcome": "done"})
    assert closed.status_code == 200 and closed.json()["status"] == "done"
    event = Event.objects.get(name=names.REVIEW_ACTION_CLOSED)
    assert event.data["share_closed"] == 1.0
    again = _json(agent, "POST", f"/api/incidents/actions/{action_id}/close", {"outcome": "done"})
    assert again.status_code == 409

    listed = agent.get("/api/incidents/reviews?state=completed").json()
    assert [row["public_id"] for row in listed["items"]] == [review.public_id]
    assert listed["items"][0]["actions_closed_share"] == 1.0


def test_measures_and_timeline_of_an_incident(sam: User, alex: User) -> None:
    review = _review(sam)
    client = api_client_for(alex)
    incident = review.incident
    measures = client.get(f"/api/incidents/{incident.public_id}/measures").json()
    assert measures["time_to_first_update_minutes"] == 10
    customers = measures["cadence"][0]
    assert (customers["audience"], customers["intervals"], customers["compliance"]) == ("customers", [10, 30, 20], 1.0)
    assert measures["communication_score"] == 1.0 and measures["plan_score"] == 0
    assert measures["actions_closed_share"] == 0.0
    timeline = client.get(f"/api/incidents/{incident.public_id}/timeline").json()["items"]
    kinds = [entry["kind"] for entry in timeline]
    assert kinds == ["status", "update", "update", "status"]
    assert timeline[1]["since_impact_minutes"] == 10


def test_customers_and_strangers_are_refused(carol: User, sam: User) -> None:
    review = _review(sam)
    client = api_client_for(carol)
    assert client.get("/api/incidents/reviews").status_code == 403
    assert client.get(f"/api/incidents/reviews/{review.public_id}").status_code == 403
    assert client.get(f"/api/incidents/{review.incident.public_id}/measures").status_code == 403
    assert api_client_for(sam).get("/api/incidents/reviews/nope").status_code == 404
    page = Client()
    page.force_login(carol)
    assert page.get(reverse("incidents:review", kwargs={"public_id": review.incident.public_id})).status_code == 403


def test_the_review_page_shows_and_takes_the_work(sam: User) -> None:
    review = _review(sam)
    incident = review.incident
    client = Client()
    client.force_login(sam)
    url = reverse("incidents:review", kwargs={"public_id": incident.public_id})
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Timeline (UTC)" in body and "Time to first update" in body and 'id="add-action"' in body

    refused = client.post(
        reverse("incidents:review_edit", kwargs={"public_id": incident.public_id}),
        {"root_cause_category": "software", "contributing_factors": "human error\nNo canary"},
    )
    assert refused.status_code == 422 and "blameless" in refused.content.decode()
    saved = client.post(
        reverse("incidents:review_edit", kwargs={"public_id": incident.public_id}),
        {
            "root_cause_category": "software",
            "contributing_factors": "No canary\n\nNo alert",
            "customer_summary": "Late mail.",
        },
    )
    assert saved.status_code == 302
    review.refresh_from_db()
    assert review.contributing_factors == ["No canary", "No alert"]
    client.post(
        reverse("incidents:review_action_add", kwargs={"public_id": incident.public_id}),
        {"title": "Canary releases", "kind": "prevent", "due_on": "2026-12-20"},
    )
    action = ReviewAction.objects.get(review=review)
    assert action.due_on == date(2026, 12, 20)
    client.post(reverse("incidents:review_complete", kwargs={"public_id": incident.public_id}), {})
    client.post(reverse("incidents:review_publish", kwargs={"public_id": incident.public_id}))
    review.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED

    index = client.get(reverse("incidents:reviews"))
    assert index.status_code == 200
    assert incident.reference in index.content.decode() and "Over time" in index.content.decode()


def test_the_review_page_of_an_incident_without_review_offers_to_open_one(sam: User) -> None:
    incident = make_incident(declared_at=T0, severity="sev3", status="resolved", resolved_at=T0 + timedelta(hours=1))
    client = Client()
    client.force_login(sam)
    page = client.get(reverse("incidents:review", kwargs={"public_id": incident.public_id}))
    assert "Open a review" in page.content.decode()
    client.post(reverse("incidents:review_open", kwargs={"public_id": incident.public_id}))
    assert Review.objects.filter(incident=incident).exists()

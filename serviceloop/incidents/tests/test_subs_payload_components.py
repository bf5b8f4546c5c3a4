"""A webhook's `incident_updates[].affected_components` names public components only, by component id."""

from __future__ import annotations

import pytest

from serviceloop.incidents.tests.factories_subs import make_component, make_incident, make_webhook, post_update
from serviceloop.incidents.webhook_payloads import incident_payload

pytestmark = pytest.mark.django_db


def test_an_update_body_leaves_out_non_public_components() -> None:
    public = make_component("Email")
    hidden = make_component("Billing back office", is_public=False)
    incident = make_incident(public.service, hidden.service)
    post_update(
        incident,
        affected_components=[
            {
                "code": public.service.public_id,
                "name": "Email",
                "old_status": "operational",
                "new_status": "major_outage",
            },
            {
                "code": hidden.service.public_id,
                "name": "Billing back office",
                "old_status": "operational",
                "new_status": "major_outage",
            },
        ],
    )
    body = incident_payload(incident, make_webhook("https://hooks.example/x"))
    [update] = body["incident"]["incident_updates"]
    assert update["affected_components"] == [
        {"code": public.public_id, "name": "Email", "old_status": "operational", "new_status": "major_outage"}
    ]
    assert "Billing back office" not in str(body)


def test_a_webhook_names_the_page_as_the_status_json_does(settings: object) -> None:
    from django.test import Client

    settings.SERVICELOOP_STATUS_PAGE_NAME = "Acme status"  # type: ignore[attr-defined]
    public = make_component("Email")
    incident = make_incident(public.service)
    body = incident_payload(incident, make_webhook("https://hooks.example/x"))
    summary = Client().get("/status/api/v2/summary.json").json()
    assert body["page"]["id"] == summary["page"]["id"] and body["page"]["name"] == "Acme status"
    assert body["incident"]["page_id"] == summary["page"]["id"]

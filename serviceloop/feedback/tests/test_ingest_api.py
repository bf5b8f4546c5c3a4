"""The ingest API: one response or an NDJSON batch, idempotent by (source, external_id)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from serviceloop.accounts.testing import api_client_for
from serviceloop.core.testing import subscribed
from serviceloop.feedback.models import Channel, Response
from serviceloop.feedback.sentiment import ANALYSER_VERSION
from serviceloop.feedback.tests.factories_channels import make_offering, make_service, ndjson
from serviceloop.relationships.models import Person

BATCH = "/api/feedback/ingest/batch"
ONE = "/api/feedback/ingest"


@pytest.fixture
def service(sam: Any) -> Any:
    return make_service("Cloud Desktop", manager=sam)


def _line(external_id: str, **fields: Any) -> dict[str, Any]:
    return {"source": "kiosk", "external_id": external_id, "service": "cloud-desktop", "happiness": 8, **fields}


def _post_batch(client: Client, body: bytes) -> Any:
    return client.post(BATCH, data=body, content_type="application/x-ndjson")


def _rows() -> list[tuple[Any, ...]]:
    return list(
        Response.objects.order_by("source", "external_id").values_list(
            "source", "external_id", "happiness", "comment", "sentiment_label", "updated_at", "public_id"
        )
    )


def test_batch_stores_good_lines_once_and_reports_every_bad_line(alex: Any, service: Any) -> None:
    body = ndjson(
        [
            _line("a1", comment="Quick and friendly, thanks"),
            b"{not json",
            _line("a2", csat=4, happiness=None),
            _line("a1", happiness=2),  # a repeat inside the batch
            _line("a3", happiness=11),
            _line("a4", service="no-such-service"),
            {"source": "kiosk", "external_id": "a5", "service": "cloud-desktop"},
        ]
    )
    response = _post_batch(api_client_for(alex), body)
    assert response.status_code == 200, response.content
    report = response.json()
    assert (report["received"], report["created"], report["duplicates"], report["rejected"]) == (7, 2, 1, 4)
    assert [error["line"] for error in report["errors"]] == [2, 5, 6, 7]
    assert report["errors"][0]["reason"] == "not a JSON object"
    assert "happiness" in report["errors"][1]["reason"]
    assert "no-such-service" in report["errors"][2]["reason"]
    assert "needs a score" in report["errors"][3]["reason"]
    stored = {r.external_id: r for r in Response.objects.all()}
    assert set(stored) == {"a1", "a2"}
    assert stored["a1"].happiness == 8  # the first of the repeated lines, not the repeat
    assert stored["a1"].channel == Channel.INGEST
    assert stored["a2"].csat == 4


def test_same_batch_sent_twice_changes_nothing(alex: Any, service: Any) -> None:
    client = api_client_for(alex)
    body = ndjson([_line(f"r{n}", comment="the outage lasted hours") for n in range(20)] + [b"[]"])
    first = _post_batch(client, body).json()
    before = _rows()
    second = _post_batch(client, body).json()
    assert first["created"] == 20
    assert (second["created"], second["duplicates"], second["rejected"]) == (0, 20, 1)
    assert _rows() == before


def test_batch_scores_comments_in_bulk_with_the_analyser_version(alex: Any, service: Any) -> None:
    body = ndjson([_line("s1", comment="The outage lasted 4 hours and nobody told us anything"), _line("s2")])
    _post_batch(api_client_for(alex), body)
    negative = Response.objects.get(external_id="s1")
    assert negative.sentiment_label == "negative"
    assert negative.sentiment_version == ANALYSER_VERSION
    assert Response.objects.get(external_id="s2").sentiment_label is None


def test_batch_links_people_offerings_and_organisations(alex: Any, service: Any, org_a: Any) -> None:
    offering = make_offering(service, "Standard")
    person = Person.objects.create(organisation=org_a, email="Dana@acme.example", name="Dana")
    body = ndjson([_line("p1", offering="standard", person_email="dana@ACME.example", lost_time="1to2h")])
    report = _post_batch(api_client_for(alex), body).json()
    assert report["created"] == 1, report
    row = Response.objects.get(external_id="p1")
    assert (row.person, row.organisation, row.offering) == (person, org_a, offering)
    assert row.lost_time_minutes == 90


def test_batch_records_one_responses_ingested_event(
    alex: Any, service: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with subscribed("responses.ingested") as received, django_capture_on_commit_callbacks(execute=True):
        _post_batch(api_client_for(alex), ndjson([_line(f"g{n}") for n in range(3)]))
    assert len(received) == 1
    assert sorted(received[0].data["response_ids"]) == sorted(Response.objects.values_list("pk", flat=True))
    assert received[0].actor_id == alex.pk


def test_batch_of_more_than_ten_thousand_lines_is_refused(alex: Any, service: Any) -> None:
    body = b'{"x": 1}\n' * 10_001
    response = _post_batch(api_client_for(alex), body)
    assert response.status_code == 413
    assert "10,000" in response.json()["message"]
    assert not Response.objects.exists()


def test_batch_must_be_sent_as_ndjson(alex: Any, service: Any) -> None:
    response = api_client_for(alex).post(BATCH, data=ndjson([_line("x")]), content_type="text/plain")
    assert response.status_code == 415
    assert "application/x-ndjson" in response.json()["message"]


def test_customer_may_not_ingest(carol: Any, service: Any) -> None:
    client = api_client_for(carol)
    assert _post_batch(client, ndjson([_line("c1")])).status_code == 403
    assert client.post(ONE, data=_line("c2"), content_type="application/json").status_code == 403
    assert not Response.objects.exists()


def test_one_response_is_created_then_recognised_as_a_repeat(alex: Any, service: Any) -> None:
    client = api_client_for(alex)
    first = client.post(ONE, data=_line("o1", comment="Great help"), content_type="application/json")
    again = client.post(ONE, data=_line("o1", happiness=0), content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["public_id"] == again.json()["public_id"]
    assert again.json()["created"] is False
    assert Response.objects.get().happiness == 8


def test_one_response_with_an_unknown_service_is_refused_with_the_field(alex: Any, service: Any) -> None:
    response = api_client_for(alex).post(ONE, data=_line("u1", service="nope"), content_type="application/json")
    assert response.status_code == 422
    assert response.json()["field"] == "service"
    assert "nope" in response.json()["message"]


def test_one_response_without_a_time_zone_is_refused(alex: Any, service: Any) -> None:
    response = api_client_for(alex).post(
        ONE, data=_line("t1", responded_at="2026-11-25T09:00:00"), content_type="application/json"
    )
    assert response.status_code == 422
    assert "time zone" in response.json()["message"]


def test_personal_data_in_comments_is_masked_on_arrival_when_asked(alex: Any, service: Any, settings: Any) -> None:
    settings.SERVICELOOP_MASK_PERSONAL_DATA = True
    body = ndjson([_line("m1", comment="Call me on +44 20 7946 0958 or mail jo@acme.example")])
    _post_batch(api_client_for(alex), body)
    assert Response.objects.get().comment == "Call me on [phone] or mail [email]"


def test_a_single_response_records_its_event_with_it_and_a_repeat_records_none(alex: Any, service: Any) -> None:
    from serviceloop.core.models import Event

    client = api_client_for(alex)
    for _ in range(2):
        answer = client.post(ONE, _line("single-1"), content_type="application/json")
        assert answer.status_code in (200, 201), answer.content
    response = Response.objects.get(external_id="single-1")
    events = Event.objects.filter(name="response.recorded")
    assert [(e.data["response_id"], e.actor_id) for e in events] == [(response.pk, alex.pk)]

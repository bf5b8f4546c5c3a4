"""response_record: one response from any channel, validated, idempotent by its external id, announced."""

from __future__ import annotations

from typing import Any

import pytest

from serviceloop.core.errors import InvalidInput
from serviceloop.core.testing import subscribed
from serviceloop.feedback.models import Response
from serviceloop.feedback.services.responses import response_record
from serviceloop.feedback.tests.survey_factories import make_service


@pytest.fixture
def payroll(sam: Any) -> Any:
    return make_service("Payroll", sam)


@pytest.mark.parametrize(
    ("field", "value"), [("csat", 0), ("csat", 6), ("happiness", 11), ("nps", -1), ("ces", 8), ("ces", 0)]
)
def test_scores_out_of_range_are_refused_naming_the_field(payroll: Any, field: str, value: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        response_record(service=payroll, **{field: value})
    assert refused.value.field == field
    assert not Response.objects.exists()


def test_unknown_driver_is_refused(payroll: Any) -> None:
    with pytest.raises(InvalidInput, match="Unknown driver 'luck'"):
        response_record(service=payroll, happiness=9, drivers=["speed", "luck"])


def test_lost_time_is_stored_with_its_midpoint(payroll: Any) -> None:
    response = response_record(service=payroll, happiness=5, lost_time_bucket="2to4h")
    assert (response.lost_time_bucket, response.lost_time_minutes) == ("2to4h", 180)


def test_the_same_external_id_from_the_same_source_is_stored_once(payroll: Any) -> None:
    first = response_record(service=payroll, channel="ingest", source="kiosk", external_id="42", csat=5)
    again = response_record(service=payroll, channel="ingest", source="kiosk", external_id="42", csat=1)
    other = response_record(service=payroll, channel="ingest", source="app", external_id="42", csat=1)
    assert first.pk == again.pk != other.pk
    assert Response.objects.get(pk=first.pk).csat == 5


def test_response_recorded_is_delivered_after_commit(payroll: Any, django_capture_on_commit_callbacks: Any) -> None:
    with subscribed("response.recorded") as seen:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = response_record(service=payroll, happiness=9)
        assert seen == []
        for callback in callbacks:
            callback()
    assert [event.data["response_id"] for event in seen] == [response.pk]


def test_comment_is_scored_for_sentiment(payroll: Any) -> None:
    pytest.importorskip("serviceloop.feedback.sentiment")
    response = response_record(service=payroll, happiness=2, comment="The outage lasted hours and nobody told us.")
    assert response.sentiment_label == "negative"
    assert response.sentiment_version

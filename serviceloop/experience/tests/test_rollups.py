"""Rollups kept current by the events, read by scope and grouping, rebuilt by the command."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from serviceloop.accounts.models import User
from serviceloop.core.events import event_dispatch
from serviceloop.core.models import Event
from serviceloop.experience.models import RollupCount
from serviceloop.experience.rollups import tally_from_rollups
from serviceloop.experience.tally import Scope
from serviceloop.experience.tests.oracle import expected_rows
from serviceloop.feedback.models import Response
from serviceloop.feedback.services.responses import response_record
from serviceloop.feedback.services.sentiment_labels import sentiment_correct
from serviceloop.feedback.tests.factories_channels import make_service

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def deliver() -> None:
    for event_id in Event.objects.filter(completed_at__isnull=True).values_list("pk", flat=True):
        event_dispatch(event_id=event_id)


def table() -> dict[Any, int]:
    return {
        (r.service_id, r.day, r.offering_id, r.organisation_id, r.channel, r.ticket_type, r.measure, r.value): r.count
        for r in RollupCount.objects.all()
    }


def test_a_corrected_sentiment_moves_the_count_to_the_new_label(sam: User) -> None:
    service = make_service("Payroll", manager=sam)
    response = response_record(
        service=service, happiness=2, comment="Terrible, slow and broken again", responded_at=MONDAY
    )
    deliver()
    assert tally_from_rollups(Scope(), ())[()].of("sentiment") == {"negative": 1}
    sentiment_correct(by=sam, label="positive", response=Response.objects.get(pk=response.pk))
    deliver()
    assert tally_from_rollups(Scope(), ())[()].of("sentiment") == {"positive": 1}
    assert table() == dict(expected_rows())

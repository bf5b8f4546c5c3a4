"""Two evaluations of one XLA at once (the task and "Evaluate now"): one change of state is recorded once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from serviceloop.accounts.models import User
from serviceloop.accounts.testing import at_once
from serviceloop.catalogue.models import Service
from serviceloop.core.models import Event
from serviceloop.experience.models import Xla, XlaEvaluation
from serviceloop.experience.tests.xla_factories import answers, at, refresh
from serviceloop.experience.xlas import xla_create, xla_evaluate


@pytest.mark.django_db(transaction=True)
def test_two_evaluations_at_once_record_one_change(sam: User, service: Service, settings: Any, travel: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers itself; the row lock is what PostgreSQL needs")
    settings.SERVICELOOP_MIN_SAMPLE = 5
    travel.to(at("2026-06-30 12:00"))
    xla = xla_create(by=sam, name="Mail happiness", service=service, metric="happiness", target=Decimal("50"))
    assert xla.state == "not_enough_data"
    answers(service, "2026-06-29 10:00", 10, 10, 10, 10, 10)
    refresh()
    results = at_once(*[lambda: xla_evaluate(Xla.objects.get(pk=xla.pk)) for _ in range(4)])
    assert not [result for result in results if isinstance(result, Exception)], results
    assert sum(result.change is not None for result in results) == 1
    assert list(XlaEvaluation.objects.order_by("pk").values_list("previous_state", "state")) == [
        ("", "not_enough_data"),
        ("not_enough_data", "met"),
    ]
    assert Event.objects.filter(name="xla.state_changed").count() == 2

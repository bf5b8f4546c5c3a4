"""Two detection runs raising the same cause at once: one alert, one mail (PostgreSQL's unique index decides)."""

from __future__ import annotations

import pytest
from django.db import connection

from serviceloop.accounts.models import User
from serviceloop.accounts.testing import at_once
from serviceloop.core.models import OutgoingMail
from serviceloop.experience.alerts import alert_raise
from serviceloop.experience.models import Alert
from serviceloop.feedback.tests.factories_channels import make_service

pytestmark = pytest.mark.django_db(transaction=True)


def test_racing_raises_of_one_cause_open_one_alert_and_mail_once(sam: User) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL's concurrent inserts")
    service = make_service("Payroll", manager=sam)

    def raise_it() -> int:
        return alert_raise(service=service, kind="drop", cause="drop:payroll:happiness", title="Fell", figures={}).pk

    for _round in range(3):
        Alert.objects.all().delete()
        OutgoingMail.objects.all().delete()
        results = at_once(raise_it, raise_it, raise_it)
        assert not [r for r in results if isinstance(r, Exception)], results
        assert len(set(results)) == 1
        assert Alert.objects.count() == 1 and OutgoingMail.objects.count() == 1

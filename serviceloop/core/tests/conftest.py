"""Fixtures of core's own tests."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def only_this_tests_events(alex: Any, sam: Any, carol: Any, bob: Any) -> None:
    """The named people exist and the event log holds none of their audit events (user.created), so a
    test that reads the log counts exactly what it wrote itself."""
    from serviceloop.core.models import Event

    Event.objects.all().delete()

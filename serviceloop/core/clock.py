"""The one place that reads the time, so tests can move it with the time-travel fixture."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()

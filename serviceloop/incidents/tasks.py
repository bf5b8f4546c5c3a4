"""Periodic incidents work: thin, idempotent wrappers around services."""

from __future__ import annotations

from celery import shared_task

from serviceloop.core import clock
from serviceloop.incidents.review_reminders import review_reminders_send


@shared_task
def review_reminders() -> int:
    """Mail review owners (due within a day, overdue) and action owners (overdue), once a day each."""
    return review_reminders_send(now=clock.now())

"""Periodic incidents work: thin, idempotent wrappers around services."""

from __future__ import annotations

from celery import shared_task

from serviceloop.incidents.maintenance import maintenance_tick as maintenance_tick_service


@shared_task
def maintenance_tick() -> dict[str, int]:
    """Maintenance notices that are due, and windows to open and close at their planned edges (each once)."""
    return maintenance_tick_service()

"""References read aloud on a bridge call: MI-12 for an incident, MW-3 for a maintenance window."""

from __future__ import annotations

from django.db import transaction

from serviceloop.incidents.models import Incident, IncidentSequence

PREFIX = {Incident.Kind.INCIDENT: "MI", Incident.Kind.MAINTENANCE: "MW"}


def next_reference(kind: str) -> str:
    """The next reference of the kind's series, taken under a row lock (call inside a transaction)."""
    prefix = PREFIX[Incident.Kind(kind)]
    with transaction.atomic():
        IncidentSequence.objects.get_or_create(name=prefix)
        sequence = IncidentSequence.objects.select_for_update().get(name=prefix)
        sequence.value += 1
        sequence.save(update_fields=["value"])
    return f"{prefix}-{sequence.value}"

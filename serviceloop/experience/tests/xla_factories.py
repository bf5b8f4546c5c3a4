"""Rows for the XLA tests: happiness answers on given days, resolved tickets with SLA clocks met or missed.

Rows are written directly (fast) and the rollups rebuilt after, so the figures are the same whichever
source `experience.api.compute` reads (the raw recount or the rollups).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from serviceloop.catalogue.models import Service
from serviceloop.desk.models import Ticket
from serviceloop.experience.rollups import rollups_rebuild
from serviceloop.experience.tests.factories import at, make_person, make_ticket, respond
from serviceloop.relationships.models import Person


def answers(service: Service, when: str, *scores: int, **fields: Any) -> None:
    """One happiness answer per score, a minute apart, from `when` (UTC, "2026-06-02 10:00")."""
    for index, score in enumerate(scores):
        moment = (at(when) + timedelta(minutes=index)).strftime("%Y-%m-%d %H:%M")
        respond(service, moment, happiness=score, **fields)


def resolved(service: Service, requester: Person, when: str, *, met: bool = True, **fields: Any) -> Ticket:
    """A ticket resolved at `when` whose two SLA clocks were met (or both missed)."""
    resolved_at = at(when)
    due = resolved_at + (timedelta(hours=1) if met else timedelta(hours=-1))
    return make_ticket(
        service,
        requester,
        status=Ticket.Status.RESOLVED,
        opened_at=resolved_at - timedelta(hours=3),
        first_response_at=resolved_at - timedelta(hours=2),
        first_response_due_at=resolved_at - timedelta(hours=2) + (due - resolved_at),
        first_response_breached=not met,
        resolved_at=resolved_at,
        resolution_due_at=due,
        resolution_breached=not met,
        **fields,
    )


def refresh() -> None:
    """Bring the rollups up to the rows written behind the services' backs."""
    rollups_rebuild()


__all__ = ["answers", "at", "make_person", "refresh", "resolved"]

"""A service with answers of two organisations in November 2026, for the service review tests.

Organisation A, through the relationship A × Mailbox: 4 promoters (9, 10, 10, 9) and 2 detractors
(3, 1) → happiness +33.3 (n 6); comments: two negative, two positive. Organisation B, on another
offering: 3 detractors (0, 2, 4) → the whole service's happiness is (4 − 5) / 9 = −11.1 (n 9).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.desk.tests.factories import make_offering, make_relationship
from serviceloop.experience.models import ServiceReview
from serviceloop.experience.tests.factories import respond
from serviceloop.relationships.models import Relationship

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


def seed(service: Service, offering: Offering, org_a: Organisation, org_b: Organisation) -> dict[str, Any]:
    other = make_offering(service, "Shared drives")
    relationship = make_relationship(org_a, offering)
    relationship_b = make_relationship(org_b, other)
    a = {"organisation": org_a, "offering": offering}
    respond(service, "2026-11-02 09:00", happiness=9, drivers=["speed"], **a)
    respond(service, "2026-11-03 09:00", happiness=10, drivers=["speed", "attitude"], **a)
    respond(
        service,
        "2026-11-04 09:00",
        happiness=10,
        comment="Wonderful help, fixed within minutes",
        sentiment_label="positive",
        sentiment_score=0.8,
        **a,
    )
    respond(
        service,
        "2026-11-16 09:00",
        happiness=9,
        comment="Friendly and quick, thank you",
        sentiment_label="positive",
        sentiment_score=0.7,
        **a,
    )
    respond(
        service,
        "2026-11-17 09:00",
        happiness=3,
        drivers=["speed"],
        comment="Slow again, call me on +44 20 7946 0958 or mail pat@acme.example",
        sentiment_label="negative",
        sentiment_score=-0.6,
        **a,
    )
    respond(
        service,
        "2026-11-18 09:00",
        happiness=1,
        comment="Terrible, nobody answered for a week",
        sentiment_label="negative",
        sentiment_score=-0.9,
        **a,
    )
    for day, score in ((5, 0), (6, 2), (7, 4)):
        respond(
            service,
            f"2026-11-0{day} 10:00",
            organisation=org_b,
            offering=other,
            happiness=score,
            comment=f"Borealis complaint {day}",
            sentiment_label="negative",
            sentiment_score=-0.5,
        )
    # Outside the period: counted by neither review.
    respond(service, "2026-12-01 09:00", organisation=org_a, offering=offering, happiness=0)
    return {"relationship": relationship, "relationship_b": relationship_b, "other": other}


def review_of(
    *, service: Service, relationship: Relationship | None = None, by: User | None = None, **fields: Any
) -> ServiceReview:
    start, end = NOVEMBER
    return ServiceReview.objects.create(
        service=service,
        relationship=relationship,
        organisation=relationship.organisation if relationship is not None else None,
        period_start=fields.pop("period_start", start),
        period_end=fields.pop("period_end", end),
        requested_by=by,
        **fields,
    )

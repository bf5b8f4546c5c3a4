"""The feedback demo builds on the desk demo's resolved tickets, and skips quietly without them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Avg
from django.utils import timezone

from serviceloop.core.demo import DemoContext
from serviceloop.feedback import demo
from serviceloop.feedback.models import Invitation, Response, SuppressedInvitation, Survey
from serviceloop.feedback.tests.survey_factories import make_person, make_service, make_ticket


def test_demo_without_desk_tickets_adds_nothing(db: Any) -> None:
    demo.load(DemoContext(seed=1, now=timezone.now()))
    assert not Survey.objects.exists() and not Response.objects.exists()


def test_demo_surveys_resolved_tickets_with_throttling_and_a_third_answering(sam: Any, org_a: Any) -> None:
    now = timezone.now()
    services = [make_service(name, sam) for name in ("Laptops", "Payroll", "Travel")]
    people = [make_person(org_a, f"p{i}@acme.example") for i in range(40)]
    ctx = DemoContext(seed=7, now=now)
    tickets = []
    for i in range(900):
        resolved = now - timedelta(days=ctx.rng.uniform(0.2, 365))
        tickets.append(
            make_ticket(
                services[i % 3],
                people[ctx.rng.randrange(40)],
                status="resolved",
                resolved_at=resolved,
                opened_at=resolved - timedelta(hours=4),
                is_duplicate=i % 50 == 0,
            )
        )
    ctx.objects["tickets"] = tickets
    demo.load(ctx)
    assert Survey.objects.count() == 3
    reasons = set(SuppressedInvitation.objects.values_list("reason", flat=True))
    assert reasons == {"throttled", "duplicate"}
    sent, answered = Invitation.objects.count(), Response.objects.count()
    assert 0.25 < answered / sent < 0.45
    # Scores follow the demo's story (core/demo_story.py): services outside it are answered alike, well.
    means = {s.name: Response.objects.filter(service=s).aggregate(m=Avg("happiness"))["m"] for s in services}
    assert set(means) == {"Laptops", "Payroll", "Travel"} and all(6 < (mean or 0) < 10 for mean in means.values()), (
        means
    )
    assert Response.objects.exclude(comment="").exists()

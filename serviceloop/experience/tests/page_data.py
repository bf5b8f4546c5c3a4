"""Test data for the experience pages: one service consumed by two organisations, answers with tickets.

Payroll (offerings Payslips and Expenses) is consumed by Acme (organisation A: carol) through
Payslips and by Borealis (organisation B: bob) through Expenses; Rides is consumed by A only. The
clock stands at 2026-07-31 12:00 UTC, so a page opens on 2026-05-03 … 2026-07-31 (90 days).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.catalogue.services import offering_create
from serviceloop.desk.models import Ticket
from serviceloop.experience.rollups import rollups_rebuild
from serviceloop.experience.tests.factories import make_person, make_service, respond, ticket
from serviceloop.feedback.models import Response
from serviceloop.relationships.services import relationship_create

NOW = datetime(2026, 7, 31, 12, 0, tzinfo=UTC)
SINCE, UNTIL = date(2026, 5, 3), date(2026, 7, 31)


@dataclass
class World:
    payroll: Service
    rides: Service
    payslips: Offering
    expenses: Offering
    org_a: Organisation
    org_b: Organisation
    responses: list[Response]


def seed(sam: User, org_a: Organisation, org_b: Organisation) -> World:
    payroll = make_service("Payroll", manager=sam)
    rides = make_service("Rides", manager=sam)
    payslips = offering_create(service=payroll, by=sam, name="Payslips")
    expenses = offering_create(service=payroll, by=sam, name="Expenses")
    airport = offering_create(service=rides, by=sam, name="Airport rides")
    for organisation, offering in ((org_a, payslips), (org_b, expenses), (org_a, airport)):
        relationship_create(by=sam, organisation=organisation, offering=offering, started_on=date(2025, 1, 1))
    pat = make_person(org_a, "pat@acme.example")
    make_person(org_b, "kim@borealis.example")
    responses = []

    def answer(when: str, organisation: Organisation, **fields: Any) -> Response:
        row = respond(fields.pop("service", payroll), when, organisation=organisation, **fields)
        responses.append(row)
        return row

    # A in June: 4 promoters (P1 tickets, FCR, no reassignment), 1 detractor (P3, 3 reassignments).
    for day in (1, 2, 8, 9):
        tk = ticket(
            payroll, pat, priority=Ticket.Priority.P1, status=Ticket.Status.RESOLVED, first_contact_resolution=True
        )
        answer(
            f"2026-06-0{day} 10:00",
            org_a,
            offering=payslips,
            ticket=tk,
            happiness=10,
            csat=5,
            lost_time_bucket="none",
            drivers=["speed"],
            comment="Quick and friendly, thank you",
            sentiment_label="positive",
            sentiment_score=0.7,
        )
    tk = ticket(
        payroll,
        pat,
        priority=Ticket.Priority.P3,
        reassignment_count=4,
        status=Ticket.Status.RESOLVED,
        first_contact_resolution=False,
    )
    answer(
        "2026-06-10 10:00",
        org_a,
        offering=payslips,
        ticket=tk,
        happiness=2,
        csat=1,
        lost_time_bucket="2to4h",
        drivers=["communication"],
        comment="Acme secret: nobody told us anything for days",
        sentiment_label="negative",
        sentiment_score=-0.6,
    )
    # B in July: three detractors with a comment, on the portal.
    for day in (1, 2, 3):
        answer(
            f"2026-07-0{day} 11:00",
            org_b,
            offering=expenses,
            channel="portal",
            happiness=0,
            lost_time_bucket="gt1day",
            comment="Borealis secret: expenses lost again",
            sentiment_label="negative",
            sentiment_score=-0.8,
        )
    # A on Rides, and one answer outside the default period.
    answer("2026-07-20 09:00", org_a, service=rides, offering=airport, happiness=9)
    answer(
        "2026-04-01 09:00", org_a, offering=payslips, happiness=0, comment="Too old to show", sentiment_label="negative"
    )
    rollups_rebuild()
    return World(payroll, rides, payslips, expenses, org_a, org_b, responses)

"""Desk metrics of tickets driven through the desk's own services, against hand-computed figures.

The week of Monday 7 September 2026, every calendar in UTC (TIME_ZONE is UTC). Email (service S)
has a P3 target of 60 business minutes to the first response and 240 to the resolution, in office
hours (09–17 weekdays). Night desk (T) has only a P1 target, on a 24×7 calendar: its P3 tickets have
no target and count in the service's calendar. Walk-in (U) has no target: 09–17 weekdays.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Service
from serviceloop.desk.models import Ticket
from serviceloop.desk.services import (
    sla_check,
    ticket_reopen,
    ticket_reply,
    ticket_resolve,
    ticket_set_status,
)
from serviceloop.desk.tests.factories import make_calendar, make_offering, make_relationship, make_service, make_target
from serviceloop.desk.tests.factories import make_ticket as open_ticket
from serviceloop.experience.desk_metrics import desk_figures
from serviceloop.experience.metrics import DESK_METRICS
from serviceloop.experience.tally import Scope
from serviceloop.relationships.models import Person

pytestmark = pytest.mark.django_db
STAFF = Ticket.Channel.STAFF
ALL_DAY = {str(day): [["00:00", "24:00"]] for day in range(7)}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def stored(ticket: Ticket) -> tuple[int | None, int | None]:
    row = Ticket.objects.get(pk=ticket.pk)
    return row.response_business_minutes, row.resolution_business_minutes


def consumed(organisation: Organisation, name: str) -> Service:
    service = make_service(name)
    make_relationship(organisation, make_offering(service, f"{name} standard"))
    return service


@pytest.fixture
def week(
    settings: Any, travel: Any, service: Service, org_a: Organisation, carol_person: Person, dave: Person, alex: User
) -> dict[str, Any]:
    settings.SERVICELOOP_MIN_SAMPLE = 1
    make_target(service, calendar=make_calendar("UTC"), first_response_minutes=60, resolution_minutes=240)
    night = consumed(org_a, "Night desk")
    make_target(night, priority=Ticket.Priority.P1, calendar=make_calendar("UTC", hours=ALL_DAY, name="24×7"))
    walk_in = consumed(org_a, "Walk-in")
    tickets: dict[str, Ticket] = {}

    def at(text: str) -> None:
        travel.to(utc(text))

    def reply(name: str, *, staff: bool = True) -> None:
        if staff:
            ticket_reply(ticket=tickets[name], body="On it.", by_user=alex, channel=STAFF)
        else:
            person = tickets[name].requester
            ticket_reply(ticket=tickets[name], body="Here you are.", by_person=person, channel=Ticket.Channel.EMAIL)

    def resolve(name: str) -> None:
        ticket_resolve(ticket=tickets[name], by=alex, resolution="Fixed.")

    # W, Monday: answered at 10:00 (60 min), waiting on Dave 10:00–12:00, resolved 14:00 (300 min, paused
    # time included). Its resolution was due at 13:00, moved to 15:00 by the pause: met because the
    # paused time is excluded.
    at("2026-09-07 09:00")
    tickets["W"] = open_ticket(dave, service)
    at("2026-09-07 10:00")
    reply("W")
    ticket_set_status(ticket=tickets["W"], status=Ticket.Status.WAITING_CUSTOMER, by=alex)
    at("2026-09-07 12:00")
    reply("W", staff=False)
    at("2026-09-07 14:00")
    resolve("W")
    # R, Tuesday: answered 09:30 (30), resolved 11:00, reopened 13:00 (2 h resolved: paused), resolved
    # again 14:30: 330 minutes from the opening to the last resolution. Due 13:00, moved to 15:00: met.
    at("2026-09-08 09:00")
    tickets["R"] = open_ticket(carol_person, service)
    at("2026-09-08 09:30")
    reply("R")
    at("2026-09-08 11:00")
    resolve("R")
    assert stored(tickets["R"]) == (30, 120)
    at("2026-09-08 13:00")
    ticket_reopen(ticket=tickets["R"], by_user=alex, reason="Not fixed.")
    assert stored(tickets["R"]) == (30, None)  # no longer resolved
    at("2026-09-08 14:30")
    resolve("R")
    # B1, Wednesday: answered 09:13 (13), still open; its resolution fell due at 13:00.
    at("2026-09-09 09:00")
    tickets["B1"] = open_ticket(dave, service)
    at("2026-09-09 09:13")
    reply("B1")
    # B2, Thursday: nobody answers; first response due 10:00, resolution due 13:00.
    at("2026-09-10 09:00")
    tickets["B2"] = open_ticket(dave, service)
    # P, Thursday 15:00: answered 15:05 (5), waiting on Dave from 15:10; due Friday 11:00, passed while
    # the clock stood still: not breached, not counted.
    at("2026-09-10 15:00")
    tickets["P"] = open_ticket(dave, service)
    at("2026-09-10 15:05")
    reply("P")
    at("2026-09-10 15:10")
    ticket_set_status(ticket=tickets["P"], status=Ticket.Status.WAITING_CUSTOMER, by=alex)
    # D, Walk-in (no calendar at all: 09–17 weekdays): opened Friday 16:00, answered Monday 09:30
    # (60 + 30), resolved Monday 11:10 (60 + 130).
    at("2026-09-11 16:00")
    tickets["D"] = open_ticket(dave, walk_in)
    # N, Night desk on Saturday (P3, no target: the service's 24×7 calendar): answered after 60,
    # resolved after 180 (office hours would say 0 and 0).
    at("2026-09-12 10:00")
    tickets["N"] = open_ticket(carol_person, night)
    at("2026-09-12 11:00")
    reply("N")
    at("2026-09-12 13:00")
    resolve("N")
    at("2026-09-14 09:30")
    reply("D")
    at("2026-09-14 11:10")
    resolve("D")
    at("2026-09-16 12:00")
    return tickets


def values(scope: Scope, group_by: list[str] | None = None) -> dict[Any, dict[str, Any]]:
    grouped = desk_figures(scope, group_by or [], DESK_METRICS)
    return {key: {name: (shown.value, shown.n) for name, shown in figures.items()} for key, figures in grouped.items()}


def test_the_minutes_stored_on_each_ticket(week: dict[str, Ticket]) -> None:
    assert stored(week["W"]) == (60, 300)
    assert stored(week["R"]) == (30, 330)
    assert stored(week["B1"]) == (13, None)
    assert stored(week["B2"]) == (None, None)
    assert stored(week["N"]) == (60, 180)  # the service's calendar: 24×7
    assert stored(week["D"]) == (90, 190)  # no calendar anywhere: 09–17 weekdays in TIME_ZONE
    assert Ticket.objects.get(pk=week["N"].pk).sla_target_id is None


def test_the_week_s_desk_figures(week: dict[str, Ticket]) -> None:
    shown = values(Scope())[()]
    # Resolved: W, R, N, D.
    assert shown["fcr"] == (50.0, 4)  # N and D; W had a customer follow-up, R was reopened
    assert shown["reopen_rate"] == (25.0, 4)  # R
    assert shown["mttr_mean"] == (250.0, 4)  # (300 + 330 + 180 + 190) / 4
    assert shown["mttr_median"] == (245.0, 4)  # (190 + 300) / 2
    # Answered: W 60, R 30, B1 13, P 5, N 60, D 90.
    assert shown["mtta_mean"] == (43.0, 6)  # 258 / 6
    assert shown["mtta_median"] == (45.0, 6)  # (30 + 60) / 2
    # First response: W and R met; B2 open and unanswered past its due time counts as not met.
    assert shown["sla_first_response"] == (66.7, 3)
    # Resolution: W and R met (their pauses excluded); B1 and B2 open past their due times; P paused.
    assert shown["sla_resolution"] == (50.0, 4)
    # Paused time, visible: W waited 2 h on Dave, R spent 2 h resolved before its reopen.
    assert shown["sla_paused"] == (240.0, 4)


def test_an_open_breached_ticket_counts_on_the_day_it_fell_due(week: dict[str, Ticket]) -> None:
    by_day = values(Scope(service_ids=(week["W"].service_id,)), ["day"])
    sla = {key[0]: (figures["sla_first_response"], figures["sla_resolution"]) for key, figures in by_day.items()}
    assert sla == {
        date(2026, 9, 7): ((100.0, 1), (100.0, 1)),  # W resolved
        date(2026, 9, 8): ((100.0, 1), (100.0, 1)),  # R resolved
        date(2026, 9, 9): ((None, 0), (0.0, 1)),  # B1's resolution fell due (and B1 answered: MTTA only)
        date(2026, 9, 10): ((0.0, 1), (0.0, 1)),  # B2's clocks fell due; P answered
    }
    # Once B1 is resolved it counts on its resolution day, still not met.
    ticket_resolve(ticket=week["B1"], by=User.objects.get(email="alex@provider.example"), resolution="Done.")
    after = values(Scope(service_ids=(week["W"].service_id,)), ["day"])
    assert after[(date(2026, 9, 9),)]["sla_resolution"] == (None, 0)
    assert after[(date(2026, 9, 16),)]["sla_resolution"] == (0.0, 1)
    assert after[(date(2026, 9, 16),)]["sla_first_response"] == (100.0, 1)  # answered in time


def test_the_breach_flags_of_the_sla_task_change_nothing(week: dict[str, Ticket]) -> None:
    before = values(Scope(), ["day"])
    assert sla_check(now=utc("2026-09-16 12:00")) >= 3  # B1's and B2's breaches, with warnings
    assert Ticket.objects.get(pk=week["B2"].pk).first_response_breached
    assert values(Scope(), ["day"]) == before

"""The raw recount: tallies from responses, invitations, suppressed invitations and posts, every filter and grouping."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from serviceloop.accounts.testing import make_organisation
from serviceloop.catalogue.models import Offering
from serviceloop.desk.models import Ticket
from serviceloop.experience.rollups import tally_from_rollups
from serviceloop.experience.sources import tally_from_rows
from serviceloop.experience.tally import Scope, Tally
from serviceloop.experience.tests.factories import (
    deliver,
    invite,
    make_person,
    make_service,
    make_ticket,
    post,
    respond,
    suppress,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict[str, Any]:
    payroll, rides = make_service("Payroll"), make_service("Ride booking")
    acme, borealis = make_organisation("Acme"), make_organisation("Borealis")
    payslips = Offering.objects.create(service=payroll, name="Payslips", slug="payslips")
    pat = make_person(acme, "pat@acme.example")
    kim = make_person(borealis, "kim@borealis.example")
    incident = make_ticket(payroll, pat, type=Ticket.Type.INCIDENT)
    request = make_ticket(payroll, kim, type=Ticket.Type.REQUEST)
    respond(
        payroll,
        "2026-06-10 10:00",
        organisation=acme,
        offering=payslips,
        ticket=incident,
        happiness=9,
        csat=4,
        lost_time_bucket="lt30",
        drivers=["speed", "communication"],
        sentiment_label="positive",
    )
    respond(payroll, "2026-06-11 10:00", organisation=borealis, ticket=request, happiness=3, drivers=["speed"])
    respond(payroll, "2026-06-12 10:00", organisation=acme, channel="widget", nps=10, ces=6, sentiment_label="negative")
    respond(rides, "2026-06-12 11:00", organisation=borealis, happiness=8, lost_time_bucket="gt1day")
    invite(pat, payroll, "2026-06-09 09:00", answered=True)  # adds a happiness 9 response on 06-09
    invite(pat, payroll, "2026-06-09 10:00")
    invite(kim, rides, "2026-06-09 10:00")
    suppress(payroll, acme, "2026-06-09 11:00", "throttled")
    suppress(payroll, None, "2026-06-09 12:00", "opted_out")
    post([payroll, rides], "2026-06-10 08:00", "negative")
    post([payroll], "2026-06-10 09:00", None)  # no label: not counted
    return {
        "payroll": payroll,
        "rides": rides,
        "acme": acme,
        "borealis": borealis,
        "payslips": payslips,
    }


def pairs(*items: tuple[str, str, int]) -> Tally:
    return Tally.of_pairs(items)


def test_everything_counts_once_into_one_tally(world: dict[str, Any]) -> None:
    deliver()
    assert tally_from_rollups(Scope(), ()) == tally_from_rows(Scope())  # the rollups say the same
    assert tally_from_rows(Scope()) == {
        (): pairs(
            ("responses", "", 5),
            ("happiness", "9", 2),
            ("happiness", "3", 1),
            ("happiness", "8", 1),
            ("csat", "4", 1),
            ("nps", "10", 1),
            ("ces", "6", 1),
            ("lost_time", "lt30", 1),
            ("lost_time", "gt1day", 1),
            ("driver", "speed", 2),
            ("driver", "communication", 1),
            # The one answer naming drivers with a bucket: lt30, for each of its two drivers.
            ("driver_lost", "speed:lt30", 1),
            ("driver_lost", "communication:lt30", 1),
            ("sentiment", "positive", 1),
            ("sentiment", "negative", 1),
            ("invitation", "sent", 3),
            ("invitation", "answered", 1),
            ("suppressed", "throttled", 1),
            ("suppressed", "opted_out", 1),
            ("post_sentiment", "negative", 2),  # one post, matched to two services: once per service
        )
    }


def test_grouped_by_service_with_a_handful_of_queries(world: dict[str, Any]) -> None:
    payroll, rides = world["payroll"].pk, world["rides"].pk
    with CaptureQueriesContext(connection) as queries:
        grouped = tally_from_rows(Scope(), ["service"])
    assert len(queries) == 4  # one GROUP BY per source, whatever the number of rows
    assert set(grouped) == {(payroll,), (rides,)}
    assert grouped[(rides,)] == pairs(
        ("responses", "", 1),
        ("happiness", "8", 1),
        ("lost_time", "gt1day", 1),
        ("invitation", "sent", 1),
        ("post_sentiment", "negative", 1),
    )
    assert grouped[(payroll,)].of("invitation") == {"sent": 2, "answered": 1}


def test_filters_on_organisation_offering_and_channel_leave_out_what_has_none(world: dict[str, Any]) -> None:
    acme = tally_from_rows(Scope(organisation_ids=(world["acme"].pk,)))[()]
    assert acme.total("responses") == 3  # two of Acme's own, and the answered invitation
    assert acme.of("suppressed") == {"throttled": 1}  # the opted-out one has no organisation
    assert acme.of("post_sentiment") == {}  # posts belong to no organisation
    offering = tally_from_rows(Scope(offering_ids=(world["payslips"].pk,)))[()]
    assert offering == pairs(
        ("responses", "", 1),
        ("happiness", "9", 1),
        ("csat", "4", 1),
        ("lost_time", "lt30", 1),
        ("driver", "speed", 1),
        ("driver", "communication", 1),
        ("driver_lost", "speed:lt30", 1),
        ("driver_lost", "communication:lt30", 1),
        ("sentiment", "positive", 1),
    )
    widget = tally_from_rows(Scope(channels=("widget",)))[()]
    assert widget.total("responses") == 1 and widget.total("invitation") == 0
    social = tally_from_rows(Scope(channels=("social",)))[()]
    assert social == pairs(("post_sentiment", "negative", 2))
    email = tally_from_rows(Scope(channels=("email",)))[()]
    assert email.of("invitation") == {"sent": 3, "answered": 1} and email.total("suppressed") == 2


def test_ticket_type_filter_and_grouping(world: dict[str, Any]) -> None:
    incidents = tally_from_rows(Scope(ticket_types=("incident",)))[()]
    assert incidents.total("responses") == 1 and incidents.of("happiness") == {"9": 1}
    without = tally_from_rows(Scope(ticket_types=("",)))[()]
    assert without.total("responses") == 3  # the widget answer, the rides answer and the invitation's
    assert without.of("post_sentiment") == {"negative": 2}
    by_type = tally_from_rows(Scope(service_ids=(world["payroll"].pk,)), ["ticket_type"])
    assert {key: tally.total("responses") for key, tally in by_type.items()} == {
        ("incident",): 1,
        ("request",): 1,
        ("",): 2,
    }


def test_days_are_inclusive(world: dict[str, Any]) -> None:
    one_day = tally_from_rows(Scope(since=date(2026, 6, 12), until=date(2026, 6, 12)))[()]
    assert one_day.total("responses") == 2
    assert tally_from_rows(Scope(since=date(2026, 6, 13))) == {}


def test_weeks_start_on_monday_across_a_month_boundary(world: dict[str, Any]) -> None:
    service = make_service("Printing")
    # 2026-06-29 is a Monday: it, Tue 30 June, Wed 1 July and Sun 5 July are one ISO week; Mon 6 July the next.
    for when in ("2026-06-29 08:00", "2026-06-30 12:00", "2026-07-01 09:00", "2026-07-05 20:00", "2026-07-06 07:00"):
        respond(service, when, happiness=10)
    scope = Scope(service_ids=(service.pk,))
    by_week = tally_from_rows(scope, ["week"])
    assert {key: tally.total("responses") for key, tally in by_week.items()} == {
        (date(2026, 6, 29),): 4,
        (date(2026, 7, 6),): 1,
    }
    by_month = tally_from_rows(scope, ["service", "month"])
    assert {key: tally.total("responses") for key, tally in by_month.items()} == {
        (service.pk, date(2026, 6, 1)): 2,
        (service.pk, date(2026, 7, 1)): 3,
    }


def test_days_are_days_of_the_project_time_zone(settings: Any, world: dict[str, Any]) -> None:
    settings.TIME_ZONE = "Europe/London"
    service = make_service("Printing")
    # 23:30 UTC on 30 June is 00:30 BST on 1 July: the next day, the next month.
    respond(service, "2026-06-30 23:30", happiness=10)
    respond(service, "2026-06-30 22:30", happiness=10)  # 23:30 BST, still 30 June
    scope = Scope(service_ids=(service.pk,))
    by_day = tally_from_rows(scope, ["day"])
    assert {key: tally.total("responses") for key, tally in by_day.items()} == {
        (date(2026, 6, 30),): 1,
        (date(2026, 7, 1),): 1,
    }
    by_month = tally_from_rows(scope, ["month"])
    assert {key: tally.total("responses") for key, tally in by_month.items()} == {
        (date(2026, 6, 1),): 1,
        (date(2026, 7, 1),): 1,
    }
    july = tally_from_rows(Scope(service_ids=(service.pk,), since=date(2026, 7, 1), until=date(2026, 7, 1)))
    assert july[()].total("responses") == 1
    # In UTC both are on 30 June.
    settings.TIME_ZONE = "UTC"
    assert {key: t.total("responses") for key, t in tally_from_rows(scope, ["day"]).items()} == {
        (date(2026, 6, 30),): 2
    }


def test_a_driver_code_is_matched_whole(world: dict[str, Any]) -> None:
    service = make_service("Printing")
    respond(service, "2026-06-10 10:00", drivers=["knowledge", "quality"])
    respond(service, "2026-06-10 10:00", drivers=[])
    counts = tally_from_rows(Scope(service_ids=(service.pk,)))[()]
    assert counts.of("driver") == {"knowledge": 1, "quality": 1}
    assert counts.total("responses") == 2

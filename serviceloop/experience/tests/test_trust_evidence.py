"""Trust evidence from answers, posts, SLA breaches, reopens, weeks and months: each rule through
real rows and real delivered events, repeats and the backfill writing nothing new."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.testing import make_organisation
from serviceloop.catalogue.models import Offering
from serviceloop.core.events import event_record
from serviceloop.core.testing import Travel
from serviceloop.desk.models import Ticket, TicketEvent
from serviceloop.desk.services import sla_check, ticket_reopen, ticket_resolve
from serviceloop.desk.tests.factories import make_calendar, make_offering, make_person, make_service, make_target
from serviceloop.desk.tests.factories import make_ticket as desk_ticket
from serviceloop.experience.tests.factories import deliver, post
from serviceloop.experience.trust_evidence import (
    CHUNK,
    answer_sign,
    availability_record,
    evidence_backfill,
    evidence_from_responses,
    periods_record_due,
    post_names,
    weeks_record,
)
from serviceloop.experience.trust_models import TrustEvidence
from serviceloop.feedback.models import Post, Response
from serviceloop.feedback.services.responses import response_record
from serviceloop.feedback.services.sentiment_labels import sentiment_correct
from serviceloop.incidents.models import Component
from serviceloop.incidents.services import incident_declare, incident_resolve
from serviceloop.relationships.models import Relationship

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 2)
NINE = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # Monday 09:00 in London (winter: UTC)


def relate(organisation: Organisation, offering: Offering, started_on: date, **fields: Any) -> Relationship:
    return Relationship.objects.create(organisation=organisation, offering=offering, started_on=started_on, **fields)


@pytest.fixture
def world(sam: User, travel: Travel) -> dict[str, Any]:
    """Payroll: Dunmore Council since 2026, Acme since 2025; Cobalt never consumed it."""
    travel.to(NINE - timedelta(days=1))
    payroll = make_service("Payroll", manager=sam)
    offering = make_offering(payroll, "Monthly payroll")
    dunmore, acme, cobalt = make_organisation("Dunmore Council"), make_organisation("Acme"), make_organisation("Cobalt")
    relate(dunmore, offering, date(2026, 1, 5))
    relate(acme, offering, date(2025, 1, 6))
    return {"payroll": payroll, "offering": offering, "dunmore": dunmore, "acme": acme, "cobalt": cobalt}


def keys(**filters: Any) -> list[str]:
    return sorted(TrustEvidence.objects.filter(**filters).values_list("key", flat=True))


# ------------------------------------------------------------------------------ answers


def test_the_primary_score_decides_the_sign() -> None:
    assert answer_sign({"happiness": 10, "csat": 1}) == ("happiness", 10, "positive_answer")
    assert answer_sign({"happiness": 6}) == ("happiness", 6, "negative_answer")
    assert answer_sign({"happiness": 7}) is None and answer_sign({"happiness": 8, "csat": 1}) is None
    assert answer_sign({"csat": 4})[2] == "positive_answer" and answer_sign({"csat": 2})[2] == "negative_answer"  # type: ignore[index]
    assert answer_sign({"csat": 3}) is None
    assert answer_sign({"nps": 9})[2] == "positive_answer" and answer_sign({"nps": 6})[2] == "negative_answer"  # type: ignore[index]
    assert answer_sign({"nps": 7, "ces": 7}) is None  # nps comes before ces
    assert answer_sign({"ces": 6})[2] == "positive_answer" and answer_sign({"ces": 3})[2] == "negative_answer"  # type: ignore[index]
    assert answer_sign({"ces": 4}) is None and answer_sign({}) is None


def test_answers_with_an_organisation_are_evidence_on_their_local_day(world: dict[str, Any], settings: Any) -> None:
    settings.TIME_ZONE = "Europe/Amsterdam"
    payroll, dunmore = world["payroll"], world["dunmore"]
    late = datetime(2026, 11, 2, 23, 30, tzinfo=UTC)  # Tuesday in Amsterdam
    happy = response_record(service=payroll, organisation=dunmore, happiness=10, responded_at=late)
    cross = response_record(service=payroll, organisation=dunmore, csat=1, responded_at=NINE)
    meh = response_record(service=payroll, organisation=dunmore, nps=8, responded_at=NINE)
    response_record(service=payroll, happiness=0, responded_at=NINE)  # nobody's: not trust evidence
    deliver()
    rows = {r.source_id: r for r in TrustEvidence.objects.all()}
    assert set(rows) == {happy.pk, cross.pk, meh.pk}
    assert rows[happy.pk].kind == "positive_answer" and rows[happy.pk].day == date(2026, 11, 3)
    assert (
        rows[happy.pk].key == f"response:{happy.pk}" and rows[happy.pk].label == "positive answer: Happiness 10 of 10"
    )
    assert rows[cross.pk].kind == "negative_answer" and rows[cross.pk].day == date(2026, 11, 2)
    assert rows[cross.pk].organisation_id == dunmore.pk and rows[cross.pk].service_id == payroll.pk
    # Neither positive nor negative: weightless, it counts in the week's number of answers.
    assert rows[meh.pk].kind == "neutral_answer" and rows[meh.pk].label.startswith("neutral answer: ")
    assert rows[meh.pk].label.endswith(" 8 of 10")
    # The same event again, then the backfill: nothing new.
    event_record("response.recorded", subject=happy, response_id=happy.pk)
    event_record("responses.ingested", response_ids=[happy.pk, cross.pk])
    deliver()
    assert TrustEvidence.objects.count() == 3
    before = set(keys())
    evidence_backfill()  # adds the relationships' weeks, nothing else
    assert {k for k in keys() if not k.startswith("week:")} == before


def test_evidence_from_responses_reads_in_a_constant_number_of_statements(world: dict[str, Any]) -> None:
    payroll, acme = world["payroll"], world["acme"]

    def batch(n: int) -> list[int]:
        made = Response.objects.bulk_create(
            [Response(service=payroll, organisation=acme, responded_at=NINE, csat=1 + i % 5) for i in range(n)]
        )
        return [r.pk for r in made]

    fields = [f for f in TrustEvidence._meta.concrete_fields if not f.primary_key]
    reads, inserts = [], []
    for n in (10, 100):
        ids = batch(n)
        written = n  # positive, negative and neutral (weightless) answers alike
        with CaptureQueriesContext(connection) as queries:
            evidence_from_responses(ids)
        statements = [q["sql"] for q in queries.captured_queries]
        reads.append(len([sql for sql in statements if not sql.startswith("INSERT")]))
        inserts.append(len([sql for sql in statements if sql.startswith("INSERT")]))
        # Inserts come in batches as large as the database takes (SQLite: 999 parameters a statement).
        size = min(CHUNK, connection.ops.bulk_batch_size(fields, [TrustEvidence()] * written))
        assert inserts[-1] == math.ceil(written / size)
    assert reads[0] == reads[1] <= 5  # one read, one key lookup, the transaction's savepoint
    assert TrustEvidence.objects.count() == 110  # csat 3 is neutral, and evidence too (weightless)


# -------------------------------------------------------------------------------- posts


def test_post_names_needs_whole_words_in_any_case() -> None:
    assert post_names("dunmore   COUNCIL payroll late again", "", "Dunmore Council")
    assert post_names("nothing here", "Dunmore Council", "Dunmore Council")
    assert not post_names("Dunmore Councillors are angry", "", "Dunmore Council")
    assert not post_names("Acmeville payroll broke", "", "Acme")
    assert post_names("Thanks for nothing, Acme!", "", "Acme")


def test_a_negative_post_counts_for_the_organisations_it_names(world: dict[str, Any], sam: User) -> None:
    payroll, dunmore, acme, cobalt = world["payroll"], world["dunmore"], world["acme"], world["cobalt"]
    named = post([payroll], "2026-11-02 10:00", "negative")
    Post.objects.filter(pk=named.pk).update(text="Dunmore Council payroll is late AGAIN")
    unnamed = post([payroll], "2026-11-02 11:00", "negative")  # names nobody: not trust evidence
    outsider = post([payroll], "2026-11-02 11:30", "negative")
    Post.objects.filter(pk=outsider.pk).update(text="Cobalt says payroll is broken")  # Cobalt consumes nothing
    dismissed = post([payroll], "2026-11-02 12:00", "negative")
    Post.objects.filter(pk=dismissed.pk).update(text="Acme payroll down", dismissed_at=NINE)
    neutral = post([payroll], "2026-11-02 13:00", "neutral")
    Post.objects.filter(pk=neutral.pk).update(text="Acme payroll was fine I guess")
    positive = post([payroll], "2026-11-02 14:00", "negative")
    Post.objects.filter(pk=positive.pk).update(text="Acme: the payroll run failed")
    deliver()
    assert keys() == sorted(
        [f"post:{named.pk}:{payroll.pk}:{dunmore.pk}", f"post:{positive.pk}:{payroll.pk}:{acme.pk}"]
    )
    assert cobalt.pk not in set(TrustEvidence.objects.values_list("organisation_id", flat=True))
    assert unnamed.pk not in set(TrustEvidence.objects.values_list("source_id", flat=True))
    # A correction to negative adds evidence; one away from negative leaves the row (append-only).
    sentiment_correct(by=sam, label="negative", post=Post.objects.get(pk=neutral.pk))
    sentiment_correct(by=sam, label="positive", post=Post.objects.get(pk=positive.pk))
    deliver()
    assert f"post:{neutral.pk}:{payroll.pk}:{acme.pk}" in keys()
    assert f"post:{positive.pk}:{payroll.pk}:{acme.pk}" in keys() and len(keys()) == 3
    row = TrustEvidence.objects.get(source_id=named.pk)
    assert row.kind == "negative_post" and row.day == date(2026, 11, 2) and "Dunmore Council" in row.label


# ------------------------------------------------------------------------ small failures


@pytest.fixture
def desk(world: dict[str, Any], travel: Travel) -> dict[str, Any]:
    """A London 9–17 calendar, first response 60 min, resolution 8 h; Dunmore's requester."""
    payroll = world["payroll"]
    calendar = make_calendar("Europe/London")
    for priority in ("p1", "p2", "p3", "p4"):
        make_target(payroll, priority=priority, calendar=calendar, first_response_minutes=60, resolution_minutes=480)
    person = make_person(world["dunmore"], email="dee@dunmore.example")
    travel.to(NINE)
    return {**world, "person": person}


def test_an_sla_breach_is_a_small_failure_on_the_day_the_target_was_due(desk: dict[str, Any], alex: User) -> None:
    ticket = desk_ticket(desk["person"], desk["payroll"])
    assert ticket.first_response_due_at == NINE + timedelta(hours=1)
    sla_check(now=NINE + timedelta(days=3))
    deliver()
    rows = {r.key: r for r in TrustEvidence.objects.all()}
    assert set(rows) == {f"ticket:{ticket.pk}", f"sla:{ticket.pk}:first_response", f"sla:{ticket.pk}:resolution"}
    # The ticket itself is weightless evidence: it counts in its week's number of tickets.
    assert rows[f"ticket:{ticket.pk}"].kind == "ticket_opened" and rows[f"ticket:{ticket.pk}"].day == MONDAY
    first = rows[f"sla:{ticket.pk}:first_response"]
    assert first.kind == "small_failure" and first.day == MONDAY and first.occurred_at == NINE + timedelta(hours=1)
    assert (
        first.organisation_id == desk["dunmore"].pk
        and first.label == f"{ticket.reference}: first response target breached"
    )
    assert rows[f"sla:{ticket.pk}:resolution"].day == date(2026, 11, 2)  # 8 business hours: 17:00 the same day
    event_record("ticket.sla_breached", subject=ticket, ticket_id=ticket.pk, target="resolution", breached_at=NINE)
    deliver()
    assert TrustEvidence.objects.count() == 3


def test_each_reopen_is_a_small_failure_and_a_ticket_itself_is_not(
    desk: dict[str, Any], alex: User, travel: Travel
) -> None:
    ticket = desk_ticket(desk["person"], desk["payroll"], type=Ticket.Type.INCIDENT)
    deliver()
    # A P3 incident ticket is a request for help, not a failure: weightless, it only counts the week.
    assert list(TrustEvidence.objects.values_list("kind", flat=True)) == ["ticket_opened"]
    for day in (1, 2):
        travel.to(NINE + timedelta(days=day, minutes=10))
        ticket = ticket_resolve(ticket=Ticket.objects.get(pk=ticket.pk), by=alex, resolution="Rerun.")
        travel.to(NINE + timedelta(days=day, minutes=20))
        ticket_reopen(ticket=ticket, by_user=alex, reason="Still wrong.")
    deliver()
    reopens = list(TicketEvent.objects.filter(ticket=ticket, kind="reopened").order_by("pk"))
    rows = list(TrustEvidence.objects.filter(kind="small_failure", details__failure="reopen").order_by("day"))
    assert [r.key for r in rows] == [f"reopen:{e.pk}" for e in reopens]
    assert [r.day for r in rows] == [date(2026, 11, 3), date(2026, 11, 4)]
    event_record("ticket.reopened", subject=ticket, ticket_id=ticket.pk)
    deliver()
    assert TrustEvidence.objects.filter(details__failure="reopen").count() == 2


# -------------------------------------------------------------------------------- weeks


def test_a_week_is_the_share_of_targets_met_for_each_relationship_covering_it(
    desk: dict[str, Any], alex: User, travel: Travel
) -> None:
    payroll, dunmore, acme = desk["payroll"], desk["dunmore"], desk["acme"]
    # Two tickets: one answered in time (its first response met), neither resolved: 1 of 4 met.
    answered = desk_ticket(desk["person"], payroll)
    from serviceloop.desk.services import ticket_reply

    ticket_reply(ticket=answered, body="On it.", by_user=alex, channel=Ticket.Channel.STAFF)
    desk_ticket(desk["person"], payroll)
    sla_check(now=NINE + timedelta(days=7))
    # A second offering of the same service is the same pair; a relationship that started mid-week
    # and a paused one are not evidence for the week.
    relate(dunmore, make_offering(payroll, "Expenses"), date(2026, 1, 5))
    late = make_organisation("Latecomer")
    relate(late, desk["offering"], MONDAY + timedelta(days=2))
    paused = make_organisation("Paused")
    relate(paused, desk["offering"], date(2025, 1, 1), status=Relationship.Status.PAUSED)
    weeks_record(MONDAY)
    rows = {r.organisation_id: r for r in TrustEvidence.objects.filter(kind="week_met")}
    assert set(rows) == {dunmore.pk, acme.pk}
    assert rows[dunmore.pk].share == 0.25 and rows[dunmore.pk].key == f"week:{dunmore.pk}:{payroll.pk}:2026-11-02"
    assert rows[dunmore.pk].details["due"] == 4 and rows[dunmore.pk].details["met"] == 1
    assert rows[acme.pk].share == 1.0 and rows[acme.pk].label == "week of 02 Nov 2026: no target due"
    assert rows[acme.pk].day == date(2026, 11, 8)  # counted on the week's Sunday
    assert weeks_record(MONDAY) == set()
    with pytest.raises(ValueError, match="not a Monday"):
        weeks_record(MONDAY + timedelta(days=1))


def test_the_beat_records_finished_weeks_once(world: dict[str, Any]) -> None:
    now = datetime(2026, 11, 16, 0, 30, tzinfo=UTC)  # Monday 00:30: last week not settled yet
    written = periods_record_due(now)
    assert written == 2 * 4  # two relationships × the four weeks before
    assert sorted(set(TrustEvidence.objects.values_list("day", flat=True))) == [
        date(2026, 10, 18),
        date(2026, 10, 25),
        date(2026, 11, 1),
        date(2026, 11, 8),
    ]
    assert periods_record_due(now) == 0
    assert periods_record_due(now + timedelta(hours=1)) == 2  # the week to 15 November has settled


# ------------------------------------------------------------------------------- months


def test_a_month_below_the_availability_target_is_evidence_for_each_consumer(
    world: dict[str, Any], sam: User, travel: Travel
) -> None:
    payroll, dunmore, acme = world["payroll"], world["dunmore"], world["acme"]
    Component.objects.create(service=payroll, name="Payroll", start_date=date(2026, 1, 1), availability_target=99.9)
    fine = make_service("Fine", manager=sam)
    Component.objects.create(service=fine, name="Fine", start_date=date(2026, 1, 1), availability_target=99.0)
    relate(acme, make_offering(fine, "Fine"), date(2025, 1, 1))
    travel.to(NINE)
    incident = incident_declare(by=sam, title="Payroll down", severity="sev3", services={payroll: "major_outage"})
    travel.to(NINE + timedelta(hours=2))
    incident_resolve(incident=incident, by=sam, body="Back.")
    travel.to(datetime(2026, 12, 1, 3, 0, tzinfo=UTC))
    availability_record(date(2026, 11, 1))
    rows = {r.organisation_id: r for r in TrustEvidence.objects.filter(kind="availability_missed")}
    assert set(rows) == {dunmore.pk, acme.pk}
    row = rows[dunmore.pk]
    assert row.key == f"availability:{dunmore.pk}:{payroll.pk}:2026-11" and row.day == date(2026, 11, 30)
    assert row.details["percent"] < 99.9 and row.service_id == payroll.pk
    assert availability_record(date(2026, 11, 1)) == set()
    assert availability_record(date(2026, 10, 1)) == set()  # October was fine
    with pytest.raises(ValueError, match="first day"):
        availability_record(date(2026, 11, 2))


# ----------------------------------------------------------------------------- backfill


def test_the_backfill_writes_the_keys_the_receivers_wrote(desk: dict[str, Any], alex: User, travel: Travel) -> None:
    payroll, dunmore = desk["payroll"], desk["dunmore"]
    ticket = desk_ticket(desk["person"], payroll)
    response_record(service=payroll, organisation=dunmore, happiness=2, responded_at=NINE)
    named = post([payroll], "2026-11-02 10:00", "negative")
    Post.objects.filter(pk=named.pk).update(text="dunmore council: payroll broken")
    travel.to(NINE + timedelta(days=1))
    ticket = ticket_resolve(ticket=ticket, by=alex, resolution="Fixed.")
    ticket_reopen(ticket=ticket, by_user=alex)
    sla_check(now=NINE + timedelta(days=3))
    deliver()
    received = keys()
    assert len(received) == 6  # the ticket, an answer, a post, two breaches, a reopen
    travel.to(datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
    evidence_backfill(since=date(2026, 10, 26))
    after = keys()
    assert set(received) <= set(after)
    assert {k for k in after if k not in received} == {
        f"week:{dunmore.pk}:{payroll.pk}:2026-10-26",
        f"week:{dunmore.pk}:{payroll.pk}:2026-11-02",
        f"week:{desk['acme'].pk}:{payroll.pk}:2026-10-26",
        f"week:{desk['acme'].pk}:{payroll.pk}:2026-11-02",
    }
    assert evidence_backfill(since=date(2026, 10, 26)) == 0
    TrustEvidence.objects.all().delete()
    steps: list[int] = []

    def wrap(items: Any, total: int) -> Any:
        steps.append(total)
        return items

    assert evidence_backfill(since=date(2026, 10, 26), wrap=wrap) == len(after)
    assert keys() == after and steps and steps[0] >= 6

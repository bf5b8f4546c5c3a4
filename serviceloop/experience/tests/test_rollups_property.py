"""The property: after any sequence of arrivals, edits and deletions, delivered as the worker delivers
them (late, in any order, some twice), the rollups equal a recomputation from the raw rows.

Every operation goes through the product's own services; the events they record are delivered by
`event_dispatch`, as the worker does after commit. Each example runs in a savepoint rolled back at
its end, so examples never see each other's rows. Runs on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from serviceloop.accounts.models import User
from serviceloop.accounts.testing import make_organisation
from serviceloop.catalogue.models import Offering, Service
from serviceloop.catalogue.services import offering_delete
from serviceloop.core.errors import ConflictError
from serviceloop.core.events import all_subscribers, event_dispatch
from serviceloop.core.models import Event
from serviceloop.experience.models import RollupCount, RollupDay
from serviceloop.experience.recount import recount_cells
from serviceloop.experience.rollups import rollups_rebuild, tally_from_rollups
from serviceloop.experience.sources import tally_from_rows
from serviceloop.experience.tally import Scope
from serviceloop.experience.tests.oracle import Row, expected_grouped, expected_rows
from serviceloop.feedback.models import Channel, Driver, Invitation, LostTime, MatchRule, Post, Response, Trigger
from serviceloop.feedback.services.ingest import IngestItem, IngestReport, ingest_items
from serviceloop.feedback.services.invitations import invitation_create
from serviceloop.feedback.services.posts import PostItem, post_assign, post_dismiss, post_record
from serviceloop.feedback.services.responses import (
    response_answer_link,
    response_for_invitation,
    response_record,
    response_update_followups,
)
from serviceloop.feedback.services.sentiment_labels import sentiment_correct
from serviceloop.feedback.tests.factories_channels import make_offering, make_rule, make_service
from serviceloop.feedback.tests.survey_factories import make_person, make_ticket

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # a Monday; the days run across a week and a month end
COMMENTS = ["", "Great service, thank you so much", "Terrible, slow and broken again", "It was fine I guess"]
LABELS = ["positive", "neutral", "negative"]

moments = st.builds(
    lambda day, hour: START + timedelta(days=day, hours=hour), st.integers(0, 9), st.sampled_from([0, 11, 17, 22])
)
scores = st.fixed_dictionaries(
    {},
    optional={
        "csat": st.integers(1, 5),
        "happiness": st.integers(0, 10),
        "nps": st.integers(0, 10),
        "ces": st.integers(1, 7),
        "lost_time_bucket": st.sampled_from(LostTime.values),
        "drivers": st.lists(st.sampled_from(Driver.values), max_size=3, unique=True),
    },
)
pick = st.integers(0, 1_000)
operations = st.one_of(
    st.tuples(
        st.just("record"),
        pick,  # service
        st.sampled_from([None, 0, 1]),  # organisation
        st.booleans(),  # with an offering
        st.sampled_from([c for c in Channel.values if c != Channel.INGEST]),
        st.sampled_from([None, "incident", "request"]),  # the ticket's type
        moments,
        scores,
        st.sampled_from(COMMENTS),
    ),
    st.tuples(st.just("correct"), pick, st.sampled_from(LABELS)),
    st.tuples(st.just("followup"), pick, st.sampled_from(COMMENTS), st.sampled_from([None, *LostTime.values])),
    st.tuples(
        st.just("ingest"), st.lists(st.tuples(pick, moments, scores, st.sampled_from(COMMENTS)), min_size=1, max_size=4)
    ),
    st.tuples(st.just("invite"), pick, pick, moments, st.booleans()),
    st.tuples(st.just("answer"), pick, st.integers(0, 10), st.booleans()),
    st.tuples(
        st.just("post"),
        moments,
        st.sampled_from(
            ["#payroll " + c for c in COMMENTS[1:]] + COMMENTS[1:] + ["desktop " + c for c in COMMENTS[1:]]
        ),
    ),
    st.tuples(st.just("assign"), pick, pick),
    st.tuples(st.just("dismiss"), pick),
    st.tuples(st.just("correct_post"), pick, st.sampled_from(LABELS)),
    st.tuples(st.just("delete_offering"), pick),
    st.tuples(st.just("deliver"), st.randoms(use_true_random=False)),
    st.tuples(st.just("redeliver"), pick),
)


class World:
    """The fixed cast every example plays with; rows made by an example vanish with its savepoint."""

    def __init__(self, manager: User) -> None:
        self.manager = manager
        self.services = [make_service("Payroll", manager=manager), make_service("Cloud Desktop", manager=manager)]
        make_rule(self.services[0], MatchRule.Kind.HASHTAG, "payroll")
        make_rule(self.services[1], MatchRule.Kind.KEYWORD, "desktop")
        self.organisations = [make_organisation("Acme"), make_organisation("Globex")]
        self.people = [
            make_person(self.organisations[0], "pat@acme.example"),
            make_person(self.organisations[1], "kim@globex.example"),
            make_person(self.organisations[1], "lee@globex.example", survey_opt_out=True),
        ]
        self.numbers = iter(range(1, 10**6))


def _nth(rows: list[Any], index: int) -> Any:
    return rows[index % len(rows)] if rows else None


def _other(label: str, wanted: str) -> str:
    """A label that differs from the current one (a correction that changes nothing tests nothing)."""
    return wanted if wanted != label else LABELS[(LABELS.index(label) + 1) % len(LABELS)]


def _offering(world: World, service: Service) -> Offering:
    return Offering.objects.filter(service=service).first() or make_offering(service, f"Standard {next(world.numbers)}")


def _deliver_all(order: Any = None) -> None:
    pending = list(Event.objects.filter(completed_at__isnull=True).values_list("pk", flat=True))
    if order is not None:
        order.shuffle(pending)
    for event_id in pending:
        event_dispatch(event_id=event_id)


def apply(world: World, op: tuple[Any, ...], travel: Any) -> None:
    kind = op[0]
    if kind == "record":
        _, s, org, with_offering, channel, ticket_type, at, fields, comment = op
        service = _nth(world.services, s)
        organisation = world.organisations[org] if org is not None else None
        ticket = None
        if ticket_type is not None:
            requester = world.people[0] if organisation is None else world.people[org]
            ticket = make_ticket(service, requester, type=ticket_type, reference=f"RU-{next(world.numbers)}")
        response_record(
            service=service,
            channel=channel,
            offering=_offering(world, service) if with_offering else None,
            organisation=organisation,
            ticket=ticket,
            responded_at=at,
            comment=comment,
            **fields,
        )
    elif kind == "correct":
        response = _nth(list(Response.objects.exclude(sentiment_label=None).order_by("pk")), op[1])
        if response is not None:
            sentiment_correct(by=world.manager, label=_other(response.sentiment_label, op[2]), response=response)
    elif kind == "followup":
        response = _nth(list(Response.objects.order_by("pk")), op[1])
        if response is not None:
            response_update_followups(response=response, comment=op[2], lost_time_bucket=op[3])
    elif kind == "ingest":
        items = [
            (
                number,
                IngestItem(
                    source="kiosk",
                    external_id=f"k{next(world.numbers)}",
                    service=_nth(world.services, s).slug,
                    responded_at=at,
                    comment=comment or "ok",
                    **{("lost_time" if k == "lost_time_bucket" else k): v for k, v in fields.items()},
                ),
            )
            for number, (s, at, fields, comment) in enumerate(op[1], start=1)
        ]
        ingest_items(items=items, by=None, report=IngestReport(received=len(items)))
    elif kind == "invite":
        _, s, p, at, with_ticket = op
        travel.to(at)
        service, person = _nth(world.services, s), _nth(world.people, p)
        ticket = (
            make_ticket(service, person, type="incident", reference=f"RI-{next(world.numbers)}")
            if with_ticket
            else None
        )
        invitation_create(person=person, service=service, trigger=Trigger.API, ticket=ticket, send=False)
    elif kind == "answer":
        invitation = _nth(list(Invitation.objects.order_by("pk")), op[1])
        if invitation is None:
            return
        if op[3]:
            response_for_invitation(invitation=invitation)
        else:
            low, high = (0, 10) if invitation.survey_version.score_kind in ("happiness", "nps") else (1, 5)
            response_answer_link(
                invitation=invitation, score=min(max(op[2], low), high), at=invitation.sent_at + timedelta(hours=30)
            )
    elif kind == "post":
        item = PostItem(source="mastodon", external_id=f"m{next(world.numbers)}", text=op[2], posted_at=op[1])
        post_record(item=item)
    elif kind == "assign":
        post = _nth(list(Post.objects.order_by("pk")), op[1])
        if post is not None:
            post_assign(post=post, service=_nth(world.services, op[2]), by=world.manager)
    elif kind == "dismiss":
        post = _nth(list(Post.objects.order_by("pk")), op[1])
        if post is not None:
            with contextlib.suppress(ConflictError):  # a matched post is not in the inbox
                post_dismiss(post=post, by=world.manager)
    elif kind == "correct_post":
        post = _nth(list(Post.objects.exclude(sentiment_label=None).order_by("pk")), op[1])
        if post is not None:
            sentiment_correct(by=world.manager, label=_other(post.sentiment_label, op[2]), post=post)
    elif kind == "delete_offering":
        offering = _nth(list(Offering.objects.order_by("pk")), op[1])
        if offering is not None:
            offering_delete(offering=offering, by=world.manager)
    elif kind == "deliver":
        _deliver_all(op[1])
    elif kind == "redeliver":
        # At least once: a subscriber run again after its delivery (a retry after a lost ack).
        event = _nth(list(Event.objects.filter(completed_at__isnull=False).order_by("pk")), op[1])
        if event is not None:
            for entry in all_subscribers().get(event.name, []):
                if entry.name.startswith("experience."):
                    with transaction.atomic():
                        entry.handler(event)


def _table() -> dict[Row, int]:
    return {
        (r.service_id, r.day, r.offering_id, r.organisation_id, r.channel, r.ticket_type, r.measure, r.value): r.count
        for r in RollupCount.objects.all()
    }


def _day_table() -> dict[tuple[Any, ...], int]:
    return {(r.service_id, r.day, r.measure, r.value): r.count for r in RollupDay.objects.all()}


def _summed_by_day(rows: dict[tuple[Any, ...], int]) -> dict[tuple[Any, ...], int]:
    summed: dict[tuple[Any, ...], int] = defaultdict(int)
    for (service, day, _offering, _organisation, _channel, _ticket_type, measure, value), n in rows.items():
        summed[(service, day, measure, value)] += n
    return dict(summed)


def check(world: World) -> None:
    expected = expected_rows()
    assert _table() == dict(expected)
    # The day rows are the finer rows summed over offering, organisation, channel and ticket type.
    assert _day_table() == _summed_by_day(dict(expected))
    days = {row[1] for row in expected} | set(RollupCount.objects.values_list("day", flat=True))
    for service in world.services:
        mine = {row: n for row, n in expected.items() if row[0] == service.pk}
        assert recount_cells(service.pk, days) == mine
    org = world.organisations[1].pk
    for scope, group_by, keep in [
        (Scope(), (), None),
        (Scope(), ("service", "week"), None),
        (Scope(service_ids=(world.services[0].pk,)), ("day", "channel"), lambda row: row[0] == world.services[0].pk),
        (Scope(organisation_ids=(org,)), ("month", "organisation"), lambda row: row[3] == org),
        (Scope(channels=("email", "social")), ("ticket_type", "offering"), lambda row: row[4] in ("email", "social")),
        (Scope(ticket_types=("",)), ("service",), lambda row: row[5] == ""),
        (
            Scope(since=date(2026, 11, 26), until=date(2026, 11, 30)),
            ("service", "offering", "organisation", "channel", "ticket_type", "day"),
            lambda row: date(2026, 11, 26) <= row[1] <= date(2026, 11, 30),
        ),
    ]:
        grouped = expected_grouped(expected, group_by, keep)
        assert dict(tally_from_rollups(scope, group_by)) == grouped, (scope, group_by)
        # The metrics' own recount of the raw rows (experience.sources) says the same: one meaning, two sources.
        assert dict(tally_from_rows(scope, group_by)) == grouped, ("tally_from_rows", scope, group_by)


@pytest.fixture
def world(sam: User, travel: Any) -> World:
    travel.to(START)
    return World(sam)


EVERY_KIND = [
    (
        (
            "record",
            0,
            1,
            True,
            "email",
            "incident",
            START + timedelta(hours=17),
            {"happiness": 3, "drivers": ["speed", "cost"]},
            COMMENTS[2],
        ),
        True,
    ),
    (("redeliver", 3), True),
    (("followup", 0, COMMENTS[1], "lt30"), False),
    (("ingest", [(1, START + timedelta(days=8, hours=22), {"nps": 9}, COMMENTS[3])]), True),
    (("correct", 0, "negative"), True),
    (("invite", 0, 0, START + timedelta(days=6, hours=22), True), True),
    (("invite", 0, 0, START + timedelta(days=6, hours=23), False), True),  # throttled: suppressed
    (("invite", 1, 2, START + timedelta(days=2), False), True),  # opted out: suppressed
    (("answer", 0, 8, False), True),
    (("post", START + timedelta(days=7), "#payroll Terrible, slow and broken again"), True),
    (("post", START + timedelta(days=7), "It was fine I guess"), True),
    (("assign", 1, 1), True),
    (("correct_post", 0, "positive"), True),
    (("dismiss", 0), True),
    (("delete_offering", 0), True),
]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
# Mostly delivered at once (so a lost update shows), sometimes held back and delivered later, in any order.
@given(steps=st.lists(st.tuples(operations, st.sampled_from([True, True, True, False])), min_size=1, max_size=16))
@example(steps=EVERY_KIND)
@example(steps=[(op, False) for op, _ in EVERY_KIND])  # everything delivered at the end
def test_the_rollups_equal_a_recount_of_the_raw_rows_after_any_sequence(
    world: World, travel: Any, steps: list[Any]
) -> None:
    with transaction.atomic():
        for op, deliver_now in steps:
            apply(world, op, travel)
            if deliver_now:
                _deliver_all()
        _deliver_all()
        check(world)
        # The rebuild from raw data writes the same rows.
        rollups_rebuild(since=START.date() - timedelta(days=2), until=START.date() + timedelta(days=12))
        assert _table() == dict(expected_rows())
        assert _day_table() == _summed_by_day(dict(expected_rows()))
        transaction.set_rollback(True)

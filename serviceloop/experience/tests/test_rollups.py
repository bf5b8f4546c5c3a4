"""Rollups kept current by the events, read by scope and grouping, rebuilt by the command."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from serviceloop.accounts.models import User
from serviceloop.accounts.testing import make_organisation
from serviceloop.experience.commands import register
from serviceloop.experience.models import RollupCount
from serviceloop.experience.rollups import tally_from_rollups
from serviceloop.experience.tally import Scope, Tally
from serviceloop.experience.tests.factories import deliver
from serviceloop.experience.tests.oracle import expected_rows
from serviceloop.feedback.models import Response
from serviceloop.feedback.services.responses import response_record
from serviceloop.feedback.services.sentiment_labels import sentiment_correct
from serviceloop.feedback.tests.factories_channels import make_service

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def main(argv: list[str]) -> int:
    """Run an experience subcommand as `serviceloop` would (the app's own register(), no serviceloop.cli)."""
    parser = argparse.ArgumentParser(prog="serviceloop")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args))


def table() -> dict[Any, int]:
    return {
        (r.service_id, r.day, r.offering_id, r.organisation_id, r.channel, r.ticket_type, r.measure, r.value): r.count
        for r in RollupCount.objects.all()
    }


def test_a_corrected_sentiment_moves_the_count_to_the_new_label(sam: User) -> None:
    service = make_service("Payroll", manager=sam)
    response = response_record(
        service=service, happiness=2, comment="Terrible, slow and broken again", responded_at=MONDAY
    )
    deliver()
    assert tally_from_rollups(Scope(), ())[()].of("sentiment") == {"negative": 1}
    sentiment_correct(by=sam, label="positive", response=Response.objects.get(pk=response.pk))
    deliver()
    assert tally_from_rollups(Scope(), ())[()].of("sentiment") == {"positive": 1}
    assert table() == dict(expected_rows())


def test_weeks_start_on_monday_months_on_the_first_and_days_follow_the_time_zone(sam: User, settings: Any) -> None:
    settings.TIME_ZONE = "Europe/Amsterdam"
    service = make_service("Payroll", manager=sam)
    acme = make_organisation("Acme")
    # Sunday 29 November 23:30 UTC is Monday 30 November in Amsterdam: the next week, the same month.
    response_record(service=service, organisation=acme, csat=4, responded_at=datetime(2026, 11, 29, 23, 30, tzinfo=UTC))
    response_record(service=service, csat=2, responded_at=datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    deliver()
    assert table() == dict(expected_rows())
    by_day = tally_from_rollups(Scope(), ("day",))
    assert sorted(by_day) == [(date(2026, 11, 30),), (date(2026, 12, 1),)]
    by_week = tally_from_rollups(Scope(), ("week",))
    assert list(by_week) == [(date(2026, 11, 30),)] and by_week[(date(2026, 11, 30),)].of("csat") == {"4": 1, "2": 1}
    by_month = tally_from_rollups(Scope(service_ids=(service.pk,)), ("month", "organisation"))
    assert by_month == {
        (date(2026, 11, 1), acme.pk): Tally.of_pairs([("responses", "", 1), ("csat", "4", 1)]),
        (date(2026, 12, 1), None): Tally.of_pairs([("responses", "", 1), ("csat", "2", 1)]),
    }
    assert tally_from_rollups(Scope(organisation_ids=(acme.pk,), since=date(2026, 12, 1)), ()) == {}
    with pytest.raises(ValueError, match="Unknown grouping 'year'"):
        tally_from_rollups(Scope(), ("year",))


def test_the_rebuild_command_recounts_rows_written_without_events(sam: User, capsys: Any) -> None:
    service = make_service("Payroll", manager=sam)
    other = make_service("Cloud Desktop", manager=sam)
    for day in range(40):
        response_record(service=service, happiness=day % 11, responded_at=MONDAY - timedelta(days=day))
    response_record(service=other, csat=5, responded_at=MONDAY)
    deliver()
    # Rows written behind the services' backs (a restore, the demo's bulk load): no event, stale rollups.
    Response.objects.filter(service=service).update(drivers=["speed"])
    RollupCount.objects.filter(service_id=other.pk).delete()
    assert table() != dict(expected_rows())

    assert main(["experience", "rebuild", "--service", "payroll", "--since", "2026-11-01"]) == 0
    out = capsys.readouterr().out
    assert "Rebuilt the rollups of payroll from 2026-11-01 to " in out and "rollup rows written" in out
    assert not RollupCount.objects.filter(service_id=other.pk).exists()  # another service is left alone
    assert tally_from_rollups(Scope(since=date(2026, 11, 1)), ())[()].of("driver") == {"speed": 23}
    assert tally_from_rollups(Scope(until=date(2026, 10, 31)), ())[()].total("driver") == 0  # before --since

    # A rollup row left from a response that is gone (restored from an older backup): the rebuild drops it.
    RollupCount.objects.create(service_id=other.pk, day=date(2026, 1, 5), channel="api", measure="responses", count=3)
    assert main(["experience", "rebuild"]) == 0
    assert "Rebuilt the rollups from 2026-01-05 to " in capsys.readouterr().out
    assert table() == dict(expected_rows())
    assert main(["experience", "rebuild"]) == 0  # again: the same rows
    assert table() == dict(expected_rows())


def test_the_rebuild_command_answers_a_bad_service_or_day_plainly(sam: User, capsys: Any) -> None:
    assert main(["experience", "rebuild", "--service", "nope"]) == 2
    assert "no service 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["experience", "rebuild", "--since", "31/01/2026"])
    assert exit_.value.code == 2
    assert "is not a day; write it as YYYY-MM-DD" in capsys.readouterr().err
    assert main(["experience", "rebuild"]) == 0
    assert "Nothing to count" in capsys.readouterr().out


def test_rescoring_older_sentiment_moves_the_counts_with_the_new_labels(sam: User) -> None:
    from serviceloop.feedback.services.sentiment_labels import sentiment_rescore

    service = make_service("Payroll", manager=sam)
    response = response_record(service=service, csat=5, comment="Great service, thank you so much", responded_at=MONDAY)
    deliver()
    # Scored long ago by another analyser version, which called it negative.
    Response.objects.filter(pk=response.pk).update(sentiment_label="negative", sentiment_version="old")
    RollupCount.objects.filter(measure="sentiment").update(value="negative")
    assert sentiment_rescore() == 1
    deliver()
    assert tally_from_rollups(Scope(), ())[()].of("sentiment") == {"positive": 1}
    assert table() == dict(expected_rows())

"""Experience subcommands of `serviceloop`: `experience rebuild` recounts the rollups from the raw rows."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from serviceloop.core.cli import progress, setup_django


def register(sub: Any) -> None:
    experience = sub.choices.get("experience") or sub.add_parser(
        "experience", help="experience figures: 'experience rebuild' recounts the rollups from the raw rows"
    )
    actions = getattr(experience, "serviceloop_actions", None)
    if actions is None:
        actions = experience.add_subparsers(dest="experience_action", required=True, metavar="ACTION")
        experience.serviceloop_actions = actions
    rebuild = actions.add_parser(
        "rebuild",
        help="replace the rollups by a recount of the raw rows (all days, or from --since)",
        description=(
            "Recounts responses, invitations, suppressed invitations and posts into the rollup table, "
            "a month of days at a time, each in one transaction (pages keep reading the rest meanwhile). "
            "Safe to run at any time and again: the result is the same."
        ),
    )
    rebuild.add_argument("--since", type=_day, metavar="YYYY-MM-DD", help="from this day (default: the first row)")
    rebuild.add_argument("--service", metavar="SLUG", help="only this service (its slug or public id)")
    rebuild.set_defaults(handler=cmd_experience_rebuild)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a day; write it as YYYY-MM-DD, e.g. 2026-01-31") from None


def cmd_experience_rebuild(args: argparse.Namespace) -> int:
    setup_django()
    from django.db.models import Q

    from serviceloop.catalogue.models import Service
    from serviceloop.experience.rollups import rollups_rebuild

    service_ids = None
    if args.service:
        service = Service.objects.filter(Q(slug=args.service) | Q(public_id=args.service)).first()
        if service is None:
            print(f"serviceloop experience rebuild: no service {args.service!r}", file=sys.stderr)
            return 2
        service_ids = [service.pk]

    def wrap(chunks: Iterator[tuple[date, date]], total: int) -> Iterable[tuple[date, date]]:
        return progress(chunks, total=total, desc="Rollups", unit=" chunks")

    result = rollups_rebuild(since=args.since, service_ids=service_ids, wrap=wrap)
    which = f" of {args.service}" if args.service else ""
    if result.first is None:
        print(f"Nothing to count{which}: no responses, invitations or posts yet.")
        return 0
    print(
        f"Rebuilt the rollups{which} from {result.first} to {result.last}: {result.days:,} days "
        f"in {result.chunks:,} chunks, {result.rows:,} rollup rows written."
    )
    return 0

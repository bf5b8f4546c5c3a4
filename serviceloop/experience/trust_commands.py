"""`serviceloop trust ...`: simulate the model on a file, recompute the stored states, parameters.

`simulate` is the operator's test bench (DOMAIN §5, docs/trust.md "Simulate"): it replays a JSON list
of evidence with trust_engine, the engine the stored states use, and needs no database, so a
provider can try a change of parameters anywhere before adopting it with `parameters --adopt`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from datetime import date
from typing import Any, TypeVar

from serviceloop.core.cli import progress, setup_django

T = TypeVar("T")
SIMULATE = "serviceloop trust simulate"
PARAMETERS = "serviceloop trust parameters"


def register(sub: Any) -> None:
    trust = sub.add_parser(
        "trust",
        help="trust per relationship: 'trust simulate FILE|-', 'trust recompute', 'trust parameters'",
        description="Trust per (organisation, service), DOMAIN §5; docs/trust.md explains the model.",
    )
    actions = trust.add_subparsers(dest="trust_action", required=True, metavar="ACTION")

    simulate = actions.add_parser(
        "simulate",
        help="replay a JSON file of evidence (or - for standard input) and print the points as JSON",
        description=(
            'Input: {"parameters": {...optional overrides...}, "events": [{"at": "2026-01-05", "kind": '
            '"week_met"}, ...], "at": ["2026-06-30", ...]}. Prints {"points": [{"at", "trust", "confidence"}], '
            '"majors": [...], "parameters": {...}}. Touches no database. Bad input: a message naming the '
            "event and the field, exit code 2."
        ),
    )
    simulate.add_argument("file", metavar="FILE|-")
    simulate.set_defaults(handler=cmd_trust_simulate)

    recompute = actions.add_parser(
        "recompute",
        help="recompute every trust state from the evidence log (--backfill: first derive missing evidence)",
        description=(
            "Replays the evidence of every (organisation, service) with the current parameters and stores "
            "its state and weekly points. With --backfill it first records the evidence that the existing "
            "tickets, answers, posts and incidents give and the log lacks (idempotent: run it again and "
            "nothing new is written)."
        ),
    )
    recompute.add_argument(
        "--backfill", action="store_true", help="first record the evidence derivable from the existing rows"
    )
    recompute.add_argument("--since", type=_day, metavar="YYYY-MM-DD", help="backfill from this day (with --backfill)")
    recompute.set_defaults(handler=cmd_trust_recompute, trust_parser=recompute)

    parameters = actions.add_parser(
        "parameters",
        help="list the parameter versions and the current values; --adopt FILE.json --note TEXT adds a version",
        description=(
            "Without options: every version (the current one marked *) and the current values against the "
            'defaults. --adopt FILE.json (an object of parameter → number, e.g. {"negativity": 2.5}; the rest '
            "stay the defaults) adopts a new version and recomputes every state with it."
        ),
    )
    parameters.add_argument("--adopt", metavar="FILE.json", help="adopt these overrides as a new version")
    parameters.add_argument("--note", default="", help="why (recorded with the version; required with --adopt)")
    parameters.set_defaults(handler=cmd_trust_parameters, trust_parser=parameters)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a day; write it as YYYY-MM-DD, e.g. 2026-01-31") from None


def _read_json(name: str) -> Any:
    """The JSON document in file `name` (or standard input for "-"); ValueError says what is wrong."""
    try:
        if name == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(name, "rb") as handle:
                raw = handle.read()
    except OSError as error:
        raise ValueError(f"cannot read {name}: {error.strerror or error}") from None
    where = "standard input" if name == "-" else name
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ValueError(f"{where} is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{where} is not JSON: line {error.lineno} column {error.colno}: {error.msg}") from None
    except (ValueError, RecursionError) as error:
        # Numbers of thousands of digits, or nesting deeper than the parser goes.
        raise ValueError(f"{where} is not JSON this command reads: {error}") from None


def cmd_trust_simulate(args: argparse.Namespace) -> int:
    # No setup_django: the engine is pure arithmetic, so this runs without a database or data directory.
    from serviceloop.experience.trust_engine import TrustInputError
    from serviceloop.experience.trust_simulate import simulate

    try:
        document = _read_json(args.file)
        result = simulate(document)
    except TrustInputError as error:
        print(f"{SIMULATE}: {error.message}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"{SIMULATE}: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    return 0


def _bar(desc: str, unit: str) -> Any:
    def wrap(items: Iterable[T], total: int) -> Iterable[T]:
        return progress(items, total=total, desc=desc, unit=unit)

    return wrap


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def cmd_trust_recompute(args: argparse.Namespace) -> int:
    if args.since is not None and not args.backfill:
        args.trust_parser.error("--since applies to --backfill (the states are always recomputed in full)")
    setup_django()
    from serviceloop.experience.trust_states import parameters_current, states_recompute_all

    if args.backfill:
        from serviceloop.experience.trust_evidence import evidence_backfill

        written = evidence_backfill(since=args.since, wrap=_bar("Evidence", " sources"))
        since = f" from {args.since}" if args.since else ""
        print(f"Backfilled the evidence log{since}: {_count(written, 'new row')}.")
    version, _ = parameters_current()
    states = states_recompute_all(wrap=_bar("Trust states", " pairs"))
    print(f"Recomputed {_count(states, 'trust state')} with parameters version {version}.")
    return 0


def cmd_trust_parameters(args: argparse.Namespace) -> int:
    if args.adopt is None and args.note:
        args.trust_parser.error("--note goes with --adopt FILE.json")
    if args.adopt is not None and not args.note.strip():
        args.trust_parser.error("--adopt needs --note TEXT: why this version (it is recorded with it)")
    setup_django()
    if args.adopt is not None:
        return _parameters_adopt(args.adopt, args.note.strip())
    _parameters_print()
    return 0


def _parameters_adopt(name: str, note: str) -> int:
    from serviceloop.core.errors import DomainError
    from serviceloop.experience.trust_engine import TrustInputError
    from serviceloop.experience.trust_states import parameters_adopt

    try:
        values = _read_json(name)
    except ValueError as error:
        print(f"{PARAMETERS}: {error}", file=sys.stderr)
        return 2
    if not isinstance(values, dict):
        print(
            f'{PARAMETERS}: {name} must hold a JSON object of parameter → number, e.g. {{"negativity": 2.5}}',
            file=sys.stderr,
        )
        return 2
    try:
        adopted = parameters_adopt(values=values, note=note, by=None)
    except (DomainError, TrustInputError) as error:
        print(f"{PARAMETERS}: {error.message}", file=sys.stderr)
        return 2
    print(f"Adopted trust parameters version {adopted.version}; every trust state is recomputed with it.")
    return 0


SHOWN_VERSIONS = 20


def _parameters_print() -> None:
    from serviceloop.experience.trust_engine import DEFAULT_PARAMETERS, PARAMETER_NAMES
    from serviceloop.experience.trust_models import TrustParameterSet
    from serviceloop.experience.trust_states import parameters_current

    current, parameters = parameters_current()
    rows = list(TrustParameterSet.objects.select_related("adopted_by").order_by("-version")[: SHOWN_VERSIONS + 1])
    print("Versions (* in use):")
    for row in rows[:SHOWN_VERSIONS]:
        mark = "*" if row.version == current else " "
        by = f" by {row.adopted_by.email}" if row.adopted_by else ""
        changed = ", ".join(f"{k}={v:g}" if isinstance(v, int | float) else f"{k}={v}" for k, v in row.values.items())
        print(f" {mark} v{row.version}  {row.adopted_at:%Y-%m-%d %H:%M} UTC{by}  {changed or 'the defaults'}")
        if row.note:
            print(f"       {row.note}")
    if len(rows) > SHOWN_VERSIONS:
        print(f"   ... older versions not shown (v1 to v{rows[SHOWN_VERSIONS].version})")
    print(f"\nParameters of version {current} (changed from the default: *):")
    width = max(len(name) for name in PARAMETER_NAMES)
    values, defaults = parameters.as_dict(), DEFAULT_PARAMETERS.as_dict()
    for name in PARAMETER_NAMES:
        mark = "*" if values[name] != defaults[name] else " "
        default = "" if mark == " " else f"   (default {defaults[name]:g})"
        print(f" {mark} {name:<{width}}  {values[name]:g}{default}")

"""`serviceloop trust simulate | recompute | parameters`, run as an operator runs them.

simulate: DOMAIN §5's scenarios through the real command in a subprocess with no database reachable
(it must agree with the engine to the point), and every refusal: a message naming the event, its
kind and the field, on stderr, exit code 2. recompute and parameters drive the stored states
(trust_states, trust_evidence) with the evidence log in the test database.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.testing import make_organisation
from serviceloop.catalogue.models import Service
from serviceloop.core.testing import Travel
from serviceloop.experience.tests.test_trust_engine_scenarios import LATER, SCENARIOS, mature_major_good_recovery
from serviceloop.experience.trust_commands import register
from serviceloop.experience.trust_engine import parameters_from, replay
from serviceloop.experience.trust_models import TrustEvidence, TrustParameterSet, TrustState
from serviceloop.experience.trust_simulate import MAX_EVENTS, MAX_POINTS, simulate
from serviceloop.feedback.services.responses import response_record
from serviceloop.feedback.tests.factories_channels import make_service

ROOT = Path(__file__).resolve().parents[3]
NOWHERE = "postgres://nobody@127.0.0.1:9/nowhere"  # nothing listens on port 9: any connection fails


def main(argv: list[str]) -> int:
    """Run a trust subcommand as `serviceloop` would (the app's own register(); apps never import serviceloop.cli)."""
    parser = argparse.ArgumentParser(prog="serviceloop")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args))


def run(*args: str, stdin: str | None = None, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """The command in a fresh process with an operator's environment and no reachable database."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SERVICELOOP_", "DJANGO_"))}
    env = {**clean, "SERVICELOOP_DATABASE_URL": NOWHERE, "SERVICELOOP_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "serviceloop.cli", "trust", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


# -- simulate through the command ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_domain_scenarios_through_the_command_agree_with_the_engine_to_the_point(name: str, tmp_path: Path) -> None:
    document = SCENARIOS[name]()
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(document))
    result = run("simulate", str(path), data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert json.loads(result.stdout) == simulate(document)
    assert result.stdout.startswith('{\n  "points": [\n')  # indented for a reader
    assert not (tmp_path / "data").exists()  # no data directory, no database: pure arithmetic


def test_the_mature_scenario_read_from_standard_input_prints_its_three_points(tmp_path: Path) -> None:
    result = run("simulate", "-", stdin=json.dumps(SCENARIOS["mature_major_no_recovery"]()), data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    points = json.loads(result.stdout)["points"]
    assert [p["at"] for p in points] == ["2025-12-28", "2025-12-29", "2026-01-28"]
    assert points[0]["trust"] == pytest.approx(83, abs=3) and points[1]["trust"] == pytest.approx(65, abs=3)


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("{", "serviceloop trust simulate: standard input is not JSON: line 1 column 2: Expecting property name"),
        ('{"events": [], "at": ["2026-1-5"]}', "at[0]: \"at\" must be a day written YYYY-MM-DD, not '2026-1-5'"),
        (
            '{"events": [{"at": "2026-01-05", "kind": "major_resolved", "id": 7, "communication": 1, "plan": 1}], "at": ["2026-01-05"]}',
            "events[0] (major_resolved).id: no major_incident with id '7'",
        ),
    ],
)
def test_a_refusal_through_the_command_is_one_line_on_stderr_and_exit_2(
    stdin: str, message: str, tmp_path: Path
) -> None:
    result = run("simulate", "-", stdin=stdin, data_dir=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("serviceloop trust simulate: ") and message in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    result = run("simulate", str(tmp_path / "absent.json"), data_dir=tmp_path)
    assert result.returncode == 2
    assert (
        result.stderr
        == f"serviceloop trust simulate: cannot read {tmp_path / 'absent.json'}: No such file or directory\n"
    )


# -- every refusal of the input ----------------------------------------------------------------------------

DAY = "2026-01-05"
MAJOR = {"at": DAY, "kind": "major_incident", "id": "MI-1", "severity": 1}
FIXED = {"at": "2026-01-06", "kind": "major_resolved", "id": "MI-1", "communication": 1, "plan": 1}


def doc(*events: Any, **top: Any) -> dict[str, Any]:
    return {"events": list(events), "at": [DAY], **top}


KINDS = "week_met, positive_answer, negative_answer, negative_post, small_failure, availability_missed, major_incident, major_resolved, review_actions_closed, neutral_answer, ticket_opened"
REFUSALS: list[tuple[str, Any, str]] = [
    ("not an object", [1], 'the input must be a JSON object with "events" and "at"'),
    ("top-level field", doc(points=[]), "unknown top-level field 'points' (expected \"parameters\", \"events\", \"at\")"),
    ("parameters not an object", doc(parameters=[]), '"parameters" must be an object of parameter names and numbers'),
    ("unknown parameter", doc(parameters={"k": 3}), "parameters: unknown parameter 'k' (known: half_life_good_days,"),
    ("parameter not a number", doc(parameters={"prior": "15"}), "parameters.prior: must be a number, not '15'"),
    ("parameter out of bounds", doc(parameters={"recovery_halving": 2}), "parameters.recovery_halving: must be between 0 and 1, not 2"),
    ("severity bounds crossed", doc(parameters={"severity_max": 0.2}), "parameters.severity_min: must not be above severity_max"),
    ("events not a list", {"events": {}, "at": [DAY]}, '"events" must be a list'),
    ("too many events", {"events": [0] * (MAX_EVENTS + 1), "at": [DAY]}, f'"events" holds {MAX_EVENTS + 1} events; at most {MAX_EVENTS}'),
    ("no at", {"events": []}, '"at" must be a non-empty list of days (YYYY-MM-DD) to answer a point for'),
    ("empty at", {"events": [], "at": []}, '"at" must be a non-empty list of days'),
    ("at not a list", {"events": [], "at": DAY}, '"at" must be a non-empty list of days'),
    ("too many points", {"events": [], "at": [DAY] * (MAX_POINTS + 1)}, f'"at" asks for {MAX_POINTS + 1} points; at most {MAX_POINTS}'),
    ("at not a string", {"events": [], "at": [20260105]}, 'at[0]: "at" must be a day written YYYY-MM-DD, not 20260105'),
    ("at not a day", {"events": [], "at": [DAY, "2026-02-30"]}, "at[1]: \"at\" must be a day written YYYY-MM-DD, not '2026-02-30'"),
    ("at in another ISO form", {"events": [], "at": ["2026-W02-1"]}, "at[0]: \"at\" must be a day written YYYY-MM-DD, not '2026-W02-1'"),
    ("event not an object", doc("week_met"), "events[0]: must be an object with \"at\" and \"kind\", not 'week_met'"),
    ("no kind", doc({"at": DAY}), f"events[0].kind: must be one of {KINDS}, not None"),
    ("unknown kind", doc({"at": DAY, "kind": "outage"}), f"events[0].kind: must be one of {KINDS}, not 'outage'"),
    ("kind a list", doc({"at": DAY, "kind": ["week_met"]}), f"events[0].kind: must be one of {KINDS}, not ['week_met']"),
    ("event day", doc({"at": DAY, "kind": "week_met"}, {"at": "05/01/2026", "kind": "small_failure"}), "events[1] (small_failure): \"at\" must be a day written YYYY-MM-DD, not '05/01/2026'"),
    ("event without a day", doc({"kind": "week_met"}), 'events[0] (week_met): "at" must be a day written YYYY-MM-DD, not None'),
    ("extra field", doc({"at": DAY, "kind": "small_failure", "weight": 2}), "events[0] (small_failure).weight: not a field of small_failure (its fields: at, kind, label, opened, ticket)"),
    ("id on a plain kind", doc({"at": DAY, "kind": "week_met", "id": 1}), "events[0] (week_met).id: not a field of week_met (its fields: at, kind, label, share)"),
    ("no severity", doc({**MAJOR, "severity": None}), "events[0] (major_incident).severity: required"),
    ("severity not a number", doc({**MAJOR, "severity": "high"}), "events[0] (major_incident).severity: must be a number, not 'high'"),
    ("severity out of range", doc({**MAJOR, "severity": 3}), "events[0] (major_incident).severity: must be between 0.5 and 2, not 3"),
    ("severity in the overridden range", doc({**MAJOR, "severity": 3}, parameters={"severity_max": 2.5}), "events[0] (major_incident).severity: must be between 0.5 and 2.5, not 3"),
    ("no communication", doc(MAJOR, {k: v for k, v in FIXED.items() if k != "communication"}), "events[1] (major_resolved).communication: required"),
    ("no plan", doc(MAJOR, {k: v for k, v in FIXED.items() if k != "plan"}), "events[1] (major_resolved).plan: required"),
    ("communication a bool", doc(MAJOR, {**FIXED, "communication": True}), "events[1] (major_resolved).communication: must be a number, not True"),
    ("plan out of range", doc(MAJOR, {**FIXED, "plan": 1.5}), "events[1] (major_resolved).plan: must be between 0 and 1, not 1.5"),
    ("share out of range", doc({"at": DAY, "kind": "week_met", "share": -0.1}), "events[0] (week_met).share: must be between 0 and 1, not -0.1"),
    ("share not finite", doc({"at": DAY, "kind": "week_met", "share": float("inf")}), "events[0] (week_met).share: must be a number, not inf"),
    ("share too long", doc({"at": DAY, "kind": "week_met", "share": 10**400}), "events[0] (week_met).share: must be a number, not 1000"),
    ("no share of actions", doc(MAJOR, FIXED, {"at": DAY, "kind": "review_actions_closed", "id": "MI-1"}), "events[2] (review_actions_closed).share: required"),
    ("no id", doc({k: v for k, v in MAJOR.items() if k != "id"}), "events[0] (major_incident).id: required, the major incident's id (a string or a number)"),
    ("empty id", doc({**MAJOR, "id": ""}), "events[0] (major_incident).id: required"),
    ("id a bool", doc({**MAJOR, "id": True}), "events[0] (major_incident).id: required"),
    ("id a list", doc({**MAJOR, "id": [1]}), "events[0] (major_incident).id: required"),
    ("label not a string", doc({"at": DAY, "kind": "week_met", "label": 5}), "events[0] (week_met).label: must be a string"),
    ("declared twice", doc(MAJOR, {**MAJOR, "at": "2026-02-01"}), "events[1] (major_incident).id: major incident 'MI-1' is already in events"),
    ("resolved, never declared", doc(FIXED), "events[0] (major_resolved).id: no major_incident with id 'MI-1'"),
    ("resolved before it began", doc(MAJOR, {**FIXED, "at": "2026-01-04"}), "events[1] (major_resolved).id: resolved on 2026-01-04 before the incident began on 2026-01-05"),
    ("resolved twice", doc(MAJOR, FIXED, FIXED), "events[2] (major_resolved).id: major incident 'MI-1' is already resolved"),
    ("actions of an unresolved incident", doc(MAJOR, {"at": DAY, "kind": "review_actions_closed", "id": "MI-1", "share": 1}), "events[1] (review_actions_closed).id: no major_resolved for major incident 'MI-1'"),
    ("actions before the resolution", doc(MAJOR, FIXED, {"at": DAY, "kind": "review_actions_closed", "id": "MI-1", "share": 1}), "events[2] (review_actions_closed).id: actions closed on 2026-01-05 before the incident was resolved on 2026-01-06"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "document", "message"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_every_refusal_names_the_event_its_kind_and_the_field_and_exits_2(
    name: str, document: Any, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    path = tmp_path / "input.json"
    path.write_text(json.dumps(document))
    assert main(["trust", "simulate", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"serviceloop trust simulate: {message}"), captured.err
    assert len(captured.err) < 600  # one readable line, whatever was sent


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff\xfe{}", "is not UTF-8 text"),
        (b"", "is not JSON: line 1 column 1: Expecting value"),
        (b'{"events": [], "at": ["2026-01-05"]} trailing', "is not JSON: line 1 column 38: Extra data"),
        (b"[" * 100_000 + b"]" * 100_000, "is not JSON this command reads"),
        (b'{"at": [1' + b"0" * 5000 + b"]}", "is not JSON this command reads"),
    ],
    ids=["latin", "empty", "trailing", "deep", "digits"],
)
def test_input_that_is_not_json_is_refused_with_exit_2(
    raw: bytes, message: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    assert main(["trust", "simulate", "-"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"serviceloop trust simulate: standard input {message}"), err
    assert len(err) < 600


def test_a_byte_order_mark_is_fine(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "excel.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"events": [], "at": [DAY]}).encode())
    assert main(["trust", "simulate", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["points"] == [{"at": DAY, "trust": 50.0, "confidence": 0.0}]


def docs_simulate_example() -> tuple[dict[str, Any], dict[str, Any], str]:
    """docs/trust.md's worked example: its input, its (shortened) output, and its refusal line."""
    text = (ROOT / "docs" / "trust.md").read_text()
    section = text.split("\n## Simulate\n", 1)[1].split("\n## ", 1)[0]
    blocks = [block.split("\n", 1)[1] for block in section.split("```")[1::2]]
    refusal = next(line for line in blocks[2].splitlines() if line.startswith("serviceloop trust simulate: "))
    return json.loads(blocks[0]), json.loads(blocks[1]), refusal


def test_the_worked_example_in_the_docs_is_what_the_command_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    document, shown, refusal = docs_simulate_example()
    path = tmp_path / "example.json"
    path.write_text(json.dumps(document))
    assert main(["trust", "simulate", str(path)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["points"], printed["majors"]) == (shown["points"], shown["majors"])
    assert {k: v for k, v in shown["parameters"].items() if k != "..."}.items() <= printed["parameters"].items()
    # The refusal the docs show: communication 1.2 in the fourth event.
    document["events"][3]["communication"] = 1.2
    path.write_text(json.dumps(document))
    assert main(["trust", "simulate", str(path)]) == 2
    assert capsys.readouterr().err == refusal + "\n"


def test_trust_explains_itself() -> None:
    for action in ("simulate", "recompute", "parameters"):
        with pytest.raises(SystemExit) as exit_:
            main(["trust", action, "--help"])
        assert exit_.value.code == 0


# -- recompute and parameters: the stored states -----------------------------------------------------------


def store(document: dict[str, Any], organisation: Organisation, service: Service) -> None:
    """A simulate document's events as evidence rows of one pair (as trust_evidence writes them)."""
    for index, event in enumerate(document["events"]):
        day = date.fromisoformat(event["at"])
        incident = str(event.get("id", ""))
        TrustEvidence.objects.create(
            organisation=organisation,
            service=service,
            day=day,
            occurred_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
            kind=event["kind"],
            share=event.get("share"),
            severity=event.get("severity"),
            communication=event.get("communication"),
            plan=event.get("plan"),
            incident_key=incident,
            source_type="tests",
            key=f"tests:{organisation.pk}:{service.pk}:{index}",
            label=f"major incident {incident}" if incident else event["kind"],
        )


@pytest.fixture
def pair(db: Any, sam: User, travel: Travel) -> tuple[Organisation, Service]:
    travel.to(datetime(LATER.year, LATER.month, LATER.day, 12, tzinfo=UTC))
    return make_organisation("Acme"), make_service("Payroll", manager=sam)


def test_recompute_replays_every_pair_from_the_log_and_agrees_with_simulate(
    pair: tuple[Organisation, Service], capsys: Any
) -> None:
    document = mature_major_good_recovery()
    store(document, *pair)
    assert main(["trust", "recompute"]) == 0
    assert capsys.readouterr().out == "Recomputed 1 trust state with parameters version 1.\n"
    state = TrustState.objects.get()
    expected = simulate({**document, "at": [LATER.isoformat()]})["points"][0]
    assert (state.as_of, state.parameters_version) == (LATER, 1)
    assert state.trust == pytest.approx(expected["trust"], abs=0.05)
    assert state.confidence == pytest.approx(expected["confidence"], abs=0.005)


def test_recompute_with_backfill_derives_the_missing_evidence_once(
    pair: tuple[Organisation, Service], capsys: Any
) -> None:
    organisation, service = pair
    response_record(
        service=service,
        organisation=organisation,
        happiness=10,
        responded_at=datetime.combine(LATER - timedelta(days=2), time(9), tzinfo=UTC),
    )
    assert main(["trust", "recompute", "--backfill", "--since", "2026-01-01"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Backfilled the evidence log from 2026-01-01: ") and out.endswith(
        " new row.\nRecomputed 1 trust state with parameters version 1.\n"
    )
    assert TrustEvidence.objects.filter(kind="positive_answer", organisation=organisation).count() == 1
    assert TrustState.objects.get().trust > 50
    assert main(["trust", "recompute", "--backfill"]) == 0
    assert capsys.readouterr().out.startswith("Backfilled the evidence log: 0 new rows.\n")


def test_recompute_refuses_since_without_backfill(capsys: Any) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["trust", "recompute", "--since", "2026-01-01"])
    assert exit_.value.code == 2
    assert "--since applies to --backfill" in capsys.readouterr().err


def test_parameters_lists_the_versions_adopts_one_and_every_state_records_it(
    pair: tuple[Organisation, Service], tmp_path: Path, capsys: Any
) -> None:
    document = mature_major_good_recovery()
    store(document, *pair)
    assert main(["trust", "parameters"]) == 0
    out = capsys.readouterr().out
    assert " * v1  " in out and "the defaults" in out
    assert " * negativity" not in out and "   negativity" in out

    path = tmp_path / "softer.json"
    path.write_text('{"negativity": 2.5}')
    assert main(["trust", "parameters", "--adopt", str(path), "--note", "softer on bad news"]) == 0
    assert capsys.readouterr().out.startswith("Adopted trust parameters version 2;")
    version = TrustParameterSet.objects.get(version=2)
    assert (version.values, version.note) == ({"negativity": 2.5}, "softer on bad news")
    state = TrustState.objects.get()
    assert state.parameters_version == 2
    rows = simulate({**document, "parameters": {"negativity": 2.5}, "at": [LATER.isoformat()]})["points"][0]
    assert state.trust == pytest.approx(rows["trust"], abs=0.05)

    assert main(["trust", "parameters"]) == 0
    out = capsys.readouterr().out
    assert " * v2  " in out and "negativity=2.5" in out and "softer on bad news" in out and "   v1  " in out
    assert " * negativity" in out and "2.5   (default 3)" in out


def test_parameters_refuses_a_bad_file_or_a_missing_note(
    pair: tuple[Organisation, Service], tmp_path: Path, capsys: Any
) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"negativity": "high"}')
    assert main(["trust", "parameters", "--adopt", str(path), "--note", "try"]) == 2
    assert "negativity" in capsys.readouterr().err
    path.write_text("[1, 2]")
    assert main(["trust", "parameters", "--adopt", str(path), "--note", "try"]) == 2
    assert "must hold a JSON object" in capsys.readouterr().err
    assert main(["trust", "parameters", "--adopt", str(tmp_path / "absent.json"), "--note", "try"]) == 2
    assert "cannot read" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["trust", "parameters", "--adopt", str(path)])
    assert exit_.value.code == 2
    assert "--adopt needs --note" in capsys.readouterr().err
    assert not TrustParameterSet.objects.filter(version__gt=1).exists()


def test_replay_of_the_stored_rows_is_the_engine_replay(pair: tuple[Organisation, Service]) -> None:
    # The rows `store` writes are the scenario's: the engine reads them back to the same point.
    from serviceloop.experience.trust_engine import Evidence

    document = mature_major_good_recovery()
    store(document, *pair)
    rows = [
        Evidence(
            at=e.day, kind=e.kind, share=e.share, severity=e.severity, incident=e.incident_key or None,
            communication=e.communication, plan=e.plan, key=str(e.pk),
        )
        for e in TrustEvidence.objects.all()
    ]  # fmt: skip
    got = replay(rows, [LATER], parameters_from(None)).points[0]
    assert got.trust == simulate({**document, "at": [LATER.isoformat()]})["points"][0]["trust"]

"""DOMAIN §5's stories, replayed by the engine, each within ±3 points of what DOMAIN says.

The scenarios are simulate documents (the JSON `serviceloop trust simulate` reads), so the very same
input runs through the command (test_trust_cli.py) and can be stored as evidence rows to compare
with the stored states: `SCENARIOS[name]()` gives the document, `ASK` names its points.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from serviceloop.experience.trust_simulate import simulate

FIRST_SUNDAY = date(2024, 1, 7)  # the relationship's first week ends here
MATURE = 104  # two years of weeks with the targets met
MAJOR_DAY = FIRST_SUNDAY + timedelta(weeks=MATURE - 1, days=1)  # the Monday after: 2025-12-29
LATER = MAJOR_DAY + timedelta(days=30)  # the review's actions close, and we look again


def day(value: date) -> str:
    return value.isoformat()


def weeks(first: date, count: int) -> list[dict[str, Any]]:
    """A week with every target met, each Sunday from `first`."""
    return [{"at": day(first + timedelta(weeks=i)), "kind": "week_met"} for i in range(count)]


def major(identifier: str, at: date, severity: float = 1.0) -> dict[str, Any]:
    return {"at": day(at), "kind": "major_incident", "id": identifier, "severity": severity}


def resolved(identifier: str, at: date, communication: float = 1.0, plan: float = 1.0) -> dict[str, Any]:
    return {"at": day(at), "kind": "major_resolved", "id": identifier, "communication": communication, "plan": plan}


def closed(identifier: str, at: date, share: float = 1.0) -> dict[str, Any]:
    return {"at": day(at), "kind": "review_actions_closed", "id": identifier, "share": share}


def mature_major_no_recovery() -> dict[str, Any]:
    # The weeks go on being met around the incident (five more Sundays): only the incident moves trust.
    events = [*weeks(FIRST_SUNDAY, MATURE + 5), major("MI-1", MAJOR_DAY)]
    return {"events": events, "at": [day(MAJOR_DAY - timedelta(days=1)), day(MAJOR_DAY), day(LATER)]}


def mature_major_good_recovery() -> dict[str, Any]:
    document = mature_major_no_recovery()
    document["events"] += [resolved("MI-1", MAJOR_DAY + timedelta(days=1)), closed("MI-1", LATER)]
    return document


def twelve_small_failures() -> dict[str, Any]:
    failures = [{"at": day(MAJOR_DAY + timedelta(weeks=i)), "kind": "small_failure"} for i in range(12)]
    events = [*weeks(FIRST_SUNDAY, MATURE + 12), *failures]
    return {"events": events, "at": [day(MAJOR_DAY - timedelta(days=1)), day(MAJOR_DAY + timedelta(weeks=11))]}


NEW_WEEKS = 8
NEW_MAJOR_DAY = FIRST_SUNDAY + timedelta(weeks=NEW_WEEKS - 1, days=1)  # two months in: 2024-02-26


def new_relationship_major() -> dict[str, Any]:
    events = [*weeks(FIRST_SUNDAY, NEW_WEEKS), major("MI-1", NEW_MAJOR_DAY)]
    return {"events": events, "at": [day(NEW_MAJOR_DAY - timedelta(days=1)), day(NEW_MAJOR_DAY)]}


SECOND_DAY = MAJOR_DAY + timedelta(days=31)


def two_majors_a_month_apart() -> dict[str, Any]:
    events = [
        *weeks(FIRST_SUNDAY, MATURE + 10),
        major("MI-1", MAJOR_DAY),
        resolved("MI-1", MAJOR_DAY + timedelta(days=1)),
        major("MI-2", SECOND_DAY),
        resolved("MI-2", SECOND_DAY + timedelta(days=1)),
    ]
    return {"events": events, "at": [day(SECOND_DAY + timedelta(days=7))]}


def a_year_of_met_weeks() -> dict[str, Any]:
    return {
        "events": weeks(FIRST_SUNDAY, 52),
        "at": [day(FIRST_SUNDAY - timedelta(days=1)), day(FIRST_SUNDAY + timedelta(weeks=51))],
    }


SCENARIOS: dict[str, Callable[[], dict[str, Any]]] = {
    "mature_major_no_recovery": mature_major_no_recovery,
    "mature_major_good_recovery": mature_major_good_recovery,
    "twelve_small_failures": twelve_small_failures,
    "new_relationship_major": new_relationship_major,
    "two_majors_a_month_apart": two_majors_a_month_apart,
    "a_year_of_met_weeks": a_year_of_met_weeks,
}


def trust(document: dict[str, Any]) -> list[float]:
    return [point["trust"] for point in simulate(document)["points"]]


def test_a_mature_relationship_drops_from_about_83_to_about_65_after_a_major_incident() -> None:
    before, after, later = trust(mature_major_no_recovery())
    assert before == pytest.approx(83, abs=3)
    assert after == pytest.approx(65, abs=3)
    assert later == pytest.approx(65, abs=3)  # no recovery: a month of met weeks barely moves it


def test_good_communication_a_plan_and_closed_actions_earn_back_about_half() -> None:
    before, after, later = trust(mature_major_good_recovery())
    _, _, unrecovered = trust(mature_major_no_recovery())
    assert after == pytest.approx(65, abs=3)  # the drop is the same: credit comes at resolution
    assert later == pytest.approx((before + after) / 2, abs=3)
    assert later > unrecovered + 5


def test_twelve_weekly_small_failures_bring_83_down_to_about_71() -> None:
    before, after = trust(twelve_small_failures())
    assert before == pytest.approx(83, abs=3)
    assert after == pytest.approx(71, abs=3)


def test_a_major_incident_in_the_first_months_loses_more() -> None:
    before, after = trust(new_relationship_major())
    mature_before, mature_after, _ = trust(mature_major_no_recovery())
    assert before == pytest.approx(60, abs=3)  # two months of met weeks: from 50 to about 60
    assert before - after > (mature_before - mature_after) + 3
    assert after < 40


def test_of_two_majors_a_month_apart_the_second_earns_half_the_credit() -> None:
    first, second = simulate(two_majors_a_month_apart())["majors"]
    assert (first["rho"], second["rho"]) == (0.5, 0.25)
    assert second["credit_earned"] == pytest.approx(first["credit_earned"] / 2)
    assert second["credit_pending"] == pytest.approx(first["credit_pending"] / 2)


def test_growth_from_50_to_the_high_70s_takes_about_a_year() -> None:
    start, year = trust(a_year_of_met_weeks())
    assert start == 50.0
    assert 75 <= year <= 80

"""Tallies: the sufficient statistics every experience metric is computed from.

A metric never reads raw rows itself. It reads a `Tally`: counts of (measure, value) pairs for one
group (a service, a week, an organisation …). Two sources produce tallies with the same meaning:
a recount of the raw rows (the truth, used to rebuild and to check) and the rollup table (kept
current from the events, what pages read). Because both answer the same counts, a metric is defined
once, and "the rollups equal a recomputation" is one comparison of tallies.

Measures and their values (the value is always a string):

| measure | values | counted per |
|---|---|---|
| `responses` | `""` | response |
| `csat`, `happiness`, `nps`, `ces` | the score, `"0"` … `"10"` | response with that score |
| `lost_time` | a `feedback.LostTime` code (`none`, `lt30`, …) | response with a bucket |
| `driver` | a `feedback.Driver` code | driver named by a response (several per response) |
| `sentiment` | `positive`, `neutral`, `negative` | response with a sentiment label |
| `invitation` | `sent`, `answered` | invitation (answered: it has a response) |
| `suppressed` | a `SuppressedInvitation.Reason` code | suppressed invitation |
| `post_sentiment` | `positive`, `neutral`, `negative` | post matched to the service, with a label |
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from serviceloop.core.errors import InvalidInput

MEASURES = (
    "responses",
    "csat",
    "happiness",
    "nps",
    "ces",
    "lost_time",
    "driver",
    "sentiment",
    "invitation",
    "suppressed",
    "post_sentiment",
)


@dataclass
class Tally:
    """Counts of (measure, value) for one group; missing pairs count 0."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, measure: str, value: str, count: int = 1) -> None:
        self.counts[(measure, value)] += count

    def of(self, measure: str) -> dict[str, int]:
        """value → count of one measure (only values seen)."""
        return {value: n for (m, value), n in self.counts.items() if m == measure and n}

    def total(self, measure: str) -> int:
        return sum(n for (m, _value), n in self.counts.items() if m == measure)

    def merged(self, other: Tally) -> Tally:
        return Tally(self.counts + other.counts)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tally):
            return NotImplemented
        return +self.counts == +other.counts  # unary + drops zero and negative counts

    @classmethod
    def of_pairs(cls, pairs: Iterable[tuple[str, str, int]]) -> Tally:
        tally = cls()
        for measure, value, count in pairs:
            tally.add(measure, value, count)
        return tally


@dataclass(frozen=True)
class Scope:
    """Which rows a tally counts: every filter optional (None = all); `since`/`until` are days, inclusive.

    Ids are primary keys (the API translates public ids at the edge). Days are calendar days in the
    project's time zone (settings.TIME_ZONE) of the moment answered / sent / posted.
    """

    service_ids: tuple[int, ...] | None = None
    offering_ids: tuple[int, ...] | None = None
    organisation_ids: tuple[int, ...] | None = None
    channels: tuple[str, ...] | None = None
    ticket_types: tuple[str, ...] | None = None  # the type of the response's ticket; "" = no ticket
    since: date | None = None
    until: date | None = None


# A grouping key: the dimensions asked for (e.g. ("service", "week")), and a tally per key.
GROUP_DIMENSIONS = ("service", "offering", "organisation", "channel", "ticket_type", "day", "week", "month")
Grouped = Mapping[tuple[object, ...], Tally]

# More groups than this is no longer a view anyone reads: the answer asks to narrow the period or grouping.
# Read by api.compute (after computing, over every source) and desk_metrics (before computing, counted).
MAX_GROUPS = 5000


def check_groups(count: int, *, exact: bool = True) -> None:
    """InvalidInput "too_many_groups" (422) when a grouping has more than MAX_GROUPS groups.

    `exact=False`: `count` is a lower bound (the keys were counted only up to the limit).
    """
    if count > MAX_GROUPS:
        counted = f"{count} groups, more" if exact else "more groups"
        raise InvalidInput(
            "too_many_groups",
            f"group_by: {counted} than {MAX_GROUPS}; narrow the period (from, to) or the grouping.",
            field="group_by",
        )

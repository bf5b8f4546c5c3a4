"""Lost time per driver and in money: each organisation's hourly cost, a group's tally split by it.

Lost time in money is lost minutes × the hourly cost of the answer's organisation / 60: its own
(`accounts.Organisation.hourly_cost`), else the provider default (SERVICELOOP_HOURLY_COST); answers
without an organisation (public widget, QR) at the default. So a group of several organisations —
a service, a driver, a month — is priced per organisation and then summed: `priced_from_rollups`
reads the lost-time counts of each group split by organisation (one query on the rollups, the lost
time measures only) and merges them per hourly cost into `Priced`, which the money metrics of
experience/metrics.py read. Decimal throughout; the figure's value is the only float.

Lost time per driver (`driver_lost_time`, `driver_lost_cost`): an answer with a lost-time bucket
counts its whole lost time for every driver it names (it does not say how to split it), so the
drivers' minutes may add up to more than the total lost time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal
from typing import cast

from serviceloop.accounts.models import Organisation, provider_hourly_cost
from serviceloop.experience.metrics import COST_MEASURES, METRICS, Priced, money, weighted
from serviceloop.experience.rollups import tally_from_rollups
from serviceloop.experience.tally import Scope, Tally
from serviceloop.feedback.models import Driver


def hourly_costs(organisation_ids: Collection[int | None]) -> dict[int, Decimal]:
    """The organisations' own hourly costs (those that have one); the others cost the provider default."""
    ids = [pk for pk in organisation_ids if pk is not None]
    if not ids:
        return {}
    rows = Organisation.objects.filter(pk__in=ids, hourly_cost__isnull=False).values_list("pk", "hourly_cost")
    return {pk: cost for pk, cost in rows if cost is not None}


def priced(
    by_organisation: Mapping[int | None, Tally], own_costs: Mapping[int, Decimal]
) -> list[tuple[Decimal, Tally]]:
    """A group's tallies per organisation (None: no organisation) merged per hourly cost, cheapest first;
    an organisation without its own cost, and answers without an organisation, at the provider default."""
    default = provider_hourly_cost()
    parts: dict[Decimal, Tally] = {}
    for organisation_id, tally in by_organisation.items():
        cost = own_costs.get(organisation_id, default) if organisation_id is not None else default
        parts[cost] = parts[cost].merged(tally) if cost in parts else tally
    return sorted(parts.items(), key=lambda part: part[0])


def priced_from_rollups(scope: Scope, group_by: Sequence[str]) -> dict[tuple[object, ...], list[tuple[Decimal, Tally]]]:
    """Every group's lost-time tallies (keys as `tally_from_rollups(scope, group_by)`), split by hourly cost."""
    group_by = tuple(group_by)
    with_organisation = group_by if "organisation" in group_by else (*group_by, "organisation")
    position = with_organisation.index("organisation")
    tallies = tally_from_rollups(scope, with_organisation, measures=COST_MEASURES)
    by_group: dict[tuple[object, ...], dict[int | None, Tally]] = defaultdict(dict)
    for key, tally in tallies.items():
        organisation_id = cast(int | None, key[position])
        group = key if "organisation" in group_by else key[:position]
        by_group[group][organisation_id] = tally
    own = hourly_costs({cast(int | None, key[position]) for key in tallies})
    return {group: priced(parts, own) for group, parts in by_group.items()}


def driver_lost_time(tally: Tally) -> dict[str, tuple[int, int]]:
    """Lost time per driver: driver code → (total minutes, answers naming it with a lost-time bucket)."""
    result: dict[str, tuple[int, int]] = {}
    for code in Driver.values:
        minutes, n = weighted(METRICS[f"lost_time_driver_{code}"], tally)
        result[str(code)] = (int(minutes), n)
    return result


def driver_lost_cost(parts: Priced) -> dict[str, tuple[Decimal, int]]:
    """Lost time in money per driver: driver code → (amount to the cent, answers naming it with a bucket)."""
    return {str(code): money(f"lost_cost_driver_{code}", parts) for code in Driver.values}

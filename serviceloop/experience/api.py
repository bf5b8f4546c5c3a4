"""The experience API: figures of every metric for a scope, grouped (GET /api/experience/metrics, and .csv).

Staff see every organisation; a customer user sees their own organisation only: the organisation
filter is forced to theirs, and naming another organisation answers 404 (as a row they may not see).
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from serviceloop.accounts.models import Organisation
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core.csvsafe import safe_row
from serviceloop.core.errors import InvalidInput
from serviceloop.core.schemas import BoundedDate, ErrorOut
from serviceloop.core.visibility import is_staff_viewer
from serviceloop.desk.models import Ticket
from serviceloop.experience import tally as tally_limits
from serviceloop.experience.desk_metrics import desk_figure, desk_figures
from serviceloop.experience.lost_time import priced_from_rollups
from serviceloop.experience.metrics import (
    COST_METRICS,
    DESK_METRICS,
    METRICS,
    TALLY_METRICS,
    Figure,
    figures,
    measures_of,
    min_sample,
)
from serviceloop.experience.rollups import rollup_group_count, tally_from_rollups
from serviceloop.experience.tally import GROUP_DIMENSIONS, Scope, Tally, check_groups
from serviceloop.experience.trust_api import router as trust_router
from serviceloop.experience.xla_api import router as xla_router
from serviceloop.feedback.models import Channel

router = Router(tags=["experience"])
router.add_router("/xlas", xla_router)
router.add_router("/trust", trust_router)

CHANNELS = (*Channel.values, "social", *(value for value in Ticket.Channel.values if value not in Channel.values))
TICKET_TYPES = (*Ticket.Type.values, "none")  # "none": responses without a ticket
MAX_IDS = 100


class MetricsQuery(Schema):
    service: list[str] = Field(default_factory=list, description="Service public ids (repeatable)")
    offering: list[str] = Field(default_factory=list, description="Offering public ids (repeatable)")
    organisation: list[str] = Field(default_factory=list, description="Organisation public ids (repeatable)")
    channel: list[str] = Field(default_factory=list, description=f"Channels: {', '.join(CHANNELS)}")
    ticket_type: list[str] = Field(default_factory=list, description=f"Ticket types: {', '.join(TICKET_TYPES)}")
    from_: BoundedDate | None = Field(None, alias="from", description="First day (inclusive, project time zone)")
    to: BoundedDate | None = Field(None, description="Last day (inclusive)")
    group_by: list[str] = Field(
        default_factory=list, description=f"Dimensions, comma-separated or repeated: {', '.join(GROUP_DIMENSIONS)}"
    )
    metrics: list[str] = Field(
        default_factory=list, description="Metric names, comma-separated or repeated; default all"
    )

    model_config = {"populate_by_name": True}


class FigureOut(Schema):
    metric: str
    label: str
    value: float | None = Field(description="null: not enough data (n below min_sample)")
    n: int
    interval: list[float] | None = Field(description="95% interval [low, high] in the unit, or null")
    unit: str
    enough: bool


class MetricsGroupOut(Schema):
    key: dict[str, str | None] = Field(description="The group's value of each dimension asked for")
    figures: list[FigureOut]


class MetricsOut(Schema):
    groups: list[MetricsGroupOut]
    min_sample: int


def _split(values: list[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _ids(model: Any, public_ids: list[str], parameter: str) -> tuple[int, ...] | None:
    if not public_ids:
        return None
    if len(public_ids) > MAX_IDS:
        raise InvalidInput("invalid", f"{parameter}: at most {MAX_IDS} ids.", field=parameter)
    found = dict(model.objects.filter(public_id__in=public_ids).values_list("public_id", "pk"))
    unknown = [public_id for public_id in public_ids if public_id not in found]
    if unknown:
        raise InvalidInput("unknown", f"{parameter}: no {parameter} with the id {unknown[0]}.", field=parameter)
    return tuple(found[public_id] for public_id in public_ids)


def _choices(values: list[str], allowed: tuple[str, ...], parameter: str) -> list[str]:
    for value in values:
        if value not in allowed:
            raise InvalidInput(
                "invalid", f"{parameter}: {value!r} is not one of {', '.join(allowed)}.", field=parameter
            )
    return values


def _organisations(request: HttpRequest, public_ids: list[str]) -> tuple[int, ...] | None:
    if is_staff_viewer(request.user):
        return _ids(Organisation, public_ids, "organisation")
    own = getattr(request.user, "organisation_id", None)
    if own is None:
        raise PermissionDenied("Only staff and customer users of an organisation see experience figures.")
    if public_ids:
        theirs = Organisation.objects.filter(pk=own).values_list("public_id", flat=True).first()
        if any(public_id != theirs for public_id in public_ids):
            raise Http404("No such organisation.")
    return (own,)


def parse(request: HttpRequest, query: MetricsQuery) -> tuple[Scope, list[str], list[str]]:
    """The scope, grouping and metric names of a request, or InvalidInput naming the parameter."""
    if query.from_ and query.to and query.from_ > query.to:
        raise InvalidInput("invalid", "from: the first day is after the last day (to).", field="from")
    group_by = _choices(_split(query.group_by), GROUP_DIMENSIONS, "group_by")
    if len(set(group_by)) != len(group_by):
        raise InvalidInput("invalid", "group_by: a dimension is named twice.", field="group_by")
    names = _choices(_split(query.metrics), tuple(METRICS), "metrics") or list(METRICS)
    channels = _choices(_split(query.channel), CHANNELS, "channel")
    types = _choices(_split(query.ticket_type), TICKET_TYPES, "ticket_type")
    scope = Scope(
        service_ids=_ids(Service, _split(query.service), "service"),
        offering_ids=_ids(Offering, _split(query.offering), "offering"),
        organisation_ids=_organisations(request, _split(query.organisation)),
        channels=tuple(channels) or None,
        ticket_types=tuple("" if value == "none" else value for value in types) or None,
        since=query.from_,
        until=query.to,
    )
    return scope, group_by, list(dict.fromkeys(names))


def compute(scope: Scope, group_by: list[str], names: list[str]) -> list[tuple[dict[str, str | None], list[Figure]]]:
    """Every group's figures, in the order of the metrics asked for; with no grouping, one group.

    Survey figures are read from the rollups (experience/rollups.py), never from the raw rows; the
    groups are counted first (the rollups' distinct keys, and the desk's), so a grouping of more than
    MAX_GROUPS answers 422 before anything is summed. Lost time in money reads the lost-time counts once
    more, split by organisation, to price each at its organisation's hourly cost (experience/lost_time.py).
    """
    tally_names = [name for name in names if name in TALLY_METRICS]
    cost_names = [name for name in names if name in COST_METRICS]
    if group_by and (tally_names or cost_names):
        check_groups(rollup_group_count(scope, group_by, limit=tally_limits.MAX_GROUPS), exact=False)
    # The desk counts its own groups and refuses too many before computing anything.
    desk = desk_figures(scope, group_by, [name for name in names if name in DESK_METRICS])
    tallies = tally_from_rollups(scope, group_by, measures=measures_of(tally_names)) if tally_names else {}
    prices = priced_from_rollups(scope, group_by) if cost_names else {}
    keys = set(tallies) | set(prices) | set(desk)
    if not group_by:
        keys = {()}
    check_groups(len(keys))  # each source counted its own groups; this is their union
    shown = _key_names(group_by, keys)
    groups = []
    empty = desk_figures_empty(names)
    for key in sorted(keys, key=_order):
        tally = tallies.get(key, Tally())
        by_name = dict(zip(tally_names, figures(tally_names, tally), strict=True))
        by_name.update(zip(cost_names, figures(cost_names, tally, prices.get(key, [])), strict=True))
        by_name.update(desk.get(key, empty))
        groups.append((shown(key), [by_name[name] for name in names]))
    return groups


def _order(key: tuple[object, ...]) -> tuple[tuple[bool, Any], ...]:
    # None (no offering, no organisation) first; the values of one dimension are all of one type.
    return tuple((True, part) if part is not None else (False, "") for part in key)


def desk_figures_empty(names: list[str]) -> dict[str, Figure]:
    return {name: desk_figure(name, {}) for name in names if name in DESK_METRICS}


def _key_names(group_by: list[str], keys: set[tuple[object, ...]]) -> Any:
    """A function from a key tuple to {dimension: public id / string / ISO day}."""
    lookups: dict[str, dict[object, str]] = {}
    for position, name in enumerate(group_by):
        model: Any = {"service": Service, "offering": Offering, "organisation": Organisation}.get(name)
        if model is not None:
            pks = {key[position] for key in keys if key[position] is not None}
            lookups[name] = dict(model.objects.filter(pk__in=pks).values_list("pk", "public_id"))

    def shown(key: tuple[object, ...]) -> dict[str, str | None]:
        result: dict[str, str | None] = {}
        for name, part in zip(group_by, key, strict=True):
            if part is None:
                result[name] = None
            elif name in lookups:
                result[name] = lookups[name].get(part)
            elif isinstance(part, date):
                result[name] = part.isoformat()
            else:
                result[name] = str(part) if part != "" else None
        return result

    return shown


@router.get(
    "/metrics",
    response={200: MetricsOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Experience and desk figures for a scope, grouped (staff: all; customers: their organisation)",
)
def metrics(request: HttpRequest, query: Query[MetricsQuery]) -> dict[str, Any]:  # type: ignore[type-arg]
    scope, group_by, names = parse(request, query)
    groups = compute(scope, group_by, names)
    return {
        "groups": [{"key": key, "figures": [figure.as_dict() for figure in shown]} for key, shown in groups],
        "min_sample": min_sample(),
    }


CSV_RESPONSE = {
    "200": {
        "description": "One row per group and figure",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


@router.get(
    "/metrics.csv",
    response={401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="The same figures as CSV, one row per group and figure",
    openapi_extra={"responses": CSV_RESPONSE},
)
def metrics_csv(request: HttpRequest, query: Query[MetricsQuery]) -> HttpResponse:  # type: ignore[type-arg]
    scope, group_by, names = parse(request, query)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*group_by, "metric", "label", "value", "n", "interval_low", "interval_high", "unit", "enough"])
    for key, shown in compute(scope, group_by, names):
        for figure in shown:
            low, high = figure.interval if figure.interval is not None else ("", "")
            value = "" if figure.value is None else figure.value
            writer.writerow(
                safe_row(
                    [
                        *(key[name] or "" for name in group_by),
                        figure.metric,
                        figure.label,
                        value,
                        figure.n,
                        low,
                        high,
                        figure.unit,
                        "yes" if figure.enough else "no",
                    ]
                )
            )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="experience-metrics.csv"'
    return response

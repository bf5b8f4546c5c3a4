"""Trust's API, mounted at /api/experience/trust: states (list, CSV, one pair with its points,
contributions and majors, its evidence), the model's simulation, its parameter versions, and whether
an organisation's own trust is shown in its portal (docs/trust-pages.md).

Staff read every state. A customer user reads their own organisation's states, and only when the
provider shows them in the portal: another organisation's, or their own unshared, answers 404 (an
empty list when they filter nothing). Simulating, reading the parameters and changing what a portal
shows are staff's; adopting parameters is administrators'.
"""

import csv
import io
import re
from datetime import date, datetime
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Service
from serviceloop.core.csvsafe import safe_row
from serviceloop.core.errors import InvalidInput
from serviceloop.core.pagination import LimitOffset
from serviceloop.core.schemas import BoundedDate, ErrorOut, Text
from serviceloop.core.visibility import is_staff_viewer, require_staff
from serviceloop.experience import trust_engine, trust_queries, trust_simulate
from serviceloop.experience.trust_models import TrustParameterSet, TrustState

router = Router(tags=["trust"])

Band = Literal["good", "watch", "red", "unknown"]
Order = Literal["trust", "change"]
Kind = Literal[
    "week_met",
    "positive_answer",
    "negative_answer",
    "negative_post",
    "small_failure",
    "availability_missed",
    "major_incident",
    "major_resolved",
    "review_actions_closed",
    "neutral_answer",
    "ticket_opened",
]
PUBLIC_ID = Field(..., max_length=24)

ERR = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}
ERR_404 = {**ERR, 404: ErrorOut}


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# -- schemas ------------------------------------------------------------------------------------------


class TrustOrganisationOut(Schema):
    public_id: str
    name: str


class TrustServiceOut(Schema):
    public_id: str
    name: str


class TrustIncidentOut(Schema):
    public_id: str
    reference: str


class TrustStateOut(Schema):
    organisation: TrustOrganisationOut
    service: TrustServiceOut
    trust: float = Field(description="0–100; 50 before any evidence")
    confidence: float = Field(description="0–1: how much evidence the figure rests on")
    band: Band = Field(description="good, watch, red; unknown below SERVICELOOP_TRUST_MIN_CONFIDENCE")
    trust_before: float | None = Field(
        description="Trust SERVICELOOP_TRUST_FALL_DAYS before as_of; null before any evidence then"
    )
    change: float | None = Field(description="trust − trust_before, in points")
    as_of: date = Field(description="The day the state was replayed to (project time zone)")
    evidence_count: int
    first_day: date | None = Field(description="The first evidence's day")
    parameters_version: int = Field(description="The version of the model's parameters it was computed with")
    computed_at: datetime


class TrustPointOut(Schema):
    day: date = Field(description="A Sunday (the end of a week), or the state's as_of")
    trust: float
    confidence: float
    parameters_version: int


class TrustContributionOut(Schema):
    group: str = Field(description='"major:<incident>", "credit:<incident>" or "kind:<kind>"')
    label: str
    effect: float = Field(description="Points: trust with this evidence minus trust without it")
    count: int = Field(description="Pieces of evidence in the group")
    pending: float = Field(
        0.0, description="For a recovery credit: points still to come when the review's actions close"
    )


class TrustMajorOut(Schema):
    incident: TrustIncidentOut | None = Field(description="null when the incident was deleted (its evidence stands)")
    incident_key: str
    label: str
    at: date = Field(description="The day the incident began")
    severity: float = Field(description="0.5–2")
    rho: float = Field(
        description="The share of its harm recovery can earn back (0.5 for the first major in 365 days, halved for each further one)"
    )
    poor_communication: bool = Field(description="Communication below the threshold: no credit and a double deviation")
    resolved_at: date | None
    communication: float | None = Field(description="0–1, at resolution")
    plan: float | None = Field(description="0–1, at resolution")
    share_closed: float = Field(description="0–1: the share of the review's actions closed")
    effect: float = Field(description="Points: the incident's own drop")
    credit_earned: float = Field(description="Points of recovery credit earned so far")
    credit_pending: float = Field(description="Points still to come when the review's actions close")


class TrustExplanationOut(Schema):
    group: str
    text: str = Field(
        description='e.g. "major incident MI-12: −18; recovery credit earned +6, pending +3 until review actions close"'
    )
    effect: float | None


class TrustStateDetailOut(TrustStateOut):
    r: float = Field(description="The good evidence after forgetting")
    s: float = Field(description="The bad evidence after forgetting")
    points: list[TrustPointOut] = Field(description="Weekly, oldest first; at most SERVICELOOP_TRUST_POINT_WEEKS + 1")
    contributions: list[TrustContributionOut] = Field(description="The top contributions, largest effect first")
    explanations: list[TrustExplanationOut] = Field(description="The contributions as the page says them")
    majors: list[TrustMajorOut] = Field(description="Each major incident of the pair, newest first")


class TrustEvidenceOut(Schema):
    day: date = Field(description="The day it counts on (project time zone)")
    occurred_at: datetime
    kind: Kind
    label: str
    share: float | None = Field(description="week_met: share of targets met; review_actions_closed: share closed")
    severity: float | None = Field(description="major_incident: 0.5–2")
    communication: float | None = Field(description="major_resolved: 0–1")
    plan: float | None = Field(description="major_resolved: 0–1")
    incident: TrustIncidentOut | None
    source_type: str = Field(description='What it came from, e.g. "desk.ticket", "incidents.incident", "trust.week"')
    details: dict[str, Any] = Field(description="What the weight was derived from")
    recorded_at: datetime


class TrustStateFilters(Schema):
    service: str = Field("", max_length=24, description="public_id of the service")
    organisation: str = Field("", max_length=24, description="public_id of the organisation")
    band: Band | Literal[""] = Field("", description="good, watch, red or unknown")
    q: Text = Field("", max_length=200, description="Part of the organisation's name")
    order: Order = Field("trust", description="trust: lowest first; change: falling fastest first")


class TrustEvidenceFilters(Schema):
    kind: Kind | Literal[""] = Field("", description="One kind of evidence")


class SimulateEventIn(Schema):
    at: BoundedDate = Field(..., description="The day it counts on")
    kind: Kind
    id: str | int | None = Field(
        None, description="major_incident, major_resolved, review_actions_closed: the major incident's id"
    )
    share: float | None = Field(None, description="week_met (default 1), review_actions_closed: 0–1")
    severity: float | None = Field(None, description="major_incident: severity_min–severity_max (0.5–2)")
    communication: float | None = Field(None, description="major_resolved: 0–1")
    plan: float | None = Field(None, description="major_resolved: 0–1")
    label: Text | None = Field(None, max_length=200)
    ticket: bool | None = Field(
        None, description="small_failure: a ticket's (a breach, a reopen), weighed by its week's tickets opened"
    )
    opened: BoundedDate | None = Field(
        None, description="small_failure with ticket: the day its ticket was opened (default: the failure's day)"
    )


class SimulateIn(Schema):
    parameters: dict[str, float] | None = Field(
        None, description="Overrides of the model's parameters (GET /parameters lists them); the rest are the defaults"
    )
    events: list[SimulateEventIn] = Field(default_factory=list, max_length=trust_simulate.MAX_EVENTS)
    at: list[BoundedDate] = Field(
        ..., min_length=1, max_length=trust_simulate.MAX_POINTS, description="The days to answer a point for"
    )


class SimulatePointOut(Schema):
    at: date
    trust: float
    confidence: float


class SimulateMajorOut(Schema):
    id: str
    at: date
    severity: float
    rho: float
    poor_communication: bool
    credit_earned: float = Field(description="In s units (bad evidence taken away), not points")
    credit_pending: float = Field(description="In s units")


class SimulateOut(Schema):
    points: list[SimulatePointOut] = Field(description="One per day asked, evidence of a day counting before its point")
    majors: list[SimulateMajorOut]
    parameters: dict[str, float] = Field(description="Every parameter the replay used")


class TrustUserOut(Schema):
    public_id: str
    name: str
    email: str


class TrustParameterSetOut(Schema):
    version: int
    current: bool = Field(description="The highest version: the one in use")
    values: dict[str, float] = Field(description="The overrides this version adopted")
    effective: dict[str, float] = Field(description="Every parameter: the defaults with the overrides")
    note: str
    adopted_by: TrustUserOut | None
    adopted_at: datetime


class TrustParametersIn(Schema):
    values: dict[str, float] = Field(
        ..., description="Parameter → number; omitted parameters keep their defaults (not the previous version's)"
    )
    note: Text = Field(..., min_length=1, max_length=500, description="Why this version is adopted")


class TrustSharingIn(Schema):
    shown_in_portal: bool = Field(..., description="Show the organisation its own trust in the portal")


class TrustSharingOut(Schema):
    organisation: TrustOrganisationOut
    shown_in_portal: bool
    changed_by: TrustUserOut | None
    changed_at: datetime


def _user_out(user: User | None) -> dict[str, str] | None:
    return None if user is None else {"public_id": user.public_id, "name": user.display_name, "email": user.email}


def _effective(values: Any) -> dict[str, float]:
    try:
        return trust_engine.parameters_from(values if isinstance(values, dict) else {}).as_dict()
    except trust_engine.TrustInputError:
        # A stored version the engine no longer reads (a parameter renamed since): the defaults show.
        return trust_engine.DEFAULT_PARAMETERS.as_dict()


# -- input checks -------------------------------------------------------------------------------------


def _known(model: Any, public_id: str, parameter: str) -> None:
    if public_id and not model.objects.filter(public_id=public_id).exists():
        raise InvalidInput("unknown", f"{parameter}: no {parameter} with the id {public_id}.", field=parameter)


def _checked(request: HttpRequest, filters: TrustStateFilters) -> dict[str, Any]:
    """The list's filters; an unknown id answers 422, a customer naming an organisation they may not
    see answers 404 (as the metrics API does)."""
    viewer = _user(request)
    _known(Service, filters.service, "service")
    if filters.organisation:
        if is_staff_viewer(viewer):
            _known(Organisation, filters.organisation, "organisation")
        else:
            own: int | None = getattr(viewer, "organisation_id", None)
            if own is None:
                raise Http404("No such organisation.")
            theirs = Organisation.objects.filter(pk=own).values_list("public_id", flat=True).first()
            if filters.organisation != theirs or not trust_queries.shown_to_customers(own):
                raise Http404("No such organisation.")
    return filters.dict()


_FIELD = re.compile(r"^(?:(events\[\d+\])(?: \(\w+\))?(\.\w+)?|(at\[\d+\]|parameters(?:\.\w+)?))(?::|$)")


def _trust_input_error(error: trust_engine.TrustInputError, parameters: str = "parameters") -> InvalidInput:
    """The engine's refusal as a 422 naming the field: "events[3] (major_incident).severity: …" → events.3.severity."""
    found = _FIELD.match(error.message)
    field = "body"
    if found is not None:
        field = found.group(3) or (found.group(1) + (found.group(2) or ""))
    # Dotted, as the API's other 422s name a place in the body: events.3.severity, at.0; the
    # parameters under the name the body gives them (POST /parameters: values.prior).
    field = re.sub(r"\[(\d+)\]", r".\1", field)
    if field.startswith("parameters"):
        field = parameters + field.removeprefix("parameters")
    return InvalidInput("invalid", error.message, field=field)


# -- states -------------------------------------------------------------------------------------------


def _state_page(viewer: User, filters: dict[str, Any]) -> Any:
    return trust_queries.state_list(
        viewer=viewer,
        service=filters["service"],
        organisation=filters["organisation"],
        band=filters["band"],
        name=filters["q"],
        order=filters["order"],
    )


@router.get(
    "/states",
    response={200: list[TrustStateOut], **ERR_404},
    summary="Trust per relationship (staff: all; customers: their organisation's, when shown to them)",
    description="Lowest trust first, or (order=change) falling fastest first. Pairs without evidence have no state.",
)
@paginate(LimitOffset)
def state_list(request: HttpRequest, filters: Query[TrustStateFilters]) -> Any:
    return _state_page(_user(request), _checked(request, filters))


CSV_RESPONSE = {
    "200": {
        "description": "One row per state, in the list's order",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}
CSV_LIMIT = 10_000  # rows; far beyond a provider's relationships, and a bound on the answer


@router.get(
    "/states.csv",
    response={401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="The same states as CSV (the filters of GET /states)",
    openapi_extra={"responses": CSV_RESPONSE},
)
def state_csv(request: HttpRequest, filters: Query[TrustStateFilters]) -> HttpResponse:
    rows = _state_page(_user(request), _checked(request, filters))[:CSV_LIMIT]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "organisation",
            "organisation_id",
            "service",
            "service_id",
            "trust",
            "confidence",
            "band",
            "change",
            "trust_before",
            "as_of",
            "evidence_count",
            "parameters_version",
        ]
    )
    for state in rows:
        writer.writerow(
            safe_row(
                [
                    state.organisation.name,
                    state.organisation.public_id,
                    state.service.name,
                    state.service.public_id,
                    state.trust,
                    state.confidence,
                    state.band,
                    "" if state.change is None else state.change,
                    "" if state.trust_before is None else state.trust_before,
                    state.as_of.isoformat(),
                    state.evidence_count,
                    state.parameters_version,
                ]
            )
        )
    answer = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    answer["Content-Disposition"] = 'attachment; filename="trust.csv"'
    return answer


def _majors(state: TrustState) -> list[dict[str, Any]]:
    incidents = trust_queries.incidents_of(state)
    result = []
    for major in state.majors:
        incident = incidents.get(major.get("incident_id"))  # type: ignore[arg-type]
        result.append(
            {
                **major,
                "incident": None
                if incident is None
                else {"public_id": incident.public_id, "reference": incident.reference},
            }
        )
    return result


STATE_FIELDS = (
    "trust",
    "confidence",
    "band",
    "trust_before",
    "change",
    "as_of",
    "evidence_count",
    "first_day",
    "parameters_version",
    "computed_at",
    "r",
    "s",
)


@router.get(
    "/states/{organisation}/{service}",
    response={200: TrustStateDetailOut, **ERR_404},
    summary="One relationship's trust: its points, top contributions, majors and their recovery credit",
)
def state_get(request: HttpRequest, organisation: str, service: str) -> dict[str, Any]:
    state = trust_queries.state_for(viewer=_user(request), organisation=organisation, service=service)
    return {
        **{name: getattr(state, name) for name in STATE_FIELDS},
        "organisation": state.organisation,
        "service": state.service,
        "points": list(trust_queries.points_of(state)),
        "contributions": [c for c in state.contributions if isinstance(c, dict)],
        "explanations": trust_queries.explanations(state),
        "majors": _majors(state),
    }


@router.get(
    "/states/{organisation}/{service}/evidence",
    response={200: list[TrustEvidenceOut], **ERR_404},
    summary="The relationship's evidence log, newest first",
)
@paginate(LimitOffset)
def state_evidence(request: HttpRequest, organisation: str, service: str, filters: Query[TrustEvidenceFilters]) -> Any:
    state = trust_queries.state_for(viewer=_user(request), organisation=organisation, service=service)
    return trust_queries.evidence_of(state, filters.kind)


# -- the model -----------------------------------------------------------------------------------------


@router.post(
    "/simulate",
    response={200: SimulateOut, **ERR},
    summary="Replay evidence with the model, touching nothing stored (serviceloop trust simulate)",
    description=(
        "Points for each day asked. Refusals (a field a kind does not take, a credit for an incident "
        "not in events, a parameter out of range) answer 422 with a message naming the event and field."
    ),
)
def simulate(request: HttpRequest, body: SimulateIn) -> dict[str, Any]:
    require_staff(_user(request))
    document = {
        "events": [_event_document(event) for event in body.events],
        "at": [day.isoformat() for day in body.at],
    }
    if body.parameters is not None:
        document["parameters"] = body.parameters
    try:
        return trust_simulate.simulate(document)
    except trust_engine.TrustInputError as error:
        raise _trust_input_error(error) from None


def _event_document(event: SimulateEventIn) -> dict[str, Any]:
    """An event as the engine reads it: only the fields that were sent (it refuses those a kind does not take)."""
    sent = event.model_dump(exclude_unset=True)
    sent["at"] = event.at.isoformat()
    if event.opened is not None:
        sent["opened"] = event.opened.isoformat()
    return {key: value for key, value in sent.items() if value is not None or key in ("at", "kind")}


@router.get(
    "/parameters",
    response={200: list[TrustParameterSetOut], **ERR},
    summary="The versions of the model's parameters, the one in use first",
    description="Before the first state is computed there is no version: the defaults (trust_engine.Parameters) are in use.",
)
@paginate(LimitOffset)
def parameter_list(request: HttpRequest) -> Any:
    require_staff(_user(request))
    current = trust_queries.current_version()
    return [_parameter_set(row, current) for row in trust_queries.parameter_sets()]


def _parameter_set(row: TrustParameterSet, current: int | None) -> dict[str, Any]:
    return {
        "version": row.version,
        "current": row.version == current,
        "values": row.values if isinstance(row.values, dict) else {},
        "effective": _effective(row.values),
        "note": row.note,
        "adopted_by": _user_out(row.adopted_by),
        "adopted_at": row.adopted_at,
    }


@router.post(
    "/parameters",
    response={201: TrustParameterSetOut, **ERR},
    summary="Adopt a new version of the parameters (administrators); the worker computes every state again with it",
)
def parameter_adopt(request: HttpRequest, body: TrustParametersIn) -> Status:
    viewer = _user(request)
    if not getattr(viewer, "is_administrator", False):
        raise PermissionDenied("Only administrators adopt parameters of the trust model.")
    from serviceloop.experience import trust_states

    try:
        trust_engine.parameters_from(body.values)
    except trust_engine.TrustInputError as error:
        raise _trust_input_error(error, parameters="values") from None
    # Every state is recomputed by the worker (a large install's recompute outlasts a request).
    adopted = trust_states.parameters_adopt(values=body.values, note=body.note, by=viewer, recompute=False)
    return Status(201, _parameter_set(adopted, adopted.version))


# -- portal sharing -----------------------------------------------------------------------------------


@router.put(
    "/sharing/{organisation}",
    response={200: TrustSharingOut, **ERR_404},
    summary="Show or hide an organisation's own trust in its portal (staff; off unless turned on)",
)
def sharing_put(request: HttpRequest, organisation: str, body: TrustSharingIn) -> Any:
    viewer = _user(request)
    require_staff(viewer)
    found = Organisation.objects.filter(public_id=organisation).first()
    if found is None:
        raise Http404("No such organisation.")
    row = trust_queries.sharing_set(organisation=found, shown=body.shown_in_portal, by=viewer)
    return {
        "organisation": found,
        "shown_in_portal": row.shown_in_portal,
        "changed_by": _user_out(row.changed_by),
        "changed_at": row.changed_at,
    }

"""The reviews API, mounted at /api/incidents/ (staff only; a customer is answered 403).

Reviews by their own id (`/reviews/{public_id}`), actions by theirs (`/actions/{public_id}`), and
per incident (`/{public_id}/review` to open one by hand, `/{public_id}/measures`, `/{public_id}/timeline`).
"""

from datetime import date, datetime
from typing import Any, Literal

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from serviceloop.accounts.models import User
from serviceloop.core.errors import InvalidInput
from serviceloop.core.pagination import LimitOffset
from serviceloop.core.schemas import BoundedDate, ErrorOut, Omittable, Text
from serviceloop.incidents import review_queries as queries
from serviceloop.incidents.measures import (
    EtaAccuracy,
    actions_closed_share,
    communication_score,
    incident_measures,
    plan_score,
)
from serviceloop.incidents.models import Review, ReviewAction
from serviceloop.incidents.reviews import (
    review_action_add,
    review_action_close,
    review_action_update,
    review_complete,
    review_open,
    review_publish,
    review_update,
)
from serviceloop.incidents.timeline import incident_timeline

router = Router(tags=["incidents"])

ERR = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
ERR_409 = {**ERR, 409: ErrorOut}
RootCause = Literal[
    "change", "capacity", "hardware", "software", "configuration", "supplier", "security", "process", "unknown"
]
ActionKind = Literal["prevent", "detect", "mitigate", "communicate", "knowledge"]
StateFilter = Literal["", "due", "overdue", "completed"]


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


class ReviewIncidentOut(Schema):
    public_id: str
    reference: str
    title: str
    severity: str
    resolved_at: datetime | None


class ReviewOwnerOut(Schema):
    public_id: str
    name: str
    email: str


class ReviewActionOut(Schema):
    public_id: str
    title: str
    kind: str
    owner: ReviewOwnerOut | None
    due_on: date
    status: str
    closed_at: datetime | None


class ReviewOut(Schema):
    public_id: str
    incident: ReviewIncidentOut
    owner: ReviewOwnerOut | None
    status: str
    due_at: datetime
    root_cause_category: str
    root_cause: str
    contributing_factors: list[str]
    resolution: str
    customer_summary: str
    lost_minutes: int
    lost_responses: int
    completed_at: datetime | None
    published_at: datetime | None
    actions_closed_share: float = Field(description="Actions done over actions not dropped (0–1)")

    @staticmethod
    def resolve_actions_closed_share(obj: Review) -> float:
        return actions_closed_share(obj)


class ReviewDetailOut(ReviewOut):
    actions: list[ReviewActionOut]

    @staticmethod
    def resolve_actions(obj: Review) -> list[ReviewAction]:
        return list(obj.actions.select_related("owner").all())


class ReviewPatch(Schema):
    owner: str | None = Omittable(min_length=1, max_length=24, description="public_id of a staff member; null: nobody")
    root_cause_category: RootCause = Omittable()
    root_cause: Text = Omittable(max_length=20000)
    contributing_factors: list[Text] = Omittable(max_length=30)
    resolution: Text = Omittable(max_length=20000)
    customer_summary: Text = Omittable(max_length=20000)


class ReviewCompleteIn(Schema):
    no_actions: bool = Field(False, description="Say on purpose that no follow-up action is needed")


class ReviewActionIn(Schema):
    title: Text = Field(..., min_length=1, max_length=300)
    kind: ActionKind
    due_on: BoundedDate
    owner: str | None = Field(None, min_length=1, max_length=24, description="public_id of a staff member")


class ReviewActionPatch(Schema):
    title: Text = Omittable(min_length=1, max_length=300)
    kind: ActionKind = Omittable()
    due_on: BoundedDate = Omittable()
    owner: str | None = Omittable(min_length=1, max_length=24, description="public_id of a staff member; null: nobody")


class ReviewActionCloseIn(Schema):
    outcome: Literal["done", "dropped"] = "done"


class ReviewFilters(Schema):
    state: StateFilter = Field("", description="due, overdue, completed (or published); empty for all")


class IncidentAudienceCadenceOut(Schema):
    audience: str
    cadence_minutes: int
    updates: int
    intervals: list[float]
    on_time: int
    compliance: float
    longest_silence_minutes: float
    counted: bool


class IncidentEtaAccuracyOut(Schema):
    etas: int
    met: int
    share_met: float | None
    mean_abs_error_minutes: float | None


class ReviewActionClosureOut(Schema):
    actions: int
    done: int
    dropped: int
    open: int
    share_closed: float | None
    on_time: int
    on_time_share: float | None


class IncidentMeasuresOut(Schema):
    incident: str
    is_open: bool
    time_to_first_update_minutes: float | None
    cadence: list[IncidentAudienceCadenceOut]
    longest_silence_minutes: float | None
    eta_accuracy: IncidentEtaAccuracyOut
    step_eta_accuracy: IncidentEtaAccuracyOut
    action_closure: ReviewActionClosureOut
    time_to_review_hours: float | None
    duration_minutes: float
    communication_score: float
    plan_score: float
    actions_closed_share: float | None


class IncidentTimelineEntryOut(Schema):
    at: datetime
    kind: str
    text: str
    link: str
    since_impact_minutes: float | None


def _staff(public_id: str | None, field: str = "owner") -> User | None:
    if public_id is None:
        return None
    user = User.objects.filter(public_id=public_id, is_active=True).exclude(role=User.Role.CUSTOMER).first()
    if user is None:
        raise InvalidInput("unknown", f"{field}: no staff member with the id {public_id}.", field=field)
    return user


def _review(request: HttpRequest, public_id: str) -> Review:
    queries.require_staff(_user(request))
    review = Review.objects.filter(public_id=public_id).select_related("incident", "owner").first()
    if review is None:
        raise Http404("No such review.")
    return review


def _action(request: HttpRequest, public_id: str) -> ReviewAction:
    queries.require_staff(_user(request))
    action = ReviewAction.objects.filter(public_id=public_id).select_related("owner", "review").first()
    if action is None:
        raise Http404("No such action.")
    return action


@router.get("/reviews", response={200: list[ReviewOut], **ERR}, summary="Post-incident reviews, soonest due first")
@paginate(LimitOffset)
def reviews_list(request: HttpRequest, filters: Query[ReviewFilters]) -> Any:
    return queries.reviews_list(viewer=_user(request), state=filters.state)


@router.get("/reviews/{public_id}", response={200: ReviewDetailOut, **ERR}, summary="One review with its actions")
def review_get(request: HttpRequest, public_id: str) -> Review:
    return _review(request, public_id)


@router.patch(
    "/reviews/{public_id}",
    response={200: ReviewDetailOut, **ERR_409},
    summary="Change a review's owner, root cause, factors, resolution or customer summary",
    description='Contributing factors are blameless: "human error" is refused (422). A published review keeps all but its owner (409).',
)
def review_patch(request: HttpRequest, public_id: str, body: ReviewPatch) -> Review:
    review = _review(request, public_id)
    changes = body.dict(exclude_unset=True)
    if "owner" in changes:
        changes["owner"] = _staff(changes["owner"])
    review_update(review=review, by=_user(request), **changes)
    return _review(request, public_id)


@router.post(
    "/reviews/{public_id}/complete",
    response={200: ReviewDetailOut, **ERR_409},
    summary="Complete a review",
    description="Needs a root-cause category other than unknown, a customer summary, and an action or no_actions=true.",
)
def review_complete_api(request: HttpRequest, public_id: str, body: ReviewCompleteIn) -> Review:
    review_complete(review=_review(request, public_id), by=_user(request), no_actions=body.no_actions)
    return _review(request, public_id)


@router.post(
    "/reviews/{public_id}/publish",
    response={200: ReviewDetailOut, **ERR_409},
    summary="Publish a completed review: its customer summary goes on the status page (managers)",
)
def review_publish_api(request: HttpRequest, public_id: str) -> Review:
    review_publish(review=_review(request, public_id), by=_user(request))
    return _review(request, public_id)


@router.get("/reviews/{public_id}/actions", response={200: list[ReviewActionOut], **ERR}, summary="A review's actions")
@paginate(LimitOffset)
def review_actions(request: HttpRequest, public_id: str) -> Any:
    return _review(request, public_id).actions.select_related("owner").all()


@router.post(
    "/reviews/{public_id}/actions", response={201: ReviewActionOut, **ERR_409}, summary="Add a follow-up action"
)
def review_action_create(request: HttpRequest, public_id: str, body: ReviewActionIn) -> Status:
    review = _review(request, public_id)
    action = review_action_add(
        review=review,
        by=_user(request),
        title=body.title,
        kind=body.kind,
        due_on=body.due_on,
        owner=_staff(body.owner),
    )
    return Status(201, action)


@router.patch("/actions/{public_id}", response={200: ReviewActionOut, **ERR_409}, summary="Change an open action")
def review_action_patch(request: HttpRequest, public_id: str, body: ReviewActionPatch) -> ReviewAction:
    action = _action(request, public_id)
    changes = body.dict(exclude_unset=True)
    if "owner" in changes:
        changes["owner"] = _staff(changes["owner"])
    return review_action_update(action=action, by=_user(request), **changes)


@router.post(
    "/actions/{public_id}/close",
    response={200: ReviewActionOut, **ERR_409},
    summary="Close an action as done or dropped",
    description="Records incident.review_action_closed with the review's share of actions done.",
)
def review_action_close_api(request: HttpRequest, public_id: str, body: ReviewActionCloseIn) -> ReviewAction:
    return review_action_close(action=_action(request, public_id), by=_user(request), outcome=body.outcome)


@router.post(
    "/{public_id}/review",
    response={201: ReviewDetailOut, 200: ReviewDetailOut, **ERR_409},
    summary="Open the review of a resolved incident by hand (the one it has, if any: 200)",
)
def review_open_api(request: HttpRequest, public_id: str) -> Status:
    incident = queries.incident_for_review(viewer=_user(request), public_id=public_id)
    existed = Review.objects.filter(incident=incident).exists()
    review = review_open(incident=incident, by=_user(request))
    return Status(200 if existed else 201, review)


def _accuracy(value: EtaAccuracy) -> dict[str, Any]:
    return {
        "etas": value.etas,
        "met": value.met,
        "share_met": value.share_met,
        "mean_abs_error_minutes": value.mean_abs_error_minutes,
    }


@router.get(
    "/{public_id}/measures",
    response={200: IncidentMeasuresOut, **ERR},
    summary="The incident's measures and the scores trust reads (docs/incident-reviews.md)",
)
def measures_get(request: HttpRequest, public_id: str) -> dict[str, Any]:
    incident = queries.incident_for_review(viewer=_user(request), public_id=public_id)
    m = incident_measures(incident)
    review = Review.objects.filter(incident=incident).first()
    closure = m.action_closure
    return {
        "incident": incident.public_id,
        "is_open": m.is_open,
        "time_to_first_update_minutes": m.time_to_first_update_minutes,
        "cadence": [vars(c) for c in sorted(m.cadence.values(), key=lambda c: c.audience)],
        "longest_silence_minutes": m.longest_silence_minutes,
        "eta_accuracy": _accuracy(m.eta_accuracy),
        "step_eta_accuracy": _accuracy(m.step_eta_accuracy),
        "action_closure": vars(closure),
        "time_to_review_hours": m.time_to_review_hours,
        "duration_minutes": m.duration_minutes,
        "communication_score": communication_score(m),
        "plan_score": plan_score(incident),
        "actions_closed_share": actions_closed_share(review) if review is not None else None,
    }


@router.get(
    "/{public_id}/timeline",
    response={200: list[IncidentTimelineEntryOut], **ERR},
    summary="The incident's timeline in UTC: updates, ETAs, steps, tickets, silences, events",
)
@paginate(LimitOffset)
def timeline_get(request: HttpRequest, public_id: str) -> Any:
    incident = queries.incident_for_review(viewer=_user(request), public_id=public_id)
    return incident_timeline(incident)

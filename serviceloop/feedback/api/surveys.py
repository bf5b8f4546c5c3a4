"""The surveys half of the feedback API: surveys, responses, invitations, suppressed invitations, throttle."""

from datetime import datetime
from typing import Literal

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from serviceloop.accounts.models import User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core.pagination import LimitOffset
from serviceloop.core.schemas import BoundedDate, ErrorOut, Integer, Omittable, Text
from serviceloop.core.visibility import require_staff
from serviceloop.feedback.models import Response, SuppressedInvitation, Survey, Trigger
from serviceloop.feedback.queries import (
    ResponseFilters,
    SuppressedFilters,
    response_for,
    response_stream,
    service_for_feedback,
    suppressed_visible,
    survey_for,
    surveys_visible,
)
from serviceloop.feedback.services.invitations import invitation_create
from serviceloop.feedback.services.surveys import (
    survey_create,
    survey_current_version,
    survey_update,
    throttle_policy_of,
    throttle_policy_set,
)
from serviceloop.relationships.models import Person

router = Router(tags=["feedback"])

QuestionKindName = Literal["csat", "happiness", "nps", "ces", "lost_time", "drivers", "comment"]
SurveyKindName = Literal["transactional", "relationship"]
PublicId = Field(min_length=1, max_length=24)


class QuestionIO(Schema):
    kind: QuestionKindName
    text: str = Field("", max_length=300)
    required: bool = False


class SurveyIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    service: str = PublicId
    offering: str | None = Field(None, min_length=1, max_length=24)
    kind: SurveyKindName = "transactional"
    is_active: bool = True
    intro: str = Field("", max_length=500)
    questions: list[QuestionIO] | None = Field(None, min_length=1, max_length=10)


class SurveyPatch(Schema):
    name: str = Omittable(min_length=1, max_length=200)
    is_active: bool = Omittable()
    intro: str = Omittable(max_length=500)
    questions: list[QuestionIO] = Omittable(min_length=1, max_length=10)


class SurveyOut(Schema):
    public_id: str
    name: str
    service: str
    offering: str | None
    kind: str
    is_active: bool
    version: int
    intro: str
    questions: list[QuestionIO]


def _survey_out(survey: Survey) -> SurveyOut:
    # The list prefetches versions, so the latest comes from memory, not one query per survey.
    versions = list(survey.versions.all())
    version = max(versions, key=lambda v: v.number) if versions else survey_current_version(survey)
    return SurveyOut(
        public_id=survey.public_id,
        name=survey.name,
        service=survey.service.public_id,
        offering=survey.offering.public_id if survey.offering else None,
        kind=survey.kind,
        is_active=survey.is_active,
        version=version.number,
        intro=version.intro,
        questions=[QuestionIO(**q) for q in version.questions],
    )


@router.get(
    "/surveys",
    response={200: list[SurveyOut], 401: ErrorOut, 403: ErrorOut},
    summary="Survey designs (staff)",
)
@paginate(LimitOffset)
def surveys(
    request: HttpRequest,
    service: str | None = Query(None, max_length=24),  # type: ignore[type-arg]
    kind: SurveyKindName | None = None,
) -> list[SurveyOut]:
    rows = surveys_visible(viewer=request.user, service=service, kind=kind).prefetch_related("versions")
    return [_survey_out(survey) for survey in rows]


def _service(public_id: str) -> Service:
    service = Service.objects.filter(public_id=public_id).first()
    if service is None:
        raise Http404("No such service.")
    return service


def _offering(public_id: str | None) -> Offering | None:
    if public_id is None:
        return None
    offering = Offering.objects.filter(public_id=public_id).first()
    if offering is None:
        raise Http404("No such offering.")
    return offering


@router.post(
    "/surveys",
    response={201: SurveyOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Create a survey with its first version (service managers, administrators)",
)
def survey_create_api(request: HttpRequest, body: SurveyIn) -> Status:
    require_staff(request.user)
    survey = survey_create(
        service=_service(body.service),
        offering=_offering(body.offering),
        name=body.name,
        kind=body.kind,
        is_active=body.is_active,
        intro=body.intro,
        questions=[q.dict() for q in body.questions] if body.questions is not None else None,
        by=request.user,  # type: ignore[arg-type]
    )
    return Status(201, _survey_out(survey))


@router.get(
    "/surveys/{public_id}",
    response={200: SurveyOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="One survey with its current version (staff)",
)
def survey_detail(request: HttpRequest, public_id: str) -> SurveyOut:
    return _survey_out(survey_for(viewer=request.user, public_id=public_id))


@router.patch(
    "/surveys/{public_id}",
    response={200: SurveyOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Change a survey; new questions on a version in use make a new version",
)
def survey_patch(request: HttpRequest, public_id: str, body: SurveyPatch) -> SurveyOut:
    survey = survey_for(viewer=request.user, public_id=public_id)
    survey = survey_update(
        survey=survey,
        name=body.name,
        is_active=body.is_active,
        intro=body.intro,
        questions=[q.dict() for q in body.questions] if body.questions is not None else None,
        by=request.user,  # type: ignore[arg-type]
    )
    return _survey_out(survey)


class ResponseOut(Schema):
    public_id: str
    service: str
    offering: str | None
    organisation: str | None
    ticket: str | None = Field(description="The ticket's reference, e.g. SL-104233")
    channel: str
    responded_at: datetime
    survey_version: int | None
    csat: int | None
    happiness: int | None
    nps: int | None
    ces: int | None
    lost_time_bucket: str | None
    lost_time_minutes: int | None
    drivers: list[str]
    comment: str
    sentiment_score: float | None
    sentiment_label: str | None

    @staticmethod
    def resolve_service(row: Response) -> str:
        return row.service.public_id

    @staticmethod
    def resolve_offering(row: Response) -> str | None:
        return row.offering.public_id if row.offering else None

    @staticmethod
    def resolve_organisation(row: Response) -> str | None:
        return row.organisation.public_id if row.organisation else None

    @staticmethod
    def resolve_ticket(row: Response) -> str | None:
        return row.ticket.reference if row.ticket else None

    @staticmethod
    def resolve_survey_version(row: Response) -> int | None:
        return row.survey_version.number if row.survey_version else None


class ResponseFilterIn(Schema):
    service: str | None = Field(None, max_length=24)
    channel: Literal["email", "widget", "qr", "portal", "api", "ingest"] | None = None
    band: Literal["promoter", "passive", "detractor", "1", "2", "3", "4", "5"] | None = None
    sentiment: Literal["positive", "neutral", "negative"] | None = None
    driver: Literal["communication", "speed", "quality", "cost", "attitude", "knowledge"] | None = None
    organisation: str | None = Field(None, max_length=24)
    period: Literal["7d", "30d", "90d", "365d"] | None = None
    since: BoundedDate | None = None
    until: BoundedDate | None = None


@router.get(
    "/responses",
    response={200: list[ResponseOut], 401: ErrorOut, 422: ErrorOut},
    summary="Responses, newest first (staff: all; customers: their organisation's)",
)
@paginate(LimitOffset)
def responses(request: HttpRequest, filters: Query[ResponseFilterIn]) -> object:  # type: ignore[type-arg]
    return response_stream(viewer=request.user, filters=ResponseFilters(**filters.dict()))


@router.get(
    "/responses/{public_id}",
    response={200: ResponseOut, 401: ErrorOut, 404: ErrorOut},
    summary="One response",
)
def response_detail(request: HttpRequest, public_id: str) -> Response:
    return response_for(viewer=request.user, public_id=public_id)


class InvitationIn(Schema):
    person: str = PublicId
    service: str = PublicId
    offering: str | None = Field(None, min_length=1, max_length=24)


class InvitationOut(Schema):
    public_id: str
    person: str
    service: str
    offering: str | None
    trigger: str
    sent_at: datetime
    expires_at: datetime


class SuppressedOut(Schema):
    suppressed: str = Field(description="throttled, opted_out, sampled_out or duplicate")
    detail: str


@router.post(
    "/invitations",
    response={
        201: InvitationOut,
        200: SuppressedOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        422: ErrorOut,
    },
    summary="This person just experienced this service: invite them (201), or say why not (200)",
)
def invitation_trigger(request: HttpRequest, body: InvitationIn) -> Status:
    require_staff(request.user)
    person = Person.objects.filter(public_id=body.person).first()
    if person is None:
        raise Http404("No such person.")
    service = _service(body.service)
    outcome = invitation_create(
        person=person,
        service=service,
        offering=_offering(body.offering),
        trigger=Trigger.API,
        by=request.user,  # type: ignore[arg-type]
    )
    if outcome.invitation is None:
        assert outcome.suppressed is not None  # nosec B101  # narrows for mypy; no invitation means suppressed
        return Status(200, SuppressedOut(suppressed=outcome.suppressed.reason, detail=outcome.suppressed.detail))
    invitation = outcome.invitation
    return Status(
        201,
        InvitationOut(
            public_id=invitation.public_id,
            person=person.public_id,
            service=service.public_id,
            offering=invitation.offering.public_id if invitation.offering else None,
            trigger=invitation.trigger,
            sent_at=invitation.sent_at,
            expires_at=invitation.expires_at,
        ),
    )


class SuppressedInvitationOut(Schema):
    person: str | None
    organisation: str | None
    service: str
    survey: str | None
    trigger: str
    ticket: str | None
    reason: str
    reason_label: str = Field(description="The reason in words, as the page shows it")
    detail: str
    created_at: datetime

    @staticmethod
    def resolve_reason_label(row: SuppressedInvitation) -> str:
        return row.get_reason_display()

    @staticmethod
    def resolve_person(row: SuppressedInvitation) -> str | None:
        return row.person.public_id if row.person else None

    @staticmethod
    def resolve_organisation(row: SuppressedInvitation) -> str | None:
        return row.organisation.public_id if row.organisation else None

    @staticmethod
    def resolve_service(row: SuppressedInvitation) -> str:
        return row.service.public_id

    @staticmethod
    def resolve_survey(row: SuppressedInvitation) -> str | None:
        return row.survey.public_id if row.survey else None

    @staticmethod
    def resolve_ticket(row: SuppressedInvitation) -> str | None:
        return row.ticket.reference if row.ticket else None


class SuppressedQuery(Schema):
    reason: Literal["throttled", "opted_out", "sampled_out", "duplicate"] | None = None
    service: str | None = Field(None, max_length=24, description="a service's public id")
    organisation: str | None = Field(None, max_length=24, description="an organisation's public id")
    person: str | None = Field(None, max_length=24, description="a person's public id")
    ticket: str | None = Field(None, max_length=40, description="a ticket's public id or reference")
    since: BoundedDate | None = Field(None, description="from this day (inclusive, in the server's time zone)")
    until: BoundedDate | None = Field(None, description="to this day (inclusive)")
    q: Text = Field("", max_length=200, description="part of the person's name or email")


@router.get(
    "/suppressed-invitations",
    response={200: list[SuppressedInvitationOut], 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="Invitations not sent, with the reason, filtered as the staff page is (staff)",
)
@paginate(LimitOffset)
def suppressed(request: HttpRequest, filters: Query[SuppressedQuery]) -> object:  # type: ignore[type-arg]
    return suppressed_visible(viewer=request.user, filters=SuppressedFilters(**filters.dict()))


class ThrottleIO(Schema):
    transactional_short_limit: Integer = Field(1, ge=0, le=1000)
    transactional_short_days: Integer = Field(7, ge=1, le=1000)
    transactional_long_limit: Integer = Field(3, ge=0, le=1000)
    transactional_long_days: Integer = Field(30, ge=1, le=1000)
    relationship_limit: Integer = Field(1, ge=0, le=1000)
    relationship_days: Integer = Field(90, ge=1, le=1000)
    min_gap_hours: Integer = Field(24, ge=0, le=1000)
    sample_rate: Integer = Field(100, ge=0, le=100)


@router.get(
    "/services/{public_id}/throttle",
    response={200: ThrottleIO, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="A service's survey fatigue rules (DOMAIN §3 defaults until changed)",
)
def throttle_get(request: HttpRequest, public_id: str) -> ThrottleIO:
    service = service_for_feedback(viewer=request.user, public_id=public_id)
    return ThrottleIO(**throttle_policy_of(service).__dict__)


@router.put(
    "/services/{public_id}/throttle",
    response={200: ThrottleIO, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Change a service's survey fatigue rules (service managers, administrators)",
)
def throttle_put(request: HttpRequest, public_id: str, body: ThrottleIO) -> ThrottleIO:
    service = service_for_feedback(viewer=request.user, public_id=public_id)
    user: User = request.user  # type: ignore[assignment]
    throttle_policy_set(service=service, by=user, **body.dict())
    return ThrottleIO(**throttle_policy_of(service).__dict__)

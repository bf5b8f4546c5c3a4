"""The relationships API: organisations, people, relationships, roles and the service history."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from serviceloop.accounts.models import Organisation, User, currency
from serviceloop.accounts.services import HOURLY_COST_MAX
from serviceloop.accounts.versioning import IF_MATCH, etag, versions_in
from serviceloop.catalogue.models import Offering
from serviceloop.catalogue.queries import offering_for
from serviceloop.core.errors import InvalidInput
from serviceloop.core.pagination import LimitOffset
from serviceloop.core.schemas import BoundedDate, ErrorOut, Omittable
from serviceloop.relationships import queries, services
from serviceloop.relationships.models import Person, Relationship, RelationshipRole

router = Router(tags=["relationships"])

Status_ = Literal["active", "paused", "ended"]
RoleName = Literal["customer", "user", "sponsor"]
# 400: a body that is not JSON; 422: a body or query that does not match the schema.
ERR = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}
ERR_404 = {**ERR, 404: ErrorOut}
# A PATCH of a versioned row: 409 for a clash, 412 when its If-Match names an earlier version.
ERR_PATCH = {**ERR_404, 409: ErrorOut, 412: ErrorOut}
ETAG_NOTE = "The ETag header carries the row's version: send it back as If-Match when you change it."
STALE_NOTE = "Send If-Match with the ETag of your GET: if someone changed it since, 412 and no change."
PublicId = Field(..., min_length=1, max_length=24)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# -- schemas ---------------------------------------------------------------------------------------


class OrganisationOut(Schema):
    public_id: str
    name: str
    slug: str
    domain: str
    notes: str
    hourly_cost: Decimal | None = Field(
        description="What an hour of its people's lost work time costs; null: the provider default"
    )
    cost_per_hour: Decimal = Field(description="The hourly cost that applies: its own, or the provider default")
    currency: str = Field(description="The currency of the hourly cost (SERVICELOOP_CURRENCY)")
    people_count: int = 0
    relationship_count: int = 0
    created_at: datetime

    @staticmethod
    def resolve_currency(organisation: Organisation) -> str:
        return currency()


# An amount in the project's currency, two decimals at most; null: the provider default.
HourlyCost = Field(
    None,
    ge=0,
    le=HOURLY_COST_MAX,
    max_digits=10,
    decimal_places=2,
    description="What an hour of its people's lost work time costs (lost time in money); null: the provider default",
)


class OrganisationIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    slug: str = Field("", max_length=80)
    domain: str = Field("", max_length=200)
    notes: str = Field("", max_length=10000)
    hourly_cost: Decimal | None = HourlyCost


class OrganisationPatch(Schema):
    name: str = Omittable(min_length=1, max_length=200)
    domain: str = Omittable(max_length=200)
    notes: str = Omittable(max_length=10000)
    hourly_cost: Decimal | None = HourlyCost  # left out: kept; null: back to the provider default


class PersonOut(Schema):
    public_id: str
    organisation: str
    name: str
    email: str
    time_zone: str
    survey_opt_out: bool
    survey_opted_out_at: datetime | None
    user: str | None = Field(None, description="public_id of the linked customer login")

    @staticmethod
    def resolve_organisation(person: Person) -> str:
        return person.organisation.public_id

    @staticmethod
    def resolve_user(person: Person) -> str | None:
        return person.user.public_id if person.user else None


class PersonIn(Schema):
    organisation: str = PublicId
    email: str = Field(..., min_length=3, max_length=254)
    name: str = Field("", max_length=200)
    time_zone: str = Field("UTC", min_length=1, max_length=64)
    survey_opt_out: bool = False
    user: str | None = Field(None, max_length=24, description="public_id of a customer login to link")


class PersonPatch(Schema):
    email: str = Omittable(min_length=3, max_length=254)
    name: str = Omittable(max_length=200)
    time_zone: str = Omittable(min_length=1, max_length=64)
    survey_opt_out: bool = Omittable()
    user: str | None = Field(None, max_length=24, description="public_id of a customer login; null unlinks")


class RolePersonOut(Schema):
    public_id: str
    name: str
    email: str


class RoleOut(Schema):
    person: RolePersonOut
    role: str


class OfferingRefOut(Schema):
    public_id: str
    name: str
    service: str

    @staticmethod
    def resolve_service(offering: Offering) -> str:
        return offering.service.name


class OrganisationRefOut(Schema):
    public_id: str
    name: str


class RelationshipOut(Schema):
    public_id: str
    organisation: OrganisationRefOut
    offering: OfferingRefOut
    status: str
    started_on: date
    ended_on: date | None
    notes: str
    roles: list[RoleOut]

    @staticmethod
    def resolve_roles(relationship: Relationship) -> list[RelationshipRole]:
        return list(relationship.roles.all())


class RelationshipIn(Schema):
    organisation: str = PublicId
    offering: str = PublicId
    started_on: BoundedDate
    status: Literal["active", "paused"] = "active"
    notes: str = Field("", max_length=10000)


class RelationshipPatch(Schema):
    notes: str = Field(..., max_length=10000)


class RelationshipStatusIn(Schema):
    status: Status_
    on: BoundedDate | None = Field(None, description="The day it ended (ending only; today if left out)")
    note: str = Field("", max_length=300)


class RoleIn(Schema):
    person: str = PublicId
    role: RoleName


class RelationshipEventOut(Schema):
    kind: str
    description: str
    by: str | None
    occurred_at: datetime

    @staticmethod
    def resolve_by(event: Any) -> str | None:
        return event.by.display_name if event.by else None


class OrganisationFilters(Schema):
    q: str = Field("", max_length=200, description="Search by name or domain")


class PersonFilters(Schema):
    organisation: str = Field("", max_length=24, description="public_id of the organisation")
    q: str = Field("", max_length=200, description="Search by name or email")
    survey_opt_out: bool | None = None


class RelationshipFilters(Schema):
    organisation: str = Field("", max_length=24)
    offering: str = Field("", max_length=24)
    service: str = Field("", max_length=24)
    person: str = Field("", max_length=24, description="public_id of a person holding a role in it")
    status: Status_ | Literal[""] = ""
    q: str = Field("", max_length=200, description="Search by organisation, offering or service name")


# -- organisations ---------------------------------------------------------------------------------


@router.get("/organisations", response={200: list[OrganisationOut], **ERR}, summary="Organisations")
@paginate(LimitOffset)
def organisation_list(request: HttpRequest, filters: Query[OrganisationFilters]) -> Any:
    return queries.organisation_list(viewer=_user(request), q=filters.q)


@router.post(
    "/organisations",
    response={201: OrganisationOut, 409: ErrorOut, **ERR},
    summary="Create an organisation",
)
def organisation_create(request: HttpRequest, body: OrganisationIn) -> Status:
    organisation = services.organisation_create(by=_user(request), **body.dict())
    return Status(201, queries.organisation_for(viewer=_user(request), public_id=organisation.public_id))


@router.get(
    "/organisations/{public_id}",
    response={200: OrganisationOut, **ERR, 404: ErrorOut},
    summary="One organisation",
    description=ETAG_NOTE,
)
def organisation_get(request: HttpRequest, response: HttpResponse, public_id: str) -> Organisation:
    organisation = queries.organisation_for(viewer=_user(request), public_id=public_id)
    response["ETag"] = etag(organisation)
    return organisation


@router.patch(
    "/organisations/{public_id}",
    response={200: OrganisationOut, **ERR_PATCH},
    summary="Change an organisation",
    description=STALE_NOTE,
)
def organisation_update(
    request: HttpRequest,
    response: HttpResponse,
    public_id: str,
    body: OrganisationPatch,
    if_match: str | None = IF_MATCH,
) -> Organisation:
    services.require_manager(_user(request))
    organisation = queries.organisation_for(viewer=_user(request), public_id=public_id)
    services.organisation_update(
        organisation=organisation,
        by=_user(request),
        expected_version=versions_in(if_match),
        **body.dict(exclude_unset=True),
    )
    organisation = queries.organisation_for(viewer=_user(request), public_id=public_id)
    response["ETag"] = etag(organisation)
    return organisation


# -- people ----------------------------------------------------------------------------------------


def _login(public_id: str | None, field: str = "user") -> User | None:
    if not public_id:
        return None
    user = User.objects.filter(public_id=public_id).first()
    if user is None:
        raise InvalidInput("login_unknown", "No login has that public id.", field=field)
    return user


@router.get("/people", response={200: list[PersonOut], **ERR}, summary="People of organisations")
@paginate(LimitOffset)
def person_list(request: HttpRequest, filters: Query[PersonFilters]) -> Any:
    return queries.person_list(viewer=_user(request), **filters.dict())


@router.post("/people", response={201: PersonOut, 409: ErrorOut, **ERR_404}, summary="Add a person")
def person_create(request: HttpRequest, body: PersonIn) -> Status:
    services.require_manager(_user(request))
    data = body.dict()
    data["organisation"] = queries.organisation_for(viewer=_user(request), public_id=data["organisation"])
    data["user"] = _login(data["user"])
    return Status(201, services.person_create(by=_user(request), **data))


@router.get(
    "/people/{public_id}",
    response={200: PersonOut, **ERR, 404: ErrorOut},
    summary="One person",
    description=ETAG_NOTE,
)
def person_get(request: HttpRequest, response: HttpResponse, public_id: str) -> Person:
    person = queries.person_for(viewer=_user(request), public_id=public_id)
    response["ETag"] = etag(person)
    return person


@router.patch(
    "/people/{public_id}",
    response={200: PersonOut, **ERR_PATCH},
    summary="Change a person (email, time zone, survey opt-out, linked login)",
    description=STALE_NOTE,
)
def person_update(
    request: HttpRequest,
    response: HttpResponse,
    public_id: str,
    body: PersonPatch,
    if_match: str | None = IF_MATCH,
) -> Person:
    services.require_manager(_user(request))
    person = queries.person_for(viewer=_user(request), public_id=public_id)
    sent = body.dict(exclude_unset=True)
    data: dict[str, Any] = {k: v for k, v in sent.items() if v is not None and k != "user"}
    if "user" in sent:
        data["user"] = _login(sent["user"])
    person = services.person_update(person=person, by=_user(request), expected_version=versions_in(if_match), **data)
    response["ETag"] = etag(person)
    return person


# -- relationships ---------------------------------------------------------------------------------


@router.get("/relationships", response={200: list[RelationshipOut], **ERR}, summary="Service relationships")
@paginate(LimitOffset)
def relationship_list(request: HttpRequest, filters: Query[RelationshipFilters]) -> Any:
    return queries.relationship_list(viewer=_user(request), **filters.dict())


def _relationship(request: HttpRequest, public_id: str) -> Relationship:
    return queries.relationship_for(viewer=_user(request), public_id=public_id)


@router.post(
    "/relationships",
    response={201: RelationshipOut, 409: ErrorOut, **ERR_404},
    summary="Start a relationship (organisation × offering)",
)
def relationship_create(request: HttpRequest, body: RelationshipIn) -> Status:
    services.require_manager(_user(request))
    organisation = queries.organisation_for(viewer=_user(request), public_id=body.organisation)
    offering = offering_for(viewer=_user(request), public_id=body.offering)
    relationship = services.relationship_create(
        by=_user(request),
        organisation=organisation,
        offering=offering,
        started_on=body.started_on,
        status=body.status,
        notes=body.notes,
    )
    return Status(201, _relationship(request, relationship.public_id))


@router.get(
    "/relationships/{public_id}",
    response={200: RelationshipOut, **ERR, 404: ErrorOut},
    summary="One relationship with its roles",
    description=ETAG_NOTE,
)
def relationship_get(request: HttpRequest, response: HttpResponse, public_id: str) -> Relationship:
    relationship = _relationship(request, public_id)
    response["ETag"] = etag(relationship)
    return relationship


@router.patch(
    "/relationships/{public_id}",
    response={200: RelationshipOut, **ERR_PATCH},
    summary="Change a relationship's notes",
    description=STALE_NOTE,
)
def relationship_update(
    request: HttpRequest,
    response: HttpResponse,
    public_id: str,
    body: RelationshipPatch,
    if_match: str | None = IF_MATCH,
) -> Relationship:
    services.require_manager(_user(request))
    relationship = _relationship(request, public_id)
    services.relationship_update_notes(
        relationship=relationship, by=_user(request), notes=body.notes, expected_version=versions_in(if_match)
    )
    relationship = _relationship(request, public_id)
    response["ETag"] = etag(relationship)
    return relationship


@router.post(
    "/relationships/{public_id}/status",
    response={200: RelationshipOut, 409: ErrorOut, **ERR_404},
    summary="Pause, resume or end a relationship",
)
def relationship_status(request: HttpRequest, public_id: str, body: RelationshipStatusIn) -> Relationship:
    services.require_manager(_user(request))
    relationship = _relationship(request, public_id)
    services.relationship_set_status(
        relationship=relationship, by=_user(request), status=body.status, on=body.on, note=body.note
    )
    return _relationship(request, public_id)


@router.get(
    "/relationships/{public_id}/events",
    response={200: list[RelationshipEventOut], **ERR, 404: ErrorOut},
    summary="The service history of a relationship, newest first",
)
@paginate(LimitOffset)
def relationship_events(request: HttpRequest, public_id: str) -> Any:
    return queries.relationship_events(relationship=_relationship(request, public_id))


def _role_target(request: HttpRequest, public_id: str, body: RoleIn) -> tuple[Relationship, Person]:
    services.require_manager(_user(request))
    relationship = _relationship(request, public_id)
    person = Person.objects.filter(public_id=body.person).select_related("organisation").first()
    if person is None:
        raise InvalidInput("person_unknown", "No person has that public id.", field="person")
    return relationship, person


@router.post(
    "/relationships/{public_id}/roles",
    response={201: RelationshipOut, 409: ErrorOut, **ERR_404},
    summary="Grant a person a role (customer, user, sponsor) in the relationship",
)
def role_grant(request: HttpRequest, public_id: str, body: RoleIn) -> Status:
    relationship, person = _role_target(request, public_id, body)
    services.role_grant(relationship=relationship, person=person, role=body.role, by=_user(request))
    return Status(201, _relationship(request, public_id))


@router.post(
    "/relationships/{public_id}/roles/revoke",
    response={200: RelationshipOut, **ERR_404},
    summary="Revoke a person's role in the relationship",
)
def role_revoke(request: HttpRequest, public_id: str, body: RoleIn) -> Relationship:
    relationship, person = _role_target(request, public_id, body)
    services.role_revoke(relationship=relationship, person=person, role=body.role, by=_user(request))
    return _relationship(request, public_id)

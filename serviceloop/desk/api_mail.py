"""The inbound mail webhook: a mail provider (or a script) posts one raw MIME message, which is stored
and answered 202; the worker parses and applies it. Staff read the outcome and review held mail."""

import hmac
from datetime import datetime
from typing import Annotated, Any, Literal

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.decorators import decorate_view
from ninja.pagination import paginate
from ninja.security import APIKeyHeader

from serviceloop.accounts.auth import session_auth, token_auth
from serviceloop.accounts.models import User
from serviceloop.core.errors import InvalidInput, NotAllowed
from serviceloop.core.pagination import LimitOffset
from serviceloop.core.ratelimit import by_ip, rate_limit
from serviceloop.core.schemas import ErrorOut, Integer, Omittable, Text
from serviceloop.desk import queries
from serviceloop.desk.models import InboundMail, MailRoute
from serviceloop.desk.services.mail_in import MailTooLarge, mail_discard, mail_release, mail_store
from serviceloop.desk.services.mail_routes import RouteFields, mail_route_create, mail_route_delete, mail_route_update

SECRET_HEADER = "X-Serviceloop-Mail-Secret"  # nosec B105  # the name of the header, not a secret
OutcomeName = Literal["received", "created", "replied", "held", "ignored", "rejected", "discarded"]


class MailSecretAuth(APIKeyHeader):
    """The shared secret of SERVICELOOP_MAIL_WEBHOOK_SECRET; nothing passes while it is empty."""

    param_name = SECRET_HEADER

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        secret = settings.SERVICELOOP_MAIL_WEBHOOK_SECRET
        if secret and key and hmac.compare_digest(key.encode(), secret.encode()):
            return "mail-webhook"
        return None


class InboundOut(Schema):
    id: str
    outcome: str
    reason: str
    ticket: str | None
    message: str | None

    @staticmethod
    def resolve_id(obj: InboundMail) -> str:
        return obj.public_id

    @staticmethod
    def resolve_ticket(obj: InboundMail) -> str | None:
        return obj.ticket.reference if obj.ticket else None

    @staticmethod
    def resolve_message(obj: InboundMail) -> str | None:
        return obj.message.public_id if obj.message else None


class InboundDetailOut(InboundOut):
    route: str = Field(description="Which mail route chose the service of the ticket it opened, and those passed over")
    source: str
    from_email: str
    subject: str
    email_message_id: str
    size: int
    received_at: datetime
    processed_at: datetime | None
    auth_dmarc: str
    auth_dkim: str
    auth_spf: str
    auth_results: str
    reviewed_by: str | None
    reviewed_at: datetime | None

    @staticmethod
    def resolve_reviewed_by(obj: InboundMail) -> str | None:
        return obj.reviewed_by.email if obj.reviewed_by else None


class InboundQuery(Schema):
    outcome: OutcomeName | None = None


mail_router = Router(tags=["desk mail"])


def _staff(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    if not getattr(user, "is_staff_member", False):
        raise NotAllowed("staff_only", "Only staff tokens or the mail webhook secret may post mail.")
    return user  # type: ignore[no-any-return]


def _read(request: HttpRequest) -> bytes:
    limit = int(settings.SERVICELOOP_MAIL_MAX_BYTES)
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise MailTooLarge.for_size(declared)
    # Read the stream ourselves: request.body would refuse anything above DATA_UPLOAD_MAX_MEMORY_SIZE.
    return request.read(limit + 1)


@mail_router.post(
    "/inbound",
    auth=[MailSecretAuth(), token_auth, session_auth],
    response={202: InboundOut, 401: ErrorOut, 403: ErrorOut, 413: ErrorOut, 422: ErrorOut},
    summary="Receive one raw mail (Content-Type: message/rfc822)",
    description=(
        "The body is one raw RFC 5322 message. Authenticated by a staff API token or the shared secret "
        f"header {SECRET_HEADER}. 202: the mail is stored (outcome `received`) and the worker parses and "
        "applies it; read the outcome at GET /api/desk/mail/inbound/{id}. 413 above SERVICELOOP_MAIL_MAX_BYTES, "
        "422 for input that is not a mail."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            # Sent as message/rfc822; declared as octet-stream, which OpenAPI tools (and the fuzzer) can send.
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
@decorate_view(rate_limit(("mail_webhook_ip", by_ip)))  # before authentication: guessed secrets count too
def inbound(request: HttpRequest) -> Any:
    if request.auth != "mail-webhook":  # type: ignore[attr-defined]
        _staff(request)
    log = mail_store(raw=_read(request), source=InboundMail.Source.WEBHOOK)
    return Status(202, log)


@mail_router.get(
    "/inbound",
    response={200: list[InboundDetailOut], 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="Inbound mail and what became of it, newest first (staff); ?outcome=held lists mail awaiting review",
)
@paginate(LimitOffset)
def inbound_list(request: HttpRequest, filters: Query[InboundQuery]) -> Any:
    rows = queries.inbound_mails(viewer=request.user, outcome=filters.outcome or "")  # type: ignore[arg-type]
    return rows


@mail_router.get(
    "/inbound/{public_id}",
    response={200: InboundDetailOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="One inbound mail: its outcome, reason, ticket and the receiving server's verdicts (staff)",
)
def inbound_detail(request: HttpRequest, public_id: str) -> Any:
    return queries.inbound_mail_for(viewer=request.user, public_id=public_id)  # type: ignore[arg-type]


@mail_router.post(
    "/inbound/{public_id}/release",
    response={200: InboundDetailOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Release a held mail to the ticket it claimed (or the ticket it opens) (staff)",
)
def inbound_release(request: HttpRequest, public_id: str) -> Any:
    log = queries.inbound_mail_for(viewer=request.user, public_id=public_id)  # type: ignore[arg-type]
    result = mail_release(inbound=log, by=request.user)  # type: ignore[arg-type]
    return queries.inbound_mail_for(viewer=request.user, public_id=result.log.public_id)  # type: ignore[arg-type]


@mail_router.post(
    "/inbound/{public_id}/discard",
    response={200: InboundDetailOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Discard a held mail: nothing is applied (staff)",
)
def inbound_discard(request: HttpRequest, public_id: str) -> Any:
    log = queries.inbound_mail_for(viewer=request.user, public_id=public_id)  # type: ignore[arg-type]
    mail_discard(inbound=log, by=request.user)  # type: ignore[arg-type]
    return queries.inbound_mail_for(viewer=request.user, public_id=public_id)  # type: ignore[arg-type]


# ---------------------------------------------------------------- routes


class RouteServiceOut(Schema):
    public_id: str
    name: str


class RouteOfferingOut(Schema):
    public_id: str
    name: str


class RouteOrganisationOut(Schema):
    public_id: str
    name: str


class RouteOut(Schema):
    id: str
    service: RouteServiceOut
    offering: RouteOfferingOut | None
    address: str
    keywords: list[str]
    sender_organisation: RouteOrganisationOut | None
    position: int
    is_active: bool
    note: str

    @staticmethod
    def resolve_id(obj: MailRoute) -> str:
        return obj.public_id

    @staticmethod
    def resolve_keywords(obj: MailRoute) -> list[str]:
        return obj.keyword_list


PublicId = Annotated[str, Field(min_length=1, max_length=24)]
Keyword = Annotated[Text, Field(min_length=1, max_length=100)]


class RouteIn(Schema):
    service: PublicId
    offering: PublicId | None = None
    address: Annotated[Text, Field(max_length=254)] = Field(
        "", description="An address route: mail sent to it (stored lower-case; one route per address)"
    )
    keywords: Annotated[list[Keyword], Field(max_length=50)] = Field(
        [], description="A rule: any of these words or phrases at the start of a word of the subject or body"
    )
    sender_organisation: PublicId | None = Field(None, description="A rule: mail from people of this organisation")
    position: Annotated[Integer, Field(ge=0, le=1_000_000)] = Field(100, description="Rules are tried lowest first")
    is_active: bool = True
    note: Annotated[Text, Field(max_length=200)] = ""


class RoutePatch(Schema):
    service: PublicId = Omittable()
    offering: PublicId | None = Field(None, description="null: no offering of its own")
    address: Annotated[Text, Field(max_length=254)] = Omittable()
    keywords: Annotated[list[Keyword], Field(max_length=50)] = Omittable()
    sender_organisation: PublicId | None = Field(None, description="null: mail from any organisation")
    position: Annotated[Integer, Field(ge=0, le=1_000_000)] = Omittable()
    is_active: bool = Omittable()
    note: Annotated[Text, Field(max_length=200)] = Omittable()


def _manager(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not getattr(user, "can_manage_services", False):
        raise NotAllowed("managers_only", "Only administrators and service managers may change mail routes.")
    return user


def _fields(data: dict[str, Any], current: MailRoute | None = None) -> RouteFields:
    """The route's fields from a body: public ids looked up (404 when unknown), the rest kept as current."""

    def pick(name: str, default: Any) -> Any:
        return data.get(name, default)

    service_id = pick("service", None)
    service = queries.service_for(service_id) if service_id else (current.service if current is not None else None)
    if service is None:
        raise InvalidInput("service_required", "Name the service the route sends mail to.", field="service")
    offering_id = pick("offering", current.offering.public_id if current is not None and current.offering else None)
    organisation_id = pick(
        "sender_organisation",
        current.sender_organisation.public_id if current is not None and current.sender_organisation else None,
    )
    keywords = pick("keywords", current.keyword_list if current is not None else [])
    return RouteFields(
        service=service,
        offering=queries.offering_for(offering_id) if offering_id else None,
        address=pick("address", current.address if current is not None else "") or "",
        keywords=", ".join(keywords or []),
        sender_organisation=queries.organisation_for(organisation_id) if organisation_id else None,
        position=pick("position", current.position if current is not None else 100),
        is_active=pick("is_active", current.is_active if current is not None else True),
        note=pick("note", current.note if current is not None else "") or "",
    )


ROUTE_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


@mail_router.get(
    "/routes",
    response={200: list[RouteOut], 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="Mail routes: address routes first, then the rules in the order they are tried (staff)",
)
@paginate(LimitOffset)
def route_list(request: HttpRequest) -> Any:
    return queries.mail_routes(viewer=request.user)  # type: ignore[arg-type]


@mail_router.post(
    "/routes",
    response={201: RouteOut, **ROUTE_ERRORS},
    summary="Add a mail route: an address, or a rule of keywords and/or a sender organisation (managers)",
    description="409 when another route has the address; 422 for an address that is no email address, "
    "a route with both an address and a rule, or one that matches nothing.",
)
def route_create(request: HttpRequest, body: RouteIn) -> Status:
    user = _manager(request)
    route = mail_route_create(by=user, data=_fields(body.dict()))
    return Status(201, queries.mail_route_for(viewer=user, public_id=route.public_id))


@mail_router.get(
    "/routes/{public_id}", response={200: RouteOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}, summary="One route"
)
def route_get(request: HttpRequest, public_id: str) -> Any:
    return queries.mail_route_for(viewer=request.user, public_id=public_id)  # type: ignore[arg-type]


@mail_router.patch(
    "/routes/{public_id}", response={200: RouteOut, **ROUTE_ERRORS}, summary="Change a mail route (managers)"
)
def route_update(request: HttpRequest, public_id: str, body: RoutePatch) -> Any:
    user = _manager(request)
    route = queries.mail_route_for(viewer=user, public_id=public_id)
    mail_route_update(route=route, by=user, data=_fields(body.dict(exclude_unset=True), current=route))
    return queries.mail_route_for(viewer=user, public_id=public_id)


@mail_router.delete(
    "/routes/{public_id}",
    response={204: None, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Delete a mail route (managers)",
)
def route_delete(request: HttpRequest, public_id: str) -> Status:
    user = _manager(request)
    mail_route_delete(route=queries.mail_route_for(viewer=user, public_id=public_id), by=user)
    return Status(204, None)

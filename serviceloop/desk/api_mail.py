"""The inbound mail webhook: a mail provider (or a script) posts one raw MIME message, which is stored
and answered 202; the worker parses and applies it. Staff read the outcome and review held mail."""

import hmac
from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.decorators import decorate_view
from ninja.pagination import paginate
from ninja.security import APIKeyHeader

from serviceloop.accounts.auth import session_auth, token_auth
from serviceloop.accounts.models import User
from serviceloop.core.errors import NotAllowed
from serviceloop.core.pagination import LimitOffset
from serviceloop.core.ratelimit import by_ip, rate_limit
from serviceloop.core.schemas import ErrorOut
from serviceloop.desk import queries
from serviceloop.desk.models import InboundMail
from serviceloop.desk.services.mail_in import MailTooLarge, mail_discard, mail_release, mail_store

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

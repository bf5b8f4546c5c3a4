"""The inbound mail webhook: a mail provider (or a script) posts one raw MIME message."""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.security import APIKeyHeader

from serviceloop.accounts.auth import session_auth, token_auth
from serviceloop.core.errors import DomainError, InvalidInput, NotAllowed
from serviceloop.core.schemas import ErrorOut
from serviceloop.desk.mail_parse import MailParseError
from serviceloop.desk.models import InboundMail
from serviceloop.desk.services.mail_in import mail_receive

MAX_MAIL_BYTES = 25 * 1024 * 1024
SECRET_HEADER = "X-Serviceloop-Mail-Secret"  # nosec B105  # the name of the header, not a secret


class MailSecretAuth(APIKeyHeader):
    """The shared secret of SERVICELOOP_MAIL_WEBHOOK_SECRET; nothing passes while it is empty."""

    param_name = SECRET_HEADER

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        secret = settings.SERVICELOOP_MAIL_WEBHOOK_SECRET
        if secret and key and hmac.compare_digest(key.encode(), secret.encode()):
            return "mail-webhook"
        return None


class TooLarge(DomainError):
    status = 413


class InboundOut(Schema):
    outcome: str
    reason: str
    ticket: str | None
    message: str | None


mail_router = Router(tags=["desk mail"])


def _read(request: HttpRequest) -> bytes:
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    too_large = TooLarge("mail_too_large", f"A mail may have at most {MAX_MAIL_BYTES // (1024 * 1024)} MB.")
    if declared > MAX_MAIL_BYTES:
        raise too_large
    # Read the stream ourselves: request.body would refuse anything above DATA_UPLOAD_MAX_MEMORY_SIZE.
    data = request.read(MAX_MAIL_BYTES + 1)
    if len(data) > MAX_MAIL_BYTES:
        raise too_large
    return data


@mail_router.post(
    "/inbound",
    auth=[MailSecretAuth(), token_auth, session_auth],
    response={200: InboundOut, 201: InboundOut, 401: ErrorOut, 403: ErrorOut, 413: ErrorOut, 422: ErrorOut},
    summary="Receive one raw mail (Content-Type: message/rfc822)",
    description=(
        "The body is one raw RFC 5322 message. Authenticated by a staff API token or the shared secret "
        f"header {SECRET_HEADER}. 201 when it opened a ticket; 200 when it was a reply, or was ignored "
        "(auto-reply, bounce, loop, duplicate) or rejected (unknown sender): see outcome and reason."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            # Sent as message/rfc822; declared as octet-stream, which OpenAPI tools (and the fuzzer) can send.
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def inbound(request: HttpRequest) -> Any:
    if request.auth != "mail-webhook":  # type: ignore[attr-defined]
        user = request.auth  # type: ignore[attr-defined]
        if not getattr(user, "is_staff_member", False):
            raise NotAllowed("staff_only", "Only staff tokens or the mail webhook secret may post mail.")
    raw = _read(request)
    try:
        result = mail_receive(raw=raw, source=InboundMail.Source.WEBHOOK)
    except MailParseError as error:
        raise InvalidInput("not_a_mail", f"This is not a mail: {error}") from None
    out = {
        "outcome": result.outcome,
        "reason": result.reason,
        "ticket": result.ticket.reference if result.ticket else None,
        "message": result.message.public_id if result.message else None,
    }
    return Status(201 if result.outcome == InboundMail.Outcome.CREATED else 200, out)

"""The channels API: the ingest API for other systems, posts (API and signed webhook)."""

from __future__ import annotations

import json
from datetime import datetime

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.decorators import decorate_view
from ninja.pagination import paginate
from pydantic import ValidationError

from serviceloop.core.errors import InvalidInput
from serviceloop.core.pagination import LimitOffset
from serviceloop.core.ratelimit import by_caller, by_ip, rate_limit
from serviceloop.core.schemas import ErrorOut
from serviceloop.core.visibility import require_staff
from serviceloop.feedback.channel_queries import posts_of, service_for
from serviceloop.feedback.models import Post, Response
from serviceloop.feedback.services.ingest import (
    MAX_BATCH_LINES,
    IngestItem,
    LineError,
    ingest_batch,
    ingest_one,
    split_ndjson,
)
from serviceloop.feedback.services.posts import (
    MAX_POSTS_PER_REQUEST,
    PostItem,
    PostReport,
    post_record,
    posts_record,
    validation_reason,
    webhook_signature_valid,
)

router = Router(tags=["feedback"])

NDJSON = "application/x-ndjson"


class LineErrorOut(Schema):
    line: int
    reason: str


class IngestReportOut(Schema):
    received: int
    created: int
    duplicates: int
    rejected: int
    errors: list[LineErrorOut]


class IngestedOut(Schema):
    public_id: str
    created: bool
    source: str
    external_id: str | None
    service: str
    sentiment_label: str | None
    sentiment_score: float | None


class PostOut(Schema):
    public_id: str
    kind: str
    source: str
    external_id: str
    author_handle: str
    url: str
    text: str
    posted_at: datetime
    services: list[str]
    matched: bool
    in_inbox: bool
    masked: bool
    sentiment_score: float | None
    sentiment_label: str | None
    sentiment_version: str

    @staticmethod
    def resolve_services(post: Post) -> list[str]:
        return [service.public_id for service in post.services.all()]


class PostRecordedOut(Schema):
    post: PostOut
    created: bool


class PostReportOut(IngestReportOut):
    matched: int


def _ingested(response: Response, created: bool) -> dict[str, object]:
    return {
        "public_id": response.public_id,
        "created": created,
        "source": response.source,
        "external_id": response.external_id,
        "service": response.service.public_id,
        "sentiment_label": response.sentiment_label,
        "sentiment_score": response.sentiment_score,
    }


@router.post(
    "/ingest",
    response={200: IngestedOut, 201: IngestedOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="Ingest one response from another system (idempotent by source and external_id)",
    description=(
        "Answers 201 when stored, 200 with the stored response when (source, external_id) was sent before. "
        "At most SERVICELOOP_RATE_INGEST_TOKEN requests a token (this and /ingest/batch together); then 429."
    ),
)
@decorate_view(rate_limit(("ingest_token", by_caller)))
def ingest(request: HttpRequest, body: IngestItem) -> Status:
    require_staff(request.user)
    response, created = ingest_one(item=body, by=request.user)  # type: ignore[arg-type]
    return Status(201 if created else 200, _ingested(response, created))


@router.post(
    "/ingest/batch",
    response={
        200: IngestReportOut,
        401: ErrorOut,
        403: ErrorOut,
        413: ErrorOut,
        415: ErrorOut,
        422: ErrorOut,
        429: ErrorOut,
    },
    summary=f"Ingest up to {MAX_BATCH_LINES:,} responses as NDJSON",
    description=(
        "One JSON object a line, each like the body of POST /ingest. Every line is validated first; the "
        "valid new lines are stored in one transaction, repeats of stored (source, external_id) pairs count "
        "as duplicates, and every rejected line is reported with its number and reason. Sending the same "
        "batch again changes nothing. A batch counts as one request against SERVICELOOP_RATE_INGEST_TOKEN."
    ),
    openapi_extra={
        "requestBody": {"required": True, "content": {NDJSON: {"schema": {"type": "string", "format": "binary"}}}}
    },
)
@decorate_view(rate_limit(("ingest_token", by_caller)))
def ingest_batch_route(request: HttpRequest) -> Status:
    require_staff(request.user)
    content_type = request.content_type or ""
    if content_type not in (NDJSON, "application/jsonl", "application/json-seq"):
        return Status(415, {"code": "unsupported_media_type", "message": f"Send the batch as {NDJSON}."})
    try:
        body = request.body
    except RequestDataTooBig:
        return Status(413, {"code": "too_large", "message": "The batch is too large; send at most 10,000 lines."})
    lines = split_ndjson(body)
    if sum(1 for line in lines if line.strip()) > MAX_BATCH_LINES:
        return Status(
            413, {"code": "batch_too_large", "message": f"A batch holds at most {MAX_BATCH_LINES:,} lines; split it."}
        )
    report = ingest_batch(lines=lines, by=request.user)  # type: ignore[arg-type]
    return Status(200, report)


@router.get("/posts", response={200: list[PostOut], 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}, summary="Posts")
@paginate(LimitOffset)
def posts(request: HttpRequest, service: str | None = None, inbox: bool | None = None) -> object:
    """Filter by a service's public id, or `inbox=true` for the unmatched posts waiting for triage."""
    found = service_for(viewer=request.user, public_id=service) if service else None
    return posts_of(viewer=request.user, service=found, inbox=inbox)


@router.post(
    "/posts",
    response={200: PostRecordedOut, 201: PostRecordedOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="Record a post, mention, chat message or review (idempotent by source and external_id)",
)
def post_create(request: HttpRequest, body: PostItem) -> Status:
    require_staff(request.user)
    post, created = post_record(item=body)
    return Status(201 if created else 200, {"post": post, "created": created})


@router.post(
    "/posts/webhook",
    auth=None,
    response={200: PostReportOut, 401: ErrorOut, 413: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="Posts pushed by a social or chat system, signed with a shared secret",
    description=(
        'The body is one post object or {"posts": [...]}. Sign the raw body: header '
        "`X-Serviceloop-Signature: sha256=<hex HMAC-SHA256 of the body>`, with the secret of the source "
        "named in `X-Serviceloop-Source` (Post sources page) or SERVICELOOP_POST_WEBHOOK_SECRET. At most "
        "SERVICELOOP_RATE_POST_WEBHOOK_IP requests from one address, signed or not; then 429."
    ),
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}},
)
@decorate_view(rate_limit(("post_webhook_ip", by_ip)))
def posts_webhook(request: HttpRequest) -> Status:
    try:
        body = request.body
    except RequestDataTooBig:
        return Status(413, {"code": "too_large", "message": "The request is too large; send fewer posts at a time."})
    source = request.headers.get("X-Serviceloop-Source", "").strip() or None
    signature = request.headers.get("X-Serviceloop-Signature", "")
    if not webhook_signature_valid(body=body, signature=signature, source=source):
        return Status(
            401,
            {
                "code": "bad_signature",
                "message": "Sign the body: X-Serviceloop-Signature: sha256=<HMAC-SHA256 with the source's secret>.",
            },
        )
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("invalid_json", "The body is not JSON.")
    raw_items = data.get("posts") if isinstance(data, dict) and "posts" in data else [data]
    if not isinstance(raw_items, list):
        raise InvalidInput("invalid_body", 'Send one post object or {"posts": [...]}.')
    if len(raw_items) > MAX_POSTS_PER_REQUEST:
        return Status(413, {"code": "too_many", "message": f"Send at most {MAX_POSTS_PER_REQUEST:,} posts at a time."})
    report = PostReport(received=len(raw_items))
    items = []
    for number, raw in enumerate(raw_items, start=1):
        if isinstance(raw, dict) and source and "source" not in raw:
            raw = {**raw, "source": source}
        try:
            item = PostItem.model_validate(raw)
        except ValidationError as error:
            report.errors.append(LineError(number, validation_reason(error)))
            continue
        if source and item.source != source:
            report.errors.append(LineError(number, f"source: this webhook is signed for {source!r}"))
            continue
        items.append((number, item))
    posts_record(items=items, report=report)
    return Status(200, report)

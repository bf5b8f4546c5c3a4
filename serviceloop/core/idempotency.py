"""`Idempotency-Key` on API writes: a client that retries gets the first answer, and nothing is written twice.

A POST, PUT, PATCH or DELETE under /api/ that carries the header runs in one transaction together
with the row that remembers its answer; a repeat by the same caller (the same token, or the same
signed-in user) within `SERVICELOOP_IDEMPOTENCY_HOURS` answers the stored answer again with
`Idempotent-Replayed: true`. Two copies sent at once are serialised by the key's unique constraint:
the second waits for the first and then replays it. The same key with a different request answers
422. Answers of 500 and above are not kept: their writes are rolled back and a retry runs anew.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse

from serviceloop.core import clock
from serviceloop.core.models import IdempotencyKey

HEADER = "Idempotency-Key"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
MAX_KEY_LENGTH = 255
# Credentials that identify a caller of the API besides a session: a bearer token, a webhook secret.
_CREDENTIAL_HEADERS = ("Authorization", "X-Serviceloop-Mail-Secret")


class _Rollback(Exception):
    """Raised inside the transaction to undo a request whose answer we do not keep (5xx)."""

    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def _error(status: int, code: str, message: str) -> HttpResponse:
    return HttpResponse(json.dumps({"code": code, "message": message}), status=status, content_type="application/json")


def caller_scope(request: HttpRequest) -> str | None:
    """Who is calling, so that one caller's key never replays another's answer."""
    for name in _CREDENTIAL_HEADERS:
        value = request.headers.get(name)
        if value:
            return "cred:" + hashlib.sha256(f"{name}:{value}".encode()).hexdigest()[:48]
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() if request.method else b"")
    digest.update(b"\0" + request.get_full_path().encode() + b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def _replay(stored: IdempotencyKey, fingerprint: str) -> HttpResponse:
    if stored.fingerprint != fingerprint:
        return _error(
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was used for a different request; use a new key for a new request.",
        )
    response = HttpResponse(bytes(stored.body), status=stored.status_code, content_type=stored.content_type)
    response["Idempotent-Replayed"] = "true"
    return response


def _stored(scope: str, key: str) -> IdempotencyKey | None:
    retention = timedelta(hours=float(settings.SERVICELOOP_IDEMPOTENCY_HOURS))
    return IdempotencyKey.objects.filter(scope=scope, key=key, created_at__gte=clock.now() - retention).first()


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if key is None or request.method not in WRITES or not request.path.startswith("/api/"):
            return self.get_response(request)
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            return _error(
                400, "invalid_idempotency_key", f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable characters."
            )
        scope = caller_scope(request)
        if scope is None:
            return self.get_response(request)  # an anonymous caller: nothing to scope a key to
        try:
            fingerprint = _fingerprint(request)
        except RequestDataTooBig:
            return _error(413, "too_large", "The request body is larger than this server accepts.")
        stored = _stored(scope, key)
        if stored is not None:
            return _replay(stored, fingerprint)
        try:
            return self._first(request, scope, key, fingerprint)
        except IntegrityError:
            # The same key arrived at once from a concurrent copy of this request, which committed first.
            stored = _stored(scope, key)
            if stored is None:
                raise
            return _replay(stored, fingerprint)

    def _first(self, request: HttpRequest, scope: str, key: str, fingerprint: str) -> HttpResponse:
        try:
            with transaction.atomic():
                # An expired key of this caller makes room for the same key again.
                retention = timedelta(hours=float(settings.SERVICELOOP_IDEMPOTENCY_HOURS))
                IdempotencyKey.objects.filter(scope=scope, key=key, created_at__lt=clock.now() - retention).delete()
                row = IdempotencyKey.objects.create(
                    scope=scope,
                    key=key,
                    fingerprint=fingerprint,
                    status_code=0,
                    content_type="",
                    body=b"",
                    created_at=clock.now(),
                )
                response = self.get_response(request)
                if response.status_code >= 500:
                    raise _Rollback(response)
                if response.streaming or response.status_code == 429:
                    # A stream cannot be replayed (its writes stand); a 429 wrote nothing and the same
                    # key must work once the client has waited out Retry-After.
                    row.delete()
                    return response
                row.status_code = response.status_code
                row.content_type = response.get("Content-Type", "application/json")
                row.body = bytes(response.content)
                row.save(update_fields=["status_code", "content_type", "body"])
                return response
        except _Rollback as rollback:
            return rollback.response

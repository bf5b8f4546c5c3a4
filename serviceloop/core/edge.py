"""The request's edge, before any view reads it: chunked bodies are read, NUL characters refused.

- A body sent with `Transfer-Encoding: chunked` has no Content-Length. gunicorn hands it over
  de-chunked in `wsgi.input`, but Django reads a body by CONTENT_LENGTH, so it saw an empty body (an
  ingest batch answered `received: 0`). The body is read here up to DATA_UPLOAD_MAX_MEMORY_SIZE
  (or SERVICELOOP_MAIL_MAX_BYTES when larger; past it: 413) and given to Django with its length.
- A NUL character (`%00`) in the path, the query string or a page's form field is refused before a view
  looks anything up with it: PostgreSQL cannot hold NUL in text and answers an error (a 500), SQLite
  would have stored it. The API answers 422 naming the parameter, pages 400.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseNotFound

from serviceloop.core.schemas import NUL_MESSAGE, unstorable_at

_READ = 64 * 1024


def _json(status: int, body: dict[str, object]) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def _chunked_limit() -> int:
    # The largest body any route takes: the mail webhook may take more than other bodies (its own
    # setting). Past the read, each route's own limit applies, as the body now has a Content-Length.
    return max(settings.DATA_UPLOAD_MAX_MEMORY_SIZE, int(getattr(settings, "SERVICELOOP_MAIL_MAX_BYTES", 0)))


def _too_large(request: HttpRequest) -> HttpResponse:
    limit = _chunked_limit()
    message = f"The body is too large: send at most {limit // (1024 * 1024)} MB."
    if _is_api(request):
        return _json(413, {"code": "too_large", "message": message})
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


def read_chunked_body(request: HttpRequest) -> HttpResponse | None:
    """Read a chunked body (no Content-Length) into a spooled file; 413 past the body limit."""
    meta = request.META
    if meta.get("CONTENT_LENGTH") or "chunked" not in meta.get("HTTP_TRANSFER_ENCODING", "").lower():
        return None
    stream = meta.get("wsgi.input")
    if stream is None:
        return None
    limit = _chunked_limit()
    spool = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115 - the request owns it
    size = 0
    while True:
        chunk = stream.read(_READ)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            spool.close()
            return _too_large(request)
        spool.write(chunk)
    spool.seek(0)
    meta["CONTENT_LENGTH"] = str(size)
    # What WSGIRequest.__init__ would have built had the client sent Content-Length.
    request._stream = LimitedStream(spool, size)  # type: ignore[assignment,arg-type]
    request._spooled_body = spool  # type: ignore[attr-defined] # closed with the request's files
    return None


def _nul_parameter(request: HttpRequest) -> str | None:
    for name, values in request.GET.lists():
        if unstorable_at(name) is not None or unstorable_at(values) is not None:
            return name.replace("\x00", "\\u0000")
    content_type = request.content_type or ""
    # Form fields of pages only: the API takes JSON, and parsing a form here would consume the stream
    # that the idempotency middleware reads as `request.body`.
    form = content_type in ("application/x-www-form-urlencoded", "multipart/form-data")
    if request.method == "POST" and form and not _is_api(request):
        for name, values in request.POST.lists():
            if unstorable_at(name) is not None or unstorable_at(values) is not None:
                return name.replace("\x00", "\\u0000")
    return None


def refuse_nul(request: HttpRequest) -> HttpResponse | None:
    """404 for a NUL in the path; 422 (API) or 400 (pages) naming the parameter that holds one."""
    if "\x00" in request.path_info:
        if _is_api(request):
            return _json(404, {"code": "not_found", "message": "No such object, or you may not see it."})
        return HttpResponseNotFound("Not found.", content_type="text/plain; charset=utf-8")
    name = _nul_parameter(request)
    if name is None:
        return None
    message = f"{name}: {NUL_MESSAGE}"
    if _is_api(request):
        return _json(
            422,
            {"code": "invalid", "message": message, "field": name, "errors": [{"field": name, "message": NUL_MESSAGE}]},
        )
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


class RequestEdgeMiddleware:
    """See the module docstring; first after SecurityMiddleware, before anything reads the body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refused = read_chunked_body(request) or refuse_nul(request)
        if refused is not None:
            return refused
        try:
            return self.get_response(request)
        finally:
            spool = getattr(request, "_spooled_body", None)
            if spool is not None:
                spool.close()

"""The HTTP API: one NinjaAPI that mounts each app's router and maps errors to one shape.

Each app that has an API exposes `router` in its `api.py`; it is mounted at /api/<app>/.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from serviceloop.accounts.auth import API_AUTH
from serviceloop.core.errors import DomainError
from serviceloop.core.ratelimit import RateLimited
from serviceloop.core.schemas import ErrorOut

logger = logging.getLogger(__name__)


IDEMPOTENT_WRITES = {"POST", "PUT", "PATCH", "DELETE"}
IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": (
        "Retry safely: a repeat of this request by the same caller within 24 hours answers the first "
        "answer (with `Idempotent-Replayed: true`) and writes nothing; the same key with another request "
        "answers 422."
    ),
}


RATE_LIMITED_DESCRIPTION = "Too many requests (or too many bad API tokens from this address); see Retry-After"


RETRY_AFTER_HEADER = {
    "description": "Seconds to wait before trying again.",
    "schema": {"type": "integer", "minimum": 1},
}


class ServiceloopAPI(NinjaAPI):
    """NinjaAPI whose schema documents the answers every operation can give.

    Any operation may answer 422 (its input failed validation), 400 when it takes a body that
    cannot be parsed, and, when it needs a login, 401 and 429 (an address locked out after too many
    bad API tokens);
    the exception handlers below produce them for every route, so the document says so once here
    rather than in each route's `response=`.
    """

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        error_schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in error_schema.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components.setdefault("ErrorOut", error_schema)
        ref = {
            "description": "Error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
        }
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                # ninja keys responses by int (401), JSON by string ("401"): one key per status, or the
                # document carries duplicate keys that YAML tools and Swagger UI refuse.
                responses = {str(status): answer for status, answer in operation.get("responses", {}).items()}
                operation["responses"] = responses
                responses.setdefault("422", {**ref, "description": "The request is invalid"})
                if "requestBody" in operation:
                    responses.setdefault("400", {**ref, "description": "The body cannot be parsed"})
                if method.upper() in IDEMPOTENT_WRITES:
                    # core.idempotency.IdempotencyMiddleware serves every API write.
                    operation.setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)
                    responses.setdefault("400", {**ref, "description": "The body or the Idempotency-Key is invalid"})
                if operation.get("security"):
                    responses.setdefault("401", {**ref, "description": "Not signed in"})
                    # core.ratelimit: an address that sent too many bad tokens is locked out a while.
                    responses.setdefault("429", {**ref, "description": RATE_LIMITED_DESCRIPTION})
                if "429" in responses:
                    responses["429"] = {**responses["429"], "headers": {"Retry-After": RETRY_AFTER_HEADER}}
        return schema


api = ServiceloopAPI(
    title="serviceloop API",
    version="1",
    description=(
        "Service experience platform: catalogue, relationships, desk, feedback, experience. "
        "Authenticate with `Authorization: Bearer <token>` (create a token under Account → API tokens) "
        "or with the browser session. Errors are `{code, message}`; invalid bodies answer 422 with `errors`."
    ),
    auth=API_AUTH,
    urls_namespace="api",
)


def _error(request: HttpRequest, status: int, code: str, message: str, **extra: object) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, **extra}, status=status)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc.status, exc.code, exc.message, field=exc.field)


@api.exception_handler(RateLimited)
def on_rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = _error(request, 429, exc.code, exc.message)
    response["Retry-After"] = str(exc.decision.retry_after)
    return response


@api.exception_handler(PermissionDenied)
def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, "forbidden", str(exc) or "You are not allowed to do this.")


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(request, 404, "not_found", "No such object, or you may not see it.")


@api.exception_handler(ObjectDoesNotExist)
def on_missing_row(request: HttpRequest, exc: Exception) -> HttpResponse:
    return on_not_found(request, exc)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(
        request, 401, "unauthenticated", "Sign in, or send a valid API token as 'Authorization: Bearer <token>'."
    )


@api.exception_handler(ValidationError)
def on_invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = []
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", []) if part not in ("body", "query", "path", "payload")]
        errors.append({"field": ".".join(location) or "body", "message": str(error.get("msg", "invalid"))})
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5]) or "The request is invalid."
    return _error(request, 422, "invalid", summary, errors=errors)


@api.exception_handler(DataError)
def on_data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
    # PostgreSQL refuses NUL characters in text (SQLite stores them): a bad input, not a server fault.
    logger.info("database refused the input of %s: %s", request.path, exc)
    return _error(request, 422, "invalid", "The request contains characters that cannot be stored, such as NUL.")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, "error", str(exc))


def _mount_app_routers() -> None:
    for config in apps.get_app_configs():
        if not config.name.startswith("serviceloop."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.api")
        except ModuleNotFoundError as error:
            if error.name != f"{config.name}.api":
                raise
            continue
        router = getattr(module, "router", None)
        if router is not None:
            api.add_router(f"/{config.label}/", router)


_mount_app_routers()

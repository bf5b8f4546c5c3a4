"""API authentication: a personal token (Bearer) or the browser session (with CSRF)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from serviceloop.accounts.services import api_token_authenticate
from serviceloop.core.ratelimit import lockout


class TokenAuth(HttpBearer):
    # SERVICELOOP_RATE_API_TOKEN_FAILURES_IP bad tokens lock the address out a while (429, Retry-After).
    @lockout("api_token_failures_ip", "Too many bad API tokens from this address; try again in {wait}.")
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        # An expired or revoked token raises TokenRefused: 401 with the reason, not a fall back to
        # the session.
        api_token = api_token_authenticate(token)
        if api_token is None:
            return None
        request.user = api_token.user
        # Which token signed the request in: a token may not create tokens (accounts.api).
        request.api_token = api_token  # type: ignore[attr-defined]
        return api_token.user


class SessionAuth(APIKeyCookie):
    """Django's session cookie; unsafe methods need the CSRF token, as on pages."""

    param_name = "sessionid"

    def __call__(self, request: HttpRequest) -> Any:
        # Without a signed-in session there is nothing for CSRF to protect: a client with a bad or
        # missing token (and perhaps a stale cookie) must hear 401 (sign in), not 403 "CSRF check failed".
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


token_auth = TokenAuth()
session_auth = SessionAuth(csrf=True)
API_AUTH = [token_auth, session_auth]

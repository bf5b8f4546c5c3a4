"""Authorisation rows for accounts pages and API (see serviceloop/core/authz_matrix.py)."""

from __future__ import annotations

from serviceloop.accounts.services import api_token_create
from serviceloop.core.authz_matrix import ANY_USER_API, ANY_USER_PAGE, PUBLIC_PAGE, Endpoint, Page, World, expect

SIGNED_IN_REDIRECT = expect(anonymous=200, customer_a=302, agent=302)
ALWAYS_REDIRECT = expect(anonymous=302, customer_a=302, agent=302)
# One's own token; administrators may revoke anyone's.
OWN_TOKEN_PAGE = expect(anonymous=302, customer_a=302, customer_b=404, agent=404, manager=404, admin=302)
OWN_TOKEN_API = expect(anonymous=401, customer_a=200, customer_b=404, agent=404, manager=404, admin=200)
ADMIN_PAGE = expect(anonymous=302, customer_a=403, agent=403, manager=403, admin=200)
ADMIN_API = expect(anonymous=401, customer_a=403, agent=403, manager=403, admin=200)


def build(world: World) -> None:
    world.token_a = api_token_create(user=world.users["customer_a"], name="carol's script").token


PAGES = [
    # Customers land on the desk portal.
    Page("home", expect(anonymous=302, customer_a=302, agent=200)),
    Page("healthz", PUBLIC_PAGE),
    Page("admin:index", expect(anonymous=302, customer_a=302, agent=302, manager=302, admin=200)),
    Page("api:openapi-json", PUBLIC_PAGE),
    Page("api:openapi-view", PUBLIC_PAGE),
    Page("accounts:login", SIGNED_IN_REDIRECT),
    Page("accounts:logout", ALWAYS_REDIRECT, method="POST"),
    Page("accounts:password_reset", PUBLIC_PAGE),
    Page("accounts:password_reset_done", PUBLIC_PAGE),
    Page("accounts:password_reset_confirm", PUBLIC_PAGE, kwargs=lambda w: {"uidb64": "MQ", "token": "set-password"}),
    Page("accounts:password_reset_complete", PUBLIC_PAGE),
    Page("accounts:password_change", ANY_USER_PAGE),
    Page("accounts:password_change_done", ANY_USER_PAGE),
    Page("accounts:tokens", ANY_USER_PAGE),
    Page("accounts:tokens_active", ADMIN_PAGE),
    Page("accounts:token_revoke", OWN_TOKEN_PAGE, kwargs=lambda w: {"public_id": w.token_a.public_id}, method="POST"),
]

ENDPOINTS = [
    Endpoint("GET", "/api/accounts/me", ANY_USER_API),
    Endpoint("GET", "/api/accounts/tokens", ANY_USER_API),
    Endpoint("GET", "/api/accounts/tokens/active", ADMIN_API),
    # The matrix calls the API with a token, and a token may not create tokens (a session may).
    Endpoint(
        "POST", "/api/accounts/tokens", expect(anonymous=401, customer_a=403, agent=403), body=lambda w: {"name": "ci"}
    ),
    Endpoint(
        "POST",
        "/api/accounts/tokens/{public_id}/revoke",
        OWN_TOKEN_API,
        params=lambda w: {"public_id": w.token_a.public_id},
    ),
]

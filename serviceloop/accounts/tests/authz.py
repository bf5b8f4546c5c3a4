"""Authorisation rows for accounts pages and API (see serviceloop/core/authz_matrix.py)."""

from __future__ import annotations

from serviceloop.accounts.services import api_token_create
from serviceloop.core.authz_matrix import (
    ANY_USER_API,
    ANY_USER_PAGE,
    PUBLIC_PAGE,
    SIGN_IN,
    Endpoint,
    Page,
    Redirect,
    World,
    expect,
    to,
)

# Signed-in people who open the sign-in page go home; the home page sends customers to their portal.
SIGNED_IN_REDIRECT = expect(anonymous=200, customer_a=to("home"), agent=to("home"))
SIGNED_OUT = expect(anonymous=to("accounts:login"), customer_a=to("accounts:login"), agent=to("accounts:login"))
# One's own token; administrators may revoke anyone's (and go back to the list of active tokens).
OWN_TOKEN_PAGE = expect(
    anonymous=SIGN_IN,
    customer_a=to("accounts:tokens"),
    customer_b=404,
    agent=404,
    manager=404,
    admin=to("accounts:tokens_active"),
)
OWN_TOKEN_API = expect(anonymous=401, customer_a=200, customer_b=404, agent=404, manager=404, admin=200)
ADMIN_PAGE = expect(anonymous=SIGN_IN, customer_a=403, agent=403, manager=403, admin=200)
ADMIN_API = expect(anonymous=401, customer_a=403, agent=403, manager=403, admin=200)
# Django's admin sends everyone but administrators to its own sign-in page, back to where they were.
ADMIN_SIGN_IN = Redirect("admin:login", back=True)


def build(world: World) -> None:
    world.token_a = api_token_create(user=world.users["customer_a"], name="carol's script").token


PAGES = [
    # Customers land on the desk portal.
    Page("home", expect(anonymous=SIGN_IN, customer_a=to("desk:portal"), agent=200)),
    Page("healthz", PUBLIC_PAGE),
    Page(
        "admin:index",
        expect(
            anonymous=ADMIN_SIGN_IN, customer_a=ADMIN_SIGN_IN, agent=ADMIN_SIGN_IN, manager=ADMIN_SIGN_IN, admin=200
        ),
    ),
    Page("api:openapi-json", PUBLIC_PAGE),
    Page("api:openapi-view", PUBLIC_PAGE),
    Page("api:api-root", expect(anonymous=404, customer_a=404, agent=404)),
    Page("accounts:login", SIGNED_IN_REDIRECT),
    # A wrong password shows the form again (422, a refused form) for whoever sends it.
    Page(
        "accounts:login",
        expect(anonymous=422, customer_a=to("home"), agent=to("home")),
        method="POST",
        data=lambda w: {"username": "carol@acme.example", "password": "not-the-password"},
    ),
    Page("accounts:logout", SIGNED_OUT, method="POST"),
    Page("accounts:password_reset", PUBLIC_PAGE),
    Page(
        "accounts:password_reset",
        expect(
            anonymous=to("accounts:password_reset_done"),
            customer_a=to("accounts:password_reset_done"),
            agent=to("accounts:password_reset_done"),
        ),
        method="POST",
        data=lambda w: {"email": "nobody@acme.example"},
    ),
    Page("accounts:password_reset_done", PUBLIC_PAGE),
    Page("accounts:password_reset_confirm", PUBLIC_PAGE, kwargs=lambda w: {"uidb64": "MQ", "token": "set-password"}),
    # An invalid link shows "this link is no longer valid" whatever is posted.
    Page(
        "accounts:password_reset_confirm",
        PUBLIC_PAGE,
        kwargs=lambda w: {"uidb64": "MQ", "token": "set-password"},
        method="POST",
        data=lambda w: {"new_password1": "a-new-long-password", "new_password2": "a-new-long-password"},
    ),
    Page("accounts:password_reset_complete", PUBLIC_PAGE),
    Page("accounts:password_change", ANY_USER_PAGE),
    # The wrong old password: the form again, for a signed-in person only.
    Page(
        "accounts:password_change",
        ANY_USER_PAGE,
        method="POST",
        data=lambda w: {"old_password": "wrong", "new_password1": "x-long-pass-1", "new_password2": "x-long-pass-1"},
    ),
    Page("accounts:password_change_done", ANY_USER_PAGE),
    Page("accounts:tokens", ANY_USER_PAGE),
    # A new token is shown once on the same page (200).
    Page("accounts:tokens", ANY_USER_PAGE, method="POST", data=lambda w: {"name": "nightly export"}),
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

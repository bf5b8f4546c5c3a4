"""Sign-in lockouts: too many wrong passwords for one account, or from one address, lock it a while.

Built on core.ratelimit (counters in the database, shared by every web process) rather than on
django-axes: one store, one clock (core.clock, which the tests move) and one 429 answer for every
door; axes would add its own tables, middleware, client-address rules and time source for one door.

- Every failed `authenticate()` (our sign-in page, the admin's, any other caller) counts one failure
  for the email given from the client's address, one for the email from everywhere (whether or not
  such an account exists, so a lockout tells nothing about accounts) and one for the address.
- The account is locked per address (SERVICELOOP_RATE_SIGN_IN_ACCOUNT, 5/15m), so that anyone who
  knows an email cannot lock its owner out from elsewhere; from every address together only at the
  far higher SERVICELOOP_RATE_SIGN_IN_ACCOUNT_ALL (50/1h), against guessing spread over many.
- The failure that reaches one of these (or _IP) locks for one whole period
  from then: the guard backend, first in AUTHENTICATION_BACKENDS, refuses every sign-in of that
  account or from that address until it has passed, the right password included. The sign-in page
  answers 429 with Retry-After; the admin's shows its usual error.
- A successful sign-in clears the account's failures (not the address's: a guesser with an account
  of their own must not wipe the count of the addresses they guess from).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from serviceloop.core import ratelimit
from serviceloop.core.ratelimit import Decision

ACCOUNT_RULE = "sign_in_account"  # one account from one address
ACCOUNT_ALL_RULE = "sign_in_account_all"  # one account from every address together
IP_RULE = "sign_in_ip"
LOCKED_MESSAGE = (
    "Too many failed sign-ins for this account or from this address. Try again in {wait}, or reset your password."
)


def _identities(request: HttpRequest | None, username: str | None) -> list[tuple[str, str]]:
    found = []
    address = ratelimit.client_ip(request) if request is not None else ""
    if address:
        found.append((IP_RULE, address))
    if username and username.strip():
        account = username.strip().lower()
        # Keyed on the pair, so that a stranger's guesses from their address cannot lock the account
        # for its owner elsewhere; the account-wide rule, far higher, stops guessing spread out wide.
        found.append((ACCOUNT_RULE, f"{account}\0{address}"))
        found.append((ACCOUNT_ALL_RULE, account))
    return found


def _longest(decisions: list[Decision]) -> Decision | None:
    refused = [decision for decision in decisions if decision.refused]
    return max(refused, key=lambda decision: decision.retry_after) if refused else None


def sign_in_lock(request: HttpRequest | None, username: str | None) -> Decision | None:
    """The lockout in force for this account or address, or None."""
    return _longest([ratelimit.locked(rule, identity) for rule, identity in _identities(request, username)])


def sign_in_failed(request: HttpRequest | None, username: str | None) -> Decision | None:
    """Count a failed sign-in; the lockout it started (or one already in force), or None."""
    return _longest([ratelimit.failure(rule, identity) for rule, identity in _identities(request, username)])


def sign_in_succeeded(request: HttpRequest | None, username: str) -> None:
    for rule, identity in _identities(request, username):
        if rule != IP_RULE:
            ratelimit.clear(rule, identity)


def locked_message(decision: Decision) -> str:
    return LOCKED_MESSAGE.format(wait=ratelimit.wait_words(decision.retry_after))


class SignInLockoutBackend(ModelBackend):
    """First in AUTHENTICATION_BACKENDS: raising PermissionDenied stops Django trying the others.

    It checks no password itself (ModelBackend, next in the list, does); it is a ModelBackend so that
    sessions it is named in (`force_login` takes the first backend) load their user as usual.
    """

    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, username: str | None = None, **kwargs: Any
    ) -> None:
        if sign_in_lock(request, username or kwargs.get("email")) is not None:
            raise PermissionDenied("Too many failed sign-ins; wait for the lockout to pass.")
        return None


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    sign_in_failed(request, credentials.get("username") or credentials.get("email"))


def on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    sign_in_succeeded(request, user.email)

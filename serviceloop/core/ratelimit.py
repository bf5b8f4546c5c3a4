"""Rate limits and lockouts, counted in the database so that every web process shares them.

A rule is a setting `SERVICELOOP_RATE_<NAME>` of the form `<count>/<period>` (`5/15m`, `600/1m`,
`20/1h`, `3/1d`; `off` switches it off). Its first hit by a client opens a window of the period;
up to `count` hits are answered in it, more get 429 with `Retry-After` until the window ends. A
lockout counts failures instead (wrong passwords, bad API tokens): the failure that reaches the
count locks the client for one whole period from then on, even if the next try would be right.

Why the database and not the process: several processes serve the app (DESIGN.md), so a counter in
memory would let a client multiply its limit by the number of processes. One row per (rule,
client) and one atomic `INSERT … ON CONFLICT DO UPDATE … RETURNING` per hit (SQLite ≥ 3.35 and
PostgreSQL alike) keep the count exact under concurrency; housekeeping deletes ended windows.

The client is a keyed hash (HMAC with the secret key) of what identifies it — an IP address, an
email, a token — so the table never holds those values. IPv6 clients are counted per /64, the
block one customer line gets. Behind a reverse proxy, list its addresses in
SERVICELOOP_TRUSTED_PROXIES so the client's address is read from `X-Forwarded-For`; without it
only REMOTE_ADDR counts, because any client can write that header.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.crypto import salted_hmac
from django.utils.dateparse import parse_datetime

from serviceloop.core import clock
from serviceloop.core.errors import DomainError

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rule:
    name: str
    limit: int
    period: timedelta


@dataclass(frozen=True)
class Decision:
    rule: str
    allowed: bool
    hits: int
    limit: int
    retry_after: int  # whole seconds until the window ends (at least 1); 0 when allowed and unused

    @property
    def refused(self) -> bool:
        return not self.allowed


class RateLimited(DomainError):
    """Too many requests: the API answers 429 with `Retry-After`, as every other door does."""

    status = 429

    def __init__(self, decision: Decision, message: str | None = None) -> None:
        super().__init__("rate_limited", message or refusal_message(decision))
        self.decision = decision


def parse_rule(name: str, spec: str) -> Rule | None:
    """`5/15m` → 5 per 15 minutes; `off` (or `0`) → None. A bad value is a configuration error."""
    spec = spec.strip().lower()
    if spec in ("off", "0", "none", ""):
        return None
    match = _SPEC.match(spec)
    if not match:
        raise ValueError(f"SERVICELOOP_RATE_{name.upper()}={spec!r}: write <count>/<period>, e.g. 5/15m, 600/1m or off")
    count, amount, unit = int(match[1]), int(match[2] or 1), match[3]
    if count < 1 or amount < 1:
        raise ValueError(f"SERVICELOOP_RATE_{name.upper()}={spec!r}: count and period must be at least 1")
    return Rule(name=name, limit=count, period=timedelta(seconds=amount * _UNITS[unit]))


def rule(name: str) -> Rule | None:
    """The rule as configured now (read on each use, so a changed setting applies at once)."""
    return parse_rule(name, str(getattr(settings, f"SERVICELOOP_RATE_{name.upper()}", "off")))


def _bucket(rule_name: str, identity: str) -> str:
    return salted_hmac("serviceloop.ratelimit", f"{rule_name}\0{identity}", algorithm="sha256").hexdigest()


def _aware(value: Any) -> datetime:
    if isinstance(value, datetime):
        found = value
    else:
        parsed = parse_datetime(str(value))
        if parsed is None:
            raise ValueError(f"not a time: {value!r}")
        found = parsed
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _retry_after(reset_at: datetime, now: datetime) -> int:
    return max(1, math.ceil((reset_at - now).total_seconds()))


def _adapt(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


_UPSERT = """
INSERT INTO core_ratelimitcounter (rule, bucket, hits, window_start, reset_at)
VALUES (%s, %s, 1, %s, %s)
ON CONFLICT (rule, bucket) DO UPDATE SET
    hits = CASE WHEN core_ratelimitcounter.reset_at <= %s THEN 1 ELSE core_ratelimitcounter.hits + 1 END,
    window_start = CASE WHEN core_ratelimitcounter.reset_at <= %s THEN %s
                        ELSE core_ratelimitcounter.window_start END,
    reset_at = CASE WHEN core_ratelimitcounter.reset_at <= %s THEN %s
                    {lock}
                    ELSE core_ratelimitcounter.reset_at END
RETURNING hits, reset_at
"""
# A lockout: the failure that reaches the limit starts the whole cool-off from that moment.
_LOCK = "WHEN core_ratelimitcounter.hits + 1 = %s THEN %s"


def _count(found: Rule, identity: str, *, lockout: bool) -> tuple[int, datetime, datetime]:
    now = clock.now()
    reset = now + found.period
    params: list[Any] = [found.name, _bucket(found.name, identity), _adapt(now), _adapt(reset)]
    params += [_adapt(now), _adapt(now), _adapt(now), _adapt(now), _adapt(reset)]
    if lockout:
        params += [found.limit, _adapt(reset)]
    # One statement: concurrent hits from several processes each see their own count.
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT.format(lock=_LOCK if lockout else ""), params)
        hits, reset_at = cursor.fetchone()  # type: ignore[misc]
    return int(hits), _aware(reset_at), now


def hit(name: str, identity: str) -> Decision:
    """Count one request of `identity` against rule `name`; refused when it is one too many."""
    found = rule(name)
    if found is None:
        return Decision(rule=name, allowed=True, hits=0, limit=0, retry_after=0)
    hits, reset_at, now = _count(found, identity, lockout=False)
    allowed = hits <= found.limit
    return Decision(name, allowed, hits, found.limit, 0 if allowed else _retry_after(reset_at, now))


def failure(name: str, identity: str) -> Decision:
    """Count one failure (a wrong password, a bad token); refused when this one locked the client."""
    found = rule(name)
    if found is None:
        return Decision(rule=name, allowed=True, hits=0, limit=0, retry_after=0)
    hits, reset_at, now = _count(found, identity, lockout=True)
    allowed = hits < found.limit
    return Decision(name, allowed, hits, found.limit, 0 if allowed else _retry_after(reset_at, now))


def locked(name: str, identity: str) -> Decision:
    """Whether `identity` is locked out by rule `name` now (counts nothing)."""
    from serviceloop.core.models import RateLimitCounter

    found = rule(name)
    if found is None:
        return Decision(rule=name, allowed=True, hits=0, limit=0, retry_after=0)
    now = clock.now()
    row = (
        RateLimitCounter.objects.filter(rule=name, bucket=_bucket(name, identity), reset_at__gt=now)
        .values_list("hits", "reset_at")
        .first()
    )
    if row is None or row[0] < found.limit:
        return Decision(name, True, row[0] if row else 0, found.limit, 0)
    return Decision(name, False, row[0], found.limit, _retry_after(row[1], now))


def clear(name: str, identity: str) -> None:
    """Forget `identity`'s count for rule `name` (a successful sign-in clears its failures)."""
    from serviceloop.core.models import RateLimitCounter

    RateLimitCounter.objects.filter(rule=name, bucket=_bucket(name, identity)).delete()


def purge(*, now: datetime | None = None) -> int:
    """Delete the counters whose window has ended (housekeeping)."""
    from serviceloop.core.models import RateLimitCounter

    deleted, _ = RateLimitCounter.objects.filter(reset_at__lte=now or clock.now()).delete()
    return deleted


# ---- who the client is -------------------------------------------------------------------------


def _networks(values: Iterable[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip()]


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The address that is counted for a request: REMOTE_ADDR, or, when REMOTE_ADDR is a trusted
    proxy, the right-most address of X-Forwarded-For that is not one (what the proxy saw)."""
    trusted = _networks(getattr(settings, "SERVICELOOP_TRUSTED_PROXIES", []))
    address = _address(str(request.META.get("REMOTE_ADDR", "")))
    if address is not None and trusted and any(address in network for network in trusted):
        forwarded = [part for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if part.strip()]
        for part in reversed(forwarded):
            candidate = _address(part)
            if candidate is None:
                break  # a mangled header: keep the last address we could trust
            address = candidate
            if not any(candidate in network for network in trusted):
                break
    if address is None:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)


# ---- the answer ----------------------------------------------------------------------------------


def refusal_message(decision: Decision) -> str:
    return f"Too many requests; try again in {wait_words(decision.retry_after)}."


def wait_words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"{minutes} minutes"
    return f"{math.ceil(minutes / 60)} hours"


def refused_response(request: HttpRequest, decision: Decision, message: str | None = None) -> HttpResponse:
    """429 with Retry-After: `{code, message}` on the API, a page on the pages."""
    text = message or refusal_message(decision)
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"code": "rate_limited", "message": text}, status=429)
    else:
        response = render(request, "core/rate_limited.html", {"message": text}, status=429)
    response["Retry-After"] = str(decision.retry_after)
    return response


Identity = Callable[..., str | None]


def by_ip(request: HttpRequest, *args: Any, **kwargs: Any) -> str:
    return client_ip(request)


def by_url(*names: str) -> Identity:
    """The client is what the URL names (a widget site key, a service's page)."""

    def identity(request: HttpRequest, *args: Any, **kwargs: Any) -> str:
        return "/".join(str(kwargs.get(name, "")) for name in names)

    return identity


def by_caller(request: HttpRequest, *args: Any, **kwargs: Any) -> str | None:
    """The API caller: the bearer token presented, else the signed-in user."""
    header = str(request.META.get("HTTP_AUTHORIZATION", ""))
    if header.lower().startswith("bearer ") and header[7:].strip():
        return f"token:{header[7:].strip()}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


def rate_limit(*limits: tuple[str, Identity], methods: Iterable[str] | None = None) -> Callable[..., Any]:
    """Decorate a Django view with rules checked in order; a ninja operation with
    `@decorate_view(rate_limit(...))` (it then runs before authentication, on the raw request).

    Each limit is (rule name, identity function of the view's arguments); an identity of None is
    not counted. The first refusal answers 429 and the view does not run, so nothing is stored;
    the later rules are not counted for a refused request.
    """
    only = {method.upper() for method in methods} if methods else None

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if only is None or request.method in only:
                for name, identity_of in limits:
                    identity = identity_of(request, *args, **kwargs)
                    if identity is None:
                        continue
                    decision = hit(name, identity)
                    if decision.refused:
                        return refused_response(request, decision)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def lockout(name: str, message: str) -> Callable[..., Any]:
    """Decorate an authentication method `(self, request, credential) -> principal | None`: each None
    counts a failure for the client's address, and a locked address is refused (RateLimited) before
    its credential is looked at, so guessing costs the whole wait. `message` may use `{wait}`."""

    def decorate(authenticate: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(authenticate)
        def wrapper(self: Any, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            address = client_ip(request)
            decision = locked(name, address)
            if decision.allowed:
                principal = authenticate(self, request, *args, **kwargs)
                if principal:
                    return principal
                decision = failure(name, address)
                if decision.allowed:
                    return principal
            raise RateLimited(decision, message.format(wait=wait_words(decision.retry_after)))

        return wrapper

    return decorate

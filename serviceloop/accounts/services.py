"""Every write to accounts: organisations, logins and API tokens.

Each records its event in the audit trail (`core.events`): ids, roles and changed field names, never
a password, a token or its secret.
"""

from __future__ import annotations

import hmac
import re
import secrets
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from serviceloop.accounts.models import ApiToken, Organisation, User, hash_token, password_fingerprint
from serviceloop.accounts.versioning import version_check, version_claim
from serviceloop.core import clock
from serviceloop.core.errors import ConflictError, DomainError, InvalidInput, NotAllowed
from serviceloop.core.events import event_record

TOKEN_LAST_USED_GRANULARITY = timedelta(minutes=1)


def validate_time_zone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            "unknown_time_zone", f"'{name}' is not a known time zone, e.g. Europe/London.", field="time_zone"
        ) from None
    return name


_DOMAIN = re.compile(r"^(?=.{1,200}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def validate_domain(domain: str, *, exclude: Organisation | None = None) -> str:
    """An email domain like acme.example, used by no other organisation (inbound mail is placed by it)."""
    domain = domain.strip().lower().removeprefix("@")
    if not domain:
        return ""
    if not _DOMAIN.match(domain):
        raise InvalidInput("domain_invalid", f"'{domain}' is not an email domain, e.g. acme.example.", field="domain")
    clash = Organisation.objects.filter(domain=domain)
    if exclude is not None:
        clash = clash.exclude(pk=exclude.pk)
    if clash.exists():
        raise ConflictError("domain_taken", f"Another organisation already uses the domain {domain}.", field="domain")
    return domain


# An organisation's hourly cost left as it is (None clears it to the provider default).
KEEP: Any = object()
HOURLY_COST_MAX = Decimal("99999999.99")  # the column's 10 digits, 2 after the point


def validate_hourly_cost(value: Decimal | int | str | None) -> Decimal | None:
    """An hourly cost of zero or more with at most two decimals; None (or "") is the provider default."""
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).strip())
    except ArithmeticError:
        raise InvalidInput(
            "hourly_cost_invalid", "The hourly cost is an amount, e.g. 60 or 72.50.", field="hourly_cost"
        ) from None
    if not amount.is_finite() or amount < 0:
        raise InvalidInput("hourly_cost_invalid", "The hourly cost is an amount of zero or more.", field="hourly_cost")
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput("hourly_cost_invalid", "The hourly cost has at most two decimals.", field="hourly_cost")
    if amount > HOURLY_COST_MAX:
        raise InvalidInput("hourly_cost_invalid", f"The hourly cost is at most {HOURLY_COST_MAX}.", field="hourly_cost")
    return amount.quantize(Decimal("0.01"))


def organisation_create(
    *,
    name: str,
    slug: str = "",
    domain: str = "",
    notes: str = "",
    hourly_cost: Decimal | None = None,
    by: User | None = None,
) -> Organisation:
    hourly_cost = validate_hourly_cost(hourly_cost)
    name = name.strip()
    if not name:
        raise InvalidInput("name_required", "An organisation needs a name.", field="name")
    given = bool(slug.strip())
    slug = slugify(slug or name)[:80]
    if not slug:
        field = "slug" if given else "name"
        raise InvalidInput("slug_invalid", "The slug needs at least one letter or digit.", field=field)
    domain = validate_domain(domain)
    try:
        with transaction.atomic():
            organisation = Organisation.objects.create(
                name=name, slug=slug, domain=domain, notes=notes, hourly_cost=hourly_cost
            )
            event_record("organisation.created", subject=organisation, by=by, organisation_id=organisation.pk)
            return organisation
    except IntegrityError:
        message = f"An organisation with the slug '{slug}' already exists."
        if given:
            raise ConflictError("slug_taken", message, field="slug") from None
        message += " Choose another name, or give a slug of your own."
        raise ConflictError("name_taken", message, field="name") from None


def organisation_update(
    *,
    organisation: Organisation,
    name: str | None = None,
    domain: str | None = None,
    notes: str | None = None,
    hourly_cost: Decimal | None = KEEP,
    by: User | None = None,
    expected_version: Iterable[int] | None = None,
) -> Organisation:
    """Change an organisation; `expected_version`: the versions the editor saw (If-Match, the form),
    refused with 412 when another edit committed since. None: the last writer wins, field by field.
    `hourly_cost`: KEEP leaves it, None clears it (the provider default applies)."""
    before = {name: getattr(organisation, name) for name in ("name", "domain", "notes", "hourly_cost")}
    if hourly_cost is not KEEP:
        organisation.hourly_cost = validate_hourly_cost(hourly_cost)
    if name is not None:
        if not name.strip():
            raise InvalidInput("name_required", "An organisation needs a name.", field="name")
        organisation.name = name.strip()
    if domain is not None:
        organisation.domain = validate_domain(domain, exclude=organisation)
    if notes is not None:
        organisation.notes = notes
    changed = sorted(field for field, value in before.items() if getattr(organisation, field) != value)
    if not changed:
        version_check(organisation, expected=expected_version, noun="organisation")
        return organisation
    with transaction.atomic():
        version_claim(organisation, expected=expected_version, noun="organisation")
        organisation.save(update_fields=[*changed, "updated_at"])
        event_record(
            "organisation.updated", subject=organisation, by=by, organisation_id=organisation.pk, changed=changed
        )
    return organisation


def user_create(
    *,
    email: str,
    role: str,
    password: str | None = None,
    name: str = "",
    organisation: Organisation | None = None,
    time_zone: str = "UTC",
    validate: bool = True,
    by: User | None = None,
) -> User:
    """Create a login; the role decides admin-site access and whether an organisation is needed."""
    if role not in User.Role.values:
        raise InvalidInput("unknown_role", f"Role must be one of: {', '.join(User.Role.values)}.", field="role")
    if role == User.Role.CUSTOMER and organisation is None:
        raise InvalidInput(
            "organisation_required", "A customer user must belong to an organisation.", field="organisation"
        )
    if role != User.Role.CUSTOMER and organisation is not None:
        raise InvalidInput(
            "organisation_not_allowed", "Staff users do not belong to a consumer organisation.", field="organisation"
        )
    email = email.strip().lower()
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        organisation=organisation,
        time_zone=validate_time_zone(time_zone),
        is_staff=role == User.Role.ADMINISTRATOR,
        is_superuser=role == User.Role.ADMINISTRATOR,
    )
    if password is not None and validate:
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise InvalidInput("weak_password", " ".join(error.messages), field="password") from None
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
            event_record("user.created", subject=user, by=by, user_id=user.pk, role=user.role)
    except IntegrityError:
        raise ConflictError("email_taken", f"A user with the email {email} already exists.", field="email") from None
    return user


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown to the user exactly once, never stored


def user_role_changed(*, user: User, previous: str, by: User | None) -> None:
    """Record a role change made in the admin (Django's admin saves the row itself)."""
    if previous != user.role:
        event_record("user.role_changed", subject=user, by=by, user_id=user.pk, role=user.role, previous=previous)


def password_changed(*, user: User, by: User | None, via: str) -> None:
    """Record that a password was set (`via` "change" by its owner, "reset" through a reset link,
    "admin" by an administrator) and revoke the user's API tokens: a token made with the old
    password must not outlive it (an attacker who had the password may have made one)."""
    with transaction.atomic():
        event_record("user.password_changed", subject=user, by=by, user_id=user.pk, via=via)
        api_tokens_revoke_all(user=user, because=ApiToken.RevokedBecause.PASSWORD_CHANGED, by=by)


def user_deactivated(*, user: User, by: User | None) -> None:
    """Record that a login was switched off (the admin saves the row itself) and revoke its tokens,
    so that switching it on again does not bring them back."""
    with transaction.atomic():
        event_record("user.deactivated", subject=user, by=by, user_id=user.pk)
        api_tokens_revoke_all(user=user, because=ApiToken.RevokedBecause.DEACTIVATED, by=by)


def password_reset_requested(*, user: User) -> None:
    """Record that a reset link was mailed to `user` (the request itself is anonymous)."""
    event_record("user.password_reset_requested", subject=user, user_id=user.pk)


class TokenRefused(DomainError):
    """A token that exists but may no longer be used: the API answers 401 with the reason."""

    status = 401


def _token_expiry(*, expires_at: datetime | None, days: int | None) -> datetime | None:
    """When a new token stops working: `days` from now, or `expires_at`; neither: the longest
    allowed (SERVICELOOP_API_TOKEN_MAX_DAYS; 0 lets a token live until it is revoked)."""
    max_days = settings.SERVICELOOP_API_TOKEN_MAX_DAYS
    now = clock.now()
    if expires_at is not None and days is not None:
        raise InvalidInput("expiry_twice", "Give either days or expires_at, not both.", field="expires_at")
    if days is not None:
        if isinstance(days, bool) or not 1 <= days <= (max_days or 36500):
            bound = max_days or 36500
            raise InvalidInput("days_out_of_range", f"days must be a whole number from 1 to {bound}.", field="days")
        return now + timedelta(days=days)
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise InvalidInput(
                "expires_at_naive", "expires_at needs a time zone, e.g. 2027-01-31T18:00:00Z.", field="expires_at"
            )
        try:
            expires_at = expires_at.astimezone(UTC)
        except (OverflowError, ValueError):
            raise InvalidInput(
                "expires_at_out_of_range", "expires_at is not a valid date.", field="expires_at"
            ) from None
        if expires_at <= now:
            raise InvalidInput("expires_at_past", "expires_at must be in the future.", field="expires_at")
        if max_days and expires_at > now + timedelta(days=max_days):
            raise InvalidInput("expires_at_too_late", f"A token may live at most {max_days} days.", field="expires_at")
        return expires_at
    return now + timedelta(days=max_days) if max_days else None


def api_token_create(
    *,
    user: User,
    name: str,
    expires_at: datetime | None = None,
    days: int | None = None,
    with_token: ApiToken | None = None,
) -> IssuedToken:
    """Make a token for `user`; `with_token`: the token the request itself was signed in with.

    A token never makes another: a leaked token could otherwise mint successors that outlive its
    own revocation. Tokens come from a signed-in session only (the page, or the API with a session).
    """
    if with_token is not None:
        raise NotAllowed(
            "token_cannot_create_tokens",
            "API tokens can only be created when signed in (Account → API tokens), not with another API token.",
        )
    if not user.is_active:
        raise NotAllowed("user_inactive", "A deactivated login cannot have API tokens.")
    name = name.strip()
    if not name:
        raise InvalidInput("name_required", "Give the token a name so you can recognise it later.", field="name")
    if len(name) > 100:
        raise InvalidInput("name_too_long", "A token name has at most 100 characters.", field="name")
    expiry = _token_expiry(expires_at=expires_at, days=days)
    prefix = secrets.token_hex(4)
    secret = f"sl_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=prefix,
            token_hash=hash_token(secret),
            expires_at=expiry,
            password_fingerprint=password_fingerprint(user.password),
        )
        # The prefix identifies the token in the list; the secret and its hash are never recorded.
        event_record(
            "api_token.created",
            subject=token,
            by=user,
            token_id=token.pk,
            user_id=user.pk,
            expires_at=expiry.isoformat() if expiry else None,
        )
    return IssuedToken(token=token, secret=secret)


def _revoke(token: ApiToken, *, because: str, by: User | None) -> None:
    token.revoked_at = clock.now()
    token.revoked_because = because
    token.save(update_fields=["revoked_at", "revoked_because", "updated_at"])
    event_record("api_token.revoked", subject=token, by=by, token_id=token.pk, user_id=token.user_id, because=because)


def api_token_revoke(*, token: ApiToken, by: User) -> ApiToken:
    if token.user_id != by.pk and not by.is_administrator:
        raise NotAllowed("not_your_token", "You can only revoke your own tokens.")
    with transaction.atomic():
        # Locked: two revocations at once record one event.
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is None:
            _revoke(token, because=ApiToken.RevokedBecause.REVOKED, by=by)
    return token


def api_tokens_revoke_all(*, user: User, because: str, by: User | None) -> int:
    """Revoke every token of `user` that is not revoked yet; how many were."""
    with transaction.atomic():
        tokens = list(ApiToken.objects.select_for_update().filter(user=user, revoked_at__isnull=True))
        for token in tokens:
            _revoke(token, because=because, by=by)
    return len(tokens)


def api_token_authenticate(secret: str) -> ApiToken | None:
    """The token presented, or None when no token has this secret; marks it used (at most once a
    minute). A token that exists but may not be used raises TokenRefused with the reason."""
    # The random part may itself contain "_", so split off only the scheme and the prefix.
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != "sl" or not parts[2]:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.token_hash, hash_token(secret)):
        return None
    user = token.user
    # Checked at every use, not only in the services that change passwords and logins: the admin,
    # `manage.py changepassword` or a script may change the row without them; the token is then
    # revoked here, on its first use after the change.
    if token.revoked_at is None and not user.is_active:
        api_tokens_revoke_all(user=user, because=ApiToken.RevokedBecause.DEACTIVATED, by=None)
        token.refresh_from_db()
    elif token.revoked_at is None and not hmac.compare_digest(
        token.password_fingerprint, password_fingerprint(user.password)
    ):
        api_tokens_revoke_all(user=user, because=ApiToken.RevokedBecause.PASSWORD_CHANGED, by=None)
        token.refresh_from_db()
    if token.revoked_at is not None:
        reasons: dict[str, str] = {
            ApiToken.RevokedBecause.PASSWORD_CHANGED: " when its owner's password changed",
            ApiToken.RevokedBecause.DEACTIVATED: " when its owner's login was deactivated",
        }
        reason = reasons.get(token.revoked_because, "")
        raise TokenRefused("token_revoked", f"This API token was revoked{reason}; create a new one.")
    now = clock.now()
    if token.expires_at is not None and token.expires_at <= now:
        when = token.expires_at.strftime("%Y-%m-%d %H:%M UTC")
        raise TokenRefused("token_expired", f"This API token expired on {when}; create a new one.")
    # Writing on every request would make each API call a write; a minute is precise enough.
    if token.last_used_at is None or now - token.last_used_at > TOKEN_LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token

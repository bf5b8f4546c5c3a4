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
from datetime import timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from serviceloop.accounts.models import ApiToken, Organisation, User, hash_token
from serviceloop.accounts.versioning import version_check, version_claim
from serviceloop.core.errors import ConflictError, InvalidInput, NotAllowed
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


def organisation_create(
    *, name: str, slug: str = "", domain: str = "", notes: str = "", by: User | None = None
) -> Organisation:
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
            organisation = Organisation.objects.create(name=name, slug=slug, domain=domain, notes=notes)
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
    by: User | None = None,
    expected_version: Iterable[int] | None = None,
) -> Organisation:
    """Change an organisation; `expected_version`: the versions the editor saw (If-Match, the form),
    refused with 412 when another edit committed since. None: the last writer wins, field by field."""
    before = {name: getattr(organisation, name) for name in ("name", "domain", "notes")}
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
    """Record that a password was set (`via` "change" by its owner, "reset" through a reset link)."""
    event_record("user.password_changed", subject=user, by=by, user_id=user.pk, via=via)


def password_reset_requested(*, user: User) -> None:
    """Record that a reset link was mailed to `user` (the request itself is anonymous)."""
    event_record("user.password_reset_requested", subject=user, user_id=user.pk)


def api_token_create(*, user: User, name: str) -> IssuedToken:
    name = name.strip()
    if not name:
        raise InvalidInput("name_required", "Give the token a name so you can recognise it later.", field="name")
    if len(name) > 100:
        raise InvalidInput("name_too_long", "A token name has at most 100 characters.", field="name")
    prefix = secrets.token_hex(4)
    secret = f"sl_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, name=name, prefix=prefix, token_hash=hash_token(secret))
        # The prefix identifies the token in the list; the secret and its hash are never recorded.
        event_record("api_token.created", subject=token, by=user, token_id=token.pk, user_id=user.pk)
    return IssuedToken(token=token, secret=secret)


def api_token_revoke(*, token: ApiToken, by: User) -> ApiToken:
    if token.user_id != by.pk and not by.is_administrator:
        raise NotAllowed("not_your_token", "You can only revoke your own tokens.")
    if token.revoked_at is None:
        with transaction.atomic():
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at", "updated_at"])
            event_record("api_token.revoked", subject=token, by=by, token_id=token.pk, user_id=token.user_id)
    return token


def api_token_authenticate(secret: str) -> User | None:
    """The user behind a presented token, or None; marks the token used (at most once a minute)."""
    # The random part may itself contain "_", so split off only the scheme and the prefix.
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != "sl" or not parts[2]:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=parts[1], revoked_at__isnull=True).first()
    if token is None or not hmac.compare_digest(token.token_hash, hash_token(secret)):
        return None
    if not token.user.is_active:
        return None
    now = timezone.now()
    # Writing on every request would make each API call a write; a minute is precise enough.
    if token.last_used_at is None or now - token.last_used_at > TOKEN_LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user

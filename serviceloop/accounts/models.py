"""The tenant (consumer organisation), logins with roles, and API tokens."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone

from serviceloop.core import clock
from serviceloop.core.models import BaseModel, public_id_field


def provider_hourly_cost() -> Decimal:
    """The provider's default cost of one hour of a customer's work time (SERVICELOOP_HOURLY_COST)."""
    return Decimal(str(settings.SERVICELOOP_HOURLY_COST))


def currency() -> str:
    """The currency of every amount of money experience shows (SERVICELOOP_CURRENCY, e.g. EUR)."""
    return str(settings.SERVICELOOP_CURRENCY)


class Organisation(BaseModel):
    """A consumer organisation: the tenant whose people use our services and see their own data."""

    public_id = public_id_field()
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    domain = models.CharField(max_length=200, blank=True, help_text="Email domain of its people, e.g. acme.example")
    notes = models.TextField(blank=True)
    # What an hour of its people's lost work time costs (experience turns lost time into money with
    # it); empty: the provider default, SERVICELOOP_HOURLY_COST. In SERVICELOOP_CURRENCY.
    hourly_cost = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Cost of one hour of its people's work time; empty: the provider default",
    )
    # Optimistic concurrency: raised by one on every edit (accounts.versioning); the API's ETag and
    # the edit form's hidden field carry it, so a stale edit is refused instead of reverting another.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(name=""),
                name="accounts_organisation_name_not_empty",
                violation_error_message="An organisation needs a name.",
            ),
            models.CheckConstraint(
                condition=Q(hourly_cost__isnull=True) | Q(hourly_cost__gte=0),
                name="accounts_organisation_hourly_cost_not_negative",
                violation_error_message="An hourly cost is zero or more.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def cost_per_hour(self) -> Decimal:
        """Its own hourly cost, or the provider default when it has none."""
        return self.hourly_cost if self.hourly_cost is not None else provider_hourly_cost()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: object) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None) -> User:
        # People type their address in any case; addresses are stored lower-cased.
        return self.get(email__iexact=(username or "").strip())

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> User:
        fields.update(role=User.Role.ADMINISTRATOR, is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A login: staff (administrator, service manager, agent) or a customer user of one organisation."""

    class Role(models.TextChoices):
        ADMINISTRATOR = "administrator", "Administrator"
        SERVICE_MANAGER = "service_manager", "Service manager"
        AGENT = "agent", "Agent"
        CUSTOMER = "customer", "Customer user"

    public_id = public_id_field()
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CUSTOMER)
    # Customer users only: the tenant they belong to (a constraint holds that).
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    time_zone = models.CharField(max_length=64, default="UTC")
    is_active = models.BooleanField(default=True)
    # Django admin access: administrators only (set by user_create from the role).
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(role="customer") & Q(organisation__isnull=False))
                | (~Q(role="customer") & Q(organisation__isnull=True)),
                name="accounts_user_customer_has_organisation",
                violation_error_message="Customer users belong to exactly one organisation; staff to none.",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.email

    @property
    def is_staff_member(self) -> bool:
        return self.role != self.Role.CUSTOMER

    @property
    def is_administrator(self) -> bool:
        return self.role == self.Role.ADMINISTRATOR

    @property
    def can_manage_services(self) -> bool:
        return self.role in (self.Role.ADMINISTRATOR, self.Role.SERVICE_MANAGER)

    def check_password(self, raw_password: str | None) -> bool:
        """Django's check; when it re-hashes the same password (a stronger hasher after an upgrade),
        the user's tokens follow the new hash: only a real change of password revokes them."""
        old_hash = self.password

        def rehash(raw: str | None) -> None:
            self.set_password(raw)
            self._password = None
            self.save(update_fields=["password"])
            ApiToken.objects.filter(
                user=self, revoked_at__isnull=True, password_fingerprint=password_fingerprint(old_hash)
            ).update(password_fingerprint=password_fingerprint(self.password))

        return check_password(raw_password, self.password, rehash)

    @property
    def display_name(self) -> str:
        return self.name or self.email


def hash_token(secret: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


def password_fingerprint(password_hash: str) -> str:
    """What a token remembers of its owner's password hash when it is made: any way the password
    changes (the change form, a reset link, the admin, `manage.py changepassword`, a script) changes
    the hash, so the token no longer matches and is refused. Not the SECRET_KEY: rotating that key
    must not revoke every token."""
    return hashlib.sha256(f"serviceloop.api_token:{password_hash}".encode()).hexdigest()


class ApiToken(BaseModel):
    """A personal API token: shown once, stored hashed, revocable, with its last use and an expiry."""

    class RevokedBecause(models.TextChoices):
        REVOKED = "revoked", "revoked"
        PASSWORD_CHANGED = "password_changed", "password changed"
        DEACTIVATED = "deactivated", "user deactivated"

    public_id = public_id_field()
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    # The prefix is not secret: it finds the row without scanning, and names the token in lists.
    prefix = models.CharField(max_length=16, unique=True)
    token_hash = models.CharField(max_length=64)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # None: never expires (only when SERVICELOOP_API_TOKEN_MAX_DAYS is 0).
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_because = models.CharField(max_length=20, choices=RevokedBecause.choices, blank=True)
    # password_fingerprint(user.password) when the token was made; compared at every use.
    password_fingerprint = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The administrators' list of active tokens, per user.
            models.Index(fields=["user", "revoked_at"], name="accounts_apitoken_user_active"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= clock.now()

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            if self.revoked_because in ("", self.RevokedBecause.REVOKED):
                return "revoked"
            return f"revoked: {self.get_revoked_because_display()}"
        return "expired" if self.is_expired else "active"

"""Services, offerings and their value model (DOMAIN §1)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from serviceloop.core.models import BaseModel, public_id_field


class Service(BaseModel):
    """A service: makes outcomes a customer wants easier to reach, with a named service manager."""

    class Lifecycle(models.TextChoices):
        PIPELINE = "pipeline", "Pipeline"
        LIVE = "live", "Live"
        RETIRED = "retired", "Retired"

    class Criticality(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"
        CRITICAL = "critical", "Critical"

    public_id = public_id_field()
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    lifecycle = models.CharField(max_length=20, choices=Lifecycle.choices, default=Lifecycle.PIPELINE, db_index=True)
    criticality = models.CharField(max_length=20, choices=Criticality.choices, default=Criticality.MEDIUM)
    service_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="managed_services"
    )
    # Optimistic concurrency: raised by one on every edit (accounts.versioning); the API's ETag and
    # the edit form's hidden field carry it, so a stale edit is refused instead of reverting another.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(name=""),
                name="catalogue_service_name_not_empty",
                violation_error_message="A service needs a name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Offering(BaseModel):
    """What the catalogue offers a target group: goods, access to resources and service actions."""

    public_id = public_id_field()
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="offerings")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80)
    target_group = models.CharField(
        max_length=200, blank=True, help_text="Who it is for, e.g. 'staff of client organisations'"
    )
    description = models.TextField(blank=True)
    # Optimistic concurrency: raised by one on every edit (accounts.versioning); the API's ETag and
    # the edit form's hidden field carry it, so a stale edit is refused instead of reverting another.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["service__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "slug"],
                name="catalogue_offering_slug_unique_per_service",
                violation_error_message="This service already has an offering with that slug.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service.name} — {self.name}"


class OfferingComponent(BaseModel):
    """One part of an offering: a good, access to a resource, or a service action."""

    class Kind(models.TextChoices):
        GOODS = "goods", "Goods"
        ACCESS = "access", "Access to resources"
        ACTION = "action", "Service action"

    public_id = public_id_field()
    offering = models.ForeignKey(Offering, on_delete=models.CASCADE, related_name="components")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["offering", "position", "pk"]

    def __str__(self) -> str:
        return self.name


class ValueItem(BaseModel):
    """One line of an offering's value model: an outcome, an output, or a cost or risk removed or imposed."""

    class Kind(models.TextChoices):
        OUTCOME = "outcome", "Outcome supported"
        OUTPUT = "output", "Output"
        COST_REMOVED = "cost_removed", "Cost removed"
        COST_IMPOSED = "cost_imposed", "Cost imposed"
        RISK_REMOVED = "risk_removed", "Risk removed"
        RISK_IMPOSED = "risk_imposed", "Risk imposed"

    # What the customer gets (left column of the customer page) and what it asks of them (right).
    GIVES = (Kind.OUTCOME, Kind.OUTPUT, Kind.COST_REMOVED, Kind.RISK_REMOVED)
    ASKS = (Kind.COST_IMPOSED, Kind.RISK_IMPOSED)

    public_id = public_id_field()
    offering = models.ForeignKey(Offering, on_delete=models.CASCADE, related_name="value_items")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    description = models.CharField(max_length=500)
    financial = models.BooleanField(default=False, help_text="Money (a fee, a saving) rather than time, effort or risk")
    estimate = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    unit = models.CharField(max_length=50, blank=True, help_text="e.g. EUR/month, minutes per booking")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["offering", "kind", "position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(estimate__isnull=True) | Q(estimate__gte=0),
                name="catalogue_valueitem_estimate_not_negative",
                violation_error_message="An estimate is a size, never negative; say in the kind whether it is removed or imposed.",
            ),
        ]

    def __str__(self) -> str:
        return self.description


class CatalogueChange(BaseModel):
    """The change history of the catalogue: who changed what, when, from which value to which."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        DELETED = "deleted", "Deleted"

    # The service the change belongs to, so a service's page lists its whole history (read by the history panel).
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes")
    object_type = models.CharField(max_length=40)
    object_public_id = models.CharField(max_length=24)
    object_label = models.CharField(max_length=300)
    action = models.CharField(max_length=20, choices=Action.choices)
    changes = models.JSONField(default=dict, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["service", "-created_at"], name="catalogue_change_service_idx")]

    # What a service manager calls each kind of row in the history ("value item", not "ValueItem").
    OBJECT_NAMES = {
        "Service": "service",
        "Offering": "offering",
        "OfferingComponent": "component",
        "ValueItem": "value item",
    }

    @property
    def object_name(self) -> str:
        return self.OBJECT_NAMES.get(self.object_type, self.object_type.lower())

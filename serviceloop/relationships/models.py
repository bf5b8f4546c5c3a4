"""People of consumer organisations, service relationships and the roles people hold in them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from serviceloop.accounts.models import Organisation
from serviceloop.catalogue.models import Offering
from serviceloop.core.models import BaseModel, public_id_field


class Person(BaseModel):
    """A contact at a consumer organisation: requester, user, customer or sponsor; may have a login."""

    public_id = public_id_field()
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="people")
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField()
    time_zone = models.CharField(max_length=64, default="UTC")
    survey_opt_out = models.BooleanField(default=False, help_text="Sends this person no survey invitations")
    survey_opted_out_at = models.DateTimeField(null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="person"
    )
    # Optimistic concurrency: raised by one on every edit (accounts.versioning); the API's ETag and
    # the edit form's hidden field carry it, so a stale edit is refused instead of reverting another.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["name", "email"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                "organisation",
                name="relationships_person_email_unique_per_organisation",
                violation_error_message="This organisation already has a person with that email.",
            ),
        ]
        # Inbound mail finds the sender by address.
        indexes = [models.Index(Lower("email"), name="relationships_person_email_idx")]

    def __str__(self) -> str:
        return self.name or self.email


class Relationship(BaseModel):
    """A service relationship: an organisation consuming an offering since a start date."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        ENDED = "ended", "Ended"

    public_id = public_id_field()
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="relationships")
    offering = models.ForeignKey(Offering, on_delete=models.PROTECT, related_name="relationships")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    # Optimistic concurrency: raised by one on every edit (accounts.versioning); the API's ETag and
    # the edit form's hidden field carry it, so a stale edit is refused instead of reverting another.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["organisation__name", "offering__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "offering"],
                condition=~Q(status="ended"),
                name="relationships_relationship_one_open_per_offering",
                violation_error_message="This organisation already has an open relationship for that offering.",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="relationships_relationship_ends_after_start",
                violation_error_message="A relationship cannot end before it started.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} × {self.offering}"


class RelationshipRole(BaseModel):
    """A role a person holds inside a relationship; one person may hold several."""

    class Role(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        USER = "user", "User"
        SPONSOR = "sponsor", "Sponsor"

    relationship = models.ForeignKey(Relationship, on_delete=models.CASCADE, related_name="roles")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        ordering = ["relationship", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["relationship", "person", "role"],
                name="relationships_role_unique",
                violation_error_message="This person already holds that role in the relationship.",
            ),
        ]


class RelationshipEvent(BaseModel):
    """The relationship's service history: started, paused, role granted, offering changed..."""

    relationship = models.ForeignKey(Relationship, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40)
    description = models.CharField(max_length=500)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    occurred_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-occurred_at", "-pk"]

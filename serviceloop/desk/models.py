"""Tickets: the service interactions customers experience most often."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from serviceloop.accounts.models import Organisation
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core.models import BaseModel, public_id_field
from serviceloop.relationships.models import Person


class Ticket(BaseModel):
    """One interaction: an incident, request, complaint, compliment or question from a person."""

    class Type(models.TextChoices):
        INCIDENT = "incident", "Incident"
        REQUEST = "request", "Service request"
        COMPLAINT = "complaint", "Complaint"
        COMPLIMENT = "compliment", "Compliment"
        QUESTION = "question", "Question"

    class Status(models.TextChoices):
        NEW = "new", "New"
        OPEN = "open", "Open"
        WAITING_CUSTOMER = "waiting_customer", "Waiting on customer"
        WAITING_THIRD_PARTY = "waiting_third_party", "Waiting on third party"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    class Priority(models.TextChoices):
        P1 = "p1", "P1 critical"
        P2 = "p2", "P2 high"
        P3 = "p3", "P3 medium"
        P4 = "p4", "P4 low"

    public_id = public_id_field()
    # Shown to people and in mail subjects as [SL-104233]; unique, never used in URLs.
    reference = models.CharField(max_length=20, unique=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="tickets")
    requester = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="tickets")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="tickets")
    offering = models.ForeignKey(Offering, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets")
    type = models.CharField(max_length=20, choices=Type.choices, default=Type.INCIDENT)
    subject = models.CharField(max_length=300)
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.NEW, db_index=True)
    priority = models.CharField(max_length=4, choices=Priority.choices, default=Priority.P3)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tickets"
    )
    opened_at = models.DateTimeField(db_index=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveIntegerField(default=0)
    # Feedback is never asked for duplicates or tickets closed by the system (DOMAIN §3).
    is_duplicate = models.BooleanField(default=False)
    closed_automatically = models.BooleanField(default=False)

    class Meta:
        ordering = ["-opened_at"]
        indexes = [
            # The organisation's ticket list in the portal.
            models.Index(fields=["organisation", "-opened_at"], name="desk_ticket_org_opened_idx"),
            # Per-service streams and analytics.
            models.Index(fields=["service", "-opened_at"], name="desk_ticket_service_opened_idx"),
        ]

    def __str__(self) -> str:
        return f"[{self.reference}] {self.subject}"

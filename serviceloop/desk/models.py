"""Tickets: the service interactions customers experience most often."""

from __future__ import annotations

import secrets
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.text import get_valid_filename

from serviceloop.accounts.models import Organisation
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core.models import BaseModel, public_id_field
from serviceloop.relationships.models import Person


class Team(BaseModel):
    """A group of agents that tickets are assigned to (service desk, network team...)."""

    public_id = public_id_field()
    name = models.CharField(max_length=100, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="desk_teams")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BusinessCalendar(BaseModel):
    """Working hours in a time zone, with holidays: SLA clocks count only this time."""

    public_id = public_id_field()
    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    # {"0": [["09:00", "17:00"]], ...}: weekday (0 = Monday) to local working intervals.
    working_hours = models.JSONField(default=dict)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Holiday(BaseModel):
    """A local date on which the calendar has no working hours."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "date"],
                name="desk_holiday_unique_per_calendar",
                violation_error_message="This calendar already has a holiday on that date.",
            ),
        ]


class SlaTarget(BaseModel):
    """First-response and resolution targets, in business minutes, for a service (or one offering) and priority."""

    public_id = public_id_field()
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="sla_targets")
    # Empty: the target applies to every offering of the service without a target of its own.
    offering = models.ForeignKey(Offering, null=True, blank=True, on_delete=models.CASCADE, related_name="sla_targets")
    priority = models.CharField(max_length=4)
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="targets")
    first_response_minutes = models.PositiveIntegerField()
    resolution_minutes = models.PositiveIntegerField()
    # A warning is recorded when this share of the target has been used.
    warning_percent = models.PositiveSmallIntegerField(default=80)

    class Meta:
        ordering = ["service", "offering", "priority"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "offering", "priority"],
                name="desk_slatarget_unique_per_offering",
                violation_error_message="This offering already has a target for that priority.",
            ),
            models.UniqueConstraint(
                fields=["service", "priority"],
                condition=Q(offering__isnull=True),
                name="desk_slatarget_unique_per_service",
                violation_error_message="This service already has a target for that priority.",
            ),
            models.CheckConstraint(
                condition=Q(warning_percent__gte=1) & Q(warning_percent__lte=99),
                name="desk_slatarget_warning_percent_range",
                violation_error_message="The warning comes at 1–99% of the target.",
            ),
            models.CheckConstraint(
                condition=Q(first_response_minutes__gte=1) & Q(resolution_minutes__gte=1),
                name="desk_slatarget_positive",
                violation_error_message="Targets are at least one minute.",
            ),
        ]


class PriorityRule(BaseModel):
    """One cell of the priority matrix: impact × urgency → priority (defaults apply to missing cells)."""

    impact = models.CharField(max_length=10)
    urgency = models.CharField(max_length=10)
    priority = models.CharField(max_length=4)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["impact", "urgency"],
                name="desk_priorityrule_unique_cell",
                violation_error_message="The matrix already has this impact × urgency cell.",
            ),
        ]


class TicketSequence(models.Model):
    """The counter behind ticket references; one row, incremented in the creating transaction."""

    name = models.CharField(max_length=20, unique=True)
    value = models.PositiveBigIntegerField(default=100000)

    def __str__(self) -> str:
        return f"{self.name}: {self.value}"


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

    class Level(models.TextChoices):
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    class Channel(models.TextChoices):
        PORTAL = "portal", "Portal"
        EMAIL = "email", "Email"
        API = "api", "API"
        STAFF = "staff", "Staff"

    # The SLA clock runs in these states only.
    RUNNING = (Status.NEW, Status.OPEN, Status.WAITING_THIRD_PARTY)
    ACTIVE = (Status.NEW, Status.OPEN, Status.WAITING_CUSTOMER, Status.WAITING_THIRD_PARTY)

    # References are this prefix and six or more digits; search accepts them with or without it.
    REFERENCE_PREFIX = "SL-"

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

    impact = models.CharField(max_length=10, choices=Level.choices, default=Level.MEDIUM)
    urgency = models.CharField(max_length=10, choices=Level.choices, default=Level.MEDIUM)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.PORTAL)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets")
    resolution = models.TextField(blank=True)
    # Analytics: every change of assignee or team, and those after the first assignment.
    assignment_hops = models.PositiveIntegerField(default=0)
    reassignment_count = models.PositiveIntegerField(default=0)
    # Resolved at the first interaction, no customer follow-up, never reopened (DOMAIN §2 FCR, before its 7-day window).
    first_contact_resolution = models.BooleanField(null=True, blank=True)

    # SLA clocks: due and warning instants move later by the business time the clock stood still.
    sla_target = models.ForeignKey(SlaTarget, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets")
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    first_response_warn_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    resolution_warn_at = models.DateTimeField(null=True, blank=True)
    # Set while the clock stands still (waiting on the customer, resolved, closed).
    clock_stopped_at = models.DateTimeField(null=True, blank=True)
    # Business seconds the clock stood still and then ran again, excluded from the clocks (shown on the
    # ticket): waiting on the customer, and the time spent resolved before a reopen. Due instants computed
    # again (a priority change) count from the opening time plus this.
    paused_seconds = models.PositiveIntegerField(default=0)
    # Of paused_seconds: the part spent resolved before a reopen (the ticket page names it).
    resolved_paused_seconds = models.PositiveIntegerField(default=0)
    # Of paused_seconds: the part before the first response, the only part that moves the first-response clock.
    first_response_paused_seconds = models.PositiveIntegerField(default=0)
    first_response_breached = models.BooleanField(default=False)
    resolution_breached = models.BooleanField(default=False)
    # Business minutes opened → first response and opened → (last) resolution, stored when they happen
    # (desk.services.business_minutes: the target's calendar, else the service's, else 09–17 weekdays).
    response_business_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_business_minutes = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        indexes = [
            # Staff queue sorted by time left, per state.
            models.Index(fields=["status", "resolution_due_at"], name="desk_ticket_status_due_idx"),
            # "Mine" queue.
            models.Index(fields=["assignee", "status"], name="desk_ticket_assignee_idx"),
            # The SLA task: clocks that may warn or breach.
            models.Index(fields=["first_response_due_at"], name="desk_ticket_fr_due_idx"),
            # The organisation's ticket list in the portal.
            models.Index(fields=["organisation", "-opened_at"], name="desk_ticket_org_opened_idx"),
            # Per-service streams and analytics.
            models.Index(fields=["service", "-opened_at"], name="desk_ticket_service_opened_idx"),
            # The desk metrics: resolved and answered tickets of a service in a period.
            models.Index(fields=["service", "resolved_at"], name="desk_ticket_svc_resolved_idx"),
            models.Index(fields=["service", "first_response_at"], name="desk_ticket_svc_answered_idx"),
        ]

    def __str__(self) -> str:
        return f"[{self.reference}] {self.subject}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def clock_running(self) -> bool:
        return self.status in self.RUNNING


class TicketEvent(BaseModel):
    """The ticket's history: every change, with who and when."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        STATUS = "status", "Status changed"
        ASSIGNED = "assigned", "Assigned"
        PRIORITY = "priority", "Priority changed"
        RESOLVED = "resolved", "Resolved"
        REOPENED = "reopened", "Reopened"
        CLOSED = "closed", "Closed"
        CLOCK_PAUSED = "clock_paused", "SLA clock paused"
        CLOCK_RESUMED = "clock_resumed", "SLA clock resumed"
        ROUTED = "routed", "Routed"
        MOVED = "moved", "Moved"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_value = models.CharField(max_length=200, blank=True)
    to_value = models.CharField(max_length=200, blank=True)
    note = models.CharField(max_length=500, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    by_person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
        # The history panel of the ticket page.
        indexes = [models.Index(fields=["ticket", "at"], name="desk_ticketevent_ticket_idx")]

    def _shown(self, value: str) -> str:
        """A stored code as a person reads it: "P2 high" for p2, "Waiting on customer" for its code."""
        if self.kind == self.Kind.STATUS:
            return str(dict(Ticket.Status.choices).get(value, value))
        if self.kind in (self.Kind.PRIORITY, self.Kind.CREATED):
            return str(dict(Ticket.Priority.choices).get(value, value))
        return value

    @property
    def from_shown(self) -> str:
        return self._shown(self.from_value)

    @property
    def to_shown(self) -> str:
        return self._shown(self.to_value)

    @property
    def change_shown(self) -> str:
        """What changed, in words: "P3 medium → P2 high"; a ticket's creation names its priority only."""
        if self.kind == self.Kind.CREATED:
            return f"priority {self.to_shown}" if self.to_value else ""
        if not (self.from_value or self.to_value):
            return ""
        return f"{self.from_shown or '—'} → {self.to_shown or '—'}"


class Message(BaseModel):
    """One entry of a ticket's conversation: a public reply or an internal note, from any channel."""

    class Kind(models.TextChoices):
        PUBLIC = "public", "Public reply"
        INTERNAL = "internal", "Internal note"

    Channel = Ticket.Channel

    public_id = public_id_field()
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PUBLIC)
    channel = models.CharField(max_length=10, choices=Ticket.Channel.choices, default=Ticket.Channel.PORTAL)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="desk_messages"
    )
    author_person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="desk_messages"
    )
    body = models.TextField()
    body_html = models.TextField(blank=True)
    # Threading of email: the Message-ID of the mail this entry came in as or went out as.
    email_message_id = models.CharField(max_length=500, blank=True, db_index=True)
    in_reply_to = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="desk_message_ticket_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["email_message_id"],
                condition=~Q(email_message_id=""),
                name="desk_message_email_message_id_unique",
                violation_error_message="A message with this email Message-ID is already recorded.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.ticket_id}"

    @property
    def is_internal(self) -> bool:
        return self.kind == self.Kind.INTERNAL

    @property
    def from_staff(self) -> bool:
        return self.author_user_id is not None and self.author_person_id is None


# Where attachments live inside the media storage (the orphan sweep lists this directory).
ATTACHMENT_DIR = "desk/attachments"


def attachment_path(instance: Attachment, filename: str) -> str:
    # A random directory per file: the stored path reveals nothing and cannot be guessed.
    safe = get_valid_filename(PurePath(filename).name)[:100] or "file"
    return f"{ATTACHMENT_DIR}/{secrets.token_urlsafe(24)}/{safe}"


class Attachment(BaseModel):
    """A file attached to a message, stored through Django's storage API, served after a visibility check."""

    public_id = public_id_field()
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.filename


class SlaEvent(BaseModel):
    """A warning or a breach of a ticket's SLA target, at the instant it happened (not when it was noticed)."""

    class Kind(models.TextChoices):
        WARNING = "warning", "Warning"
        BREACHED = "breached", "Breached"

    class Target(models.TextChoices):
        FIRST_RESPONSE = "first_response", "First response"
        RESOLUTION = "resolution", "Resolution"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    target = models.CharField(max_length=20, choices=Target.choices)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "kind", "target"],
                name="desk_slaevent_once_per_ticket",
                violation_error_message="This SLA event is already recorded for the ticket.",
            ),
        ]


class InboundMail(BaseModel):
    """One mail that came in (IMAP or webhook): its raw bytes, and what the desk did with it and why.

    Stored as `received` by the way in (the webhook's transaction, the IMAP poll); the worker parses
    and applies it and records the outcome. A mail held for review waits for an agent to release it
    to its ticket or discard it.
    """

    class Outcome(models.TextChoices):
        RECEIVED = "received", "Received, not yet processed"
        CREATED = "created", "Created a ticket"
        REPLIED = "replied", "Replied on a ticket"
        HELD = "held", "Held for review"
        IGNORED = "ignored", "Ignored"
        REJECTED = "rejected", "Rejected"
        DISCARDED = "discarded", "Discarded after review"

    class Source(models.TextChoices):
        IMAP = "imap", "IMAP mailbox"
        WEBHOOK = "webhook", "Webhook"

    public_id = public_id_field()
    source = models.CharField(max_length=10, choices=Source.choices)
    # The raw mail as it came in; empty for one refused before it was read (over the size limit).
    raw = models.BinaryField(default=b"", editable=False)
    # The mail's own Message-ID header (without angle brackets).
    email_message_id = models.CharField(max_length=500, blank=True, db_index=True)
    from_email = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    size = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RECEIVED)
    # A machine word and a sentence: "auto_reply: Auto-Submitted: auto-replied", "unknown_sender: ...".
    reason = models.CharField(max_length=500, blank=True)
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_mails")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_mails")
    received_at = models.DateTimeField(db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Which route chose the service of the ticket it opened, and the routes passed over and why.
    route = models.CharField(max_length=500, blank=True)
    # The receiving server's trusted Authentication-Results (mail_parse/auth.py): the header and its verdicts.
    auth_results = models.CharField(max_length=1000, blank=True)
    auth_dmarc = models.CharField(max_length=20, blank=True)
    auth_dkim = models.CharField(max_length=20, blank=True)
    auth_spf = models.CharField(max_length=20, blank=True)
    # Who released or discarded a held mail, and when.
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [
            # The staff list of inbound mail by outcome (held for review first of all), newest first.
            models.Index(fields=["outcome", "received_at"], name="desk_inboundmail_outcome_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome}: {self.subject[:60]}"


class OrganisationMailPolicy(BaseModel):
    """What the desk requires of mail that claims to come from an organisation's people.

    Kept by the desk beside `accounts.Organisation` (a lower floor that knows nothing of mail).
    """

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="mail_policy")
    # Mail is applied only when the receiving server's DMARC verdict is "pass"; else it is held.
    require_dmarc_pass = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"mail policy of {self.organisation}"


class AcknowledgementCount(models.Model):
    """How many acknowledgements ("we received your request") one address got in one clock hour.

    A row per address and hour, counted up by one conditional UPDATE, so the limit holds across
    every worker process at once.
    """

    address = models.CharField(max_length=254)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["address", "window_start"],
                name="desk_acknowledgementcount_one_per_hour",
                violation_error_message="One acknowledgement count per address and hour.",
            )
        ]
        indexes = [
            # Housekeeping deletes past windows.
            models.Index(fields=["window_start"], name="desk_ackcount_window_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.address} {self.window_start:%Y-%m-%d %H}:00 ×{self.count}"


class MailRoute(BaseModel):
    """Where new mail tickets go: mail sent to one of the desk's addresses, or mail that names some
    words or comes from an organisation, opens its ticket on this service.

    Two kinds of row: an address route (`address` set, nothing else to match), tried first, and a
    rule (`keywords` and/or `sender_organisation`), tried in `position` order after the addresses.
    Kept by the desk beside `catalogue.Service` (a lower floor that knows nothing of mail).
    """

    public_id = public_id_field()
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="mail_routes")
    # Empty: the ticket gets the organisation's offering of the service when it consumes just one.
    offering = models.ForeignKey(Offering, null=True, blank=True, on_delete=models.CASCADE, related_name="mail_routes")
    # Lower-case, one address per route, unique among routes ("payroll@desk.example").
    address = models.EmailField(max_length=254, blank=True)
    # Comma-separated words or phrases; any one found at the start of a word of the subject or body matches.
    keywords = models.CharField(max_length=500, blank=True)
    sender_organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="mail_routes"
    )
    # Rules are tried from the lowest position up (ties: the oldest first).
    position = models.PositiveIntegerField(default=100)
    is_active = models.BooleanField(default=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            # Also the index through which each inbound mail's recipients are looked up.
            models.UniqueConstraint(
                fields=["address"],
                condition=~Q(address=""),
                name="desk_mailroute_address_unique",
                violation_error_message="Another route already has this address.",
            ),
            models.CheckConstraint(
                condition=Q(address=Lower("address")),
                name="desk_mailroute_address_lower_case",
                violation_error_message="Route addresses are stored in lower case.",
            ),
            models.CheckConstraint(
                condition=Q(address="") | (Q(keywords="") & Q(sender_organisation__isnull=True)),
                name="desk_mailroute_address_or_rule",
                violation_error_message="A route matches an address or a rule (keywords, sender organisation), not both.",
            ),
            models.CheckConstraint(
                condition=~Q(address="") | ~Q(keywords="") | Q(sender_organisation__isnull=False),
                name="desk_mailroute_matches_something",
                violation_error_message="A route needs an address, keywords or a sender organisation.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.address or self.rule_shown} → {self.service}"

    @property
    def is_address(self) -> bool:
        return bool(self.address)

    @property
    def keyword_list(self) -> list[str]:
        return [word.strip().lower() for word in self.keywords.split(",") if word.strip()]

    @property
    def rule_shown(self) -> str:
        """The rule in words: "keywords payslip, salary · from Acme Logistics"."""
        parts = []
        if self.keyword_list:
            parts.append("keywords " + ", ".join(self.keyword_list))
        if self.sender_organisation_id is not None:
            parts.append(f"from {self.sender_organisation}")
        return " · ".join(parts)

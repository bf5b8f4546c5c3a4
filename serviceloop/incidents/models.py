"""Major incidents, scheduled maintenance and the public status page (DOMAIN §6).

One `Incident` table holds both what broke and what is planned: Statuspage's own contract treats a
maintenance as an incident with `scheduled_for`, and the status page, the feeds, the subscriptions
and the updates are the same for both. `kind` says which; `status` holds the state from the set of
that kind (incident: investigating → identified → monitoring → resolved; maintenance: scheduled →
in_progress → verifying → completed). "postmortem" is not a state of ours: the JSON API reports it
when the incident's review has been published.

Communication is planned per audience (`AudiencePlan`: internal, affected customers, public), each
with a cadence, channels, an owner and a "next update due" clock on the business-time engine of the
SLA clocks. Every `IncidentUpdate` is addressed to one or more audiences and restarts their clocks;
a clock that runs out opens a `Silence`, which the next update to that audience closes.

The recovery plan is a list of `RecoveryStep` rows with owners, a status and an ETA; every ETA an
incident or a step has ever had is an `EtaChange`, so ETA accuracy is measured afterwards from what
was promised, not from what was last written. The `Review` (post-incident review) has `ReviewAction`
rows followed until they are closed.

Subscribers (email with double opt-in, or signed webhooks) hear of updates on the public page;
every webhook POST is a `WebhookDelivery`, retried with back-off, kept as the delivery log.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from serviceloop.accounts.models import Organisation
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core.models import BaseModel, new_public_id, public_id_field
from serviceloop.desk.models import BusinessCalendar, Ticket


def _secret() -> str:
    return new_public_id(32)


class ComponentStatus(models.TextChoices):
    """Statuspage's component states, worst last but one (maintenance is not an outage)."""

    OPERATIONAL = "operational", "Operational"
    DEGRADED = "degraded_performance", "Degraded performance"
    PARTIAL = "partial_outage", "Partial outage"
    MAJOR = "major_outage", "Major outage"
    MAINTENANCE = "under_maintenance", "Under maintenance"


class ComponentGroup(BaseModel):
    """A heading on the status page that gathers components (e.g. "Workplace", "Network")."""

    public_id = public_id_field()
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Component(BaseModel):
    """A service as the status page shows it. One per service; only public ones appear on the public
    page (customers of an affected organisation see the rest in the portal)."""

    public_id = public_id_field()
    service = models.OneToOneField(Service, on_delete=models.CASCADE, related_name="status_component")
    name = models.CharField(max_length=200, help_text="As the public page names it (defaults to the service's name)")
    description = models.TextField(blank=True)
    group = models.ForeignKey(
        ComponentGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="components"
    )
    position = models.PositiveIntegerField(default=0)
    is_public = models.BooleanField(default=True)
    only_show_if_degraded = models.BooleanField(default=False)
    showcase = models.BooleanField(default=True, help_text="Shows the uptime bars on the public page")
    # The first day the service is counted for uptime (days before it are not "up").
    start_date = models.DateField(null=True, blank=True)
    # Agreed availability, percent, for the monthly view and trust's "availability target missed".
    availability_target = models.DecimalField(max_digits=6, decimal_places=3, default=99.9)

    class Meta:
        ordering = ["group__position", "position", "name"]

    def __str__(self) -> str:
        return self.name


class Severity(models.TextChoices):
    """SEV1–SEV2 are major incidents (communication plan, review); SEV3–SEV4 are minor."""

    SEV1 = "sev1", "SEV1 — critical"
    SEV2 = "sev2", "SEV2 — major"
    SEV3 = "sev3", "SEV3 — minor"
    SEV4 = "sev4", "SEV4 — low"


MAJOR_SEVERITIES = (Severity.SEV1, Severity.SEV2)

# Statuspage's `impact` of an incident of each severity.
IMPACT_OF_SEVERITY = {Severity.SEV1: "critical", Severity.SEV2: "major", Severity.SEV3: "minor", Severity.SEV4: "none"}


class Incident(BaseModel):
    """A major or minor incident, or a scheduled maintenance window."""

    class Kind(models.TextChoices):
        INCIDENT = "incident", "Incident"
        MAINTENANCE = "maintenance", "Scheduled maintenance"

    class Status(models.TextChoices):
        INVESTIGATING = "investigating", "Investigating"
        IDENTIFIED = "identified", "Identified"
        MONITORING = "monitoring", "Monitoring"
        RESOLVED = "resolved", "Resolved"
        SCHEDULED = "scheduled", "Scheduled"
        IN_PROGRESS = "in_progress", "In progress"
        VERIFYING = "verifying", "Verifying"
        COMPLETED = "completed", "Completed"

    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public status page, portal and staff"
        CUSTOMERS = "customers", "Affected organisations in the portal, and staff"
        INTERNAL = "internal", "Staff only"

    class Confidence(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    OPEN_INCIDENT = (Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING)
    MAINTENANCE_ACTIVE = (Status.IN_PROGRESS, Status.VERIFYING)

    public_id = public_id_field()
    # "MI-12" for incidents, "MW-3" for maintenance: read aloud on bridges, shown in mail subjects.
    reference = models.CharField(max_length=20, unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INCIDENT)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.INVESTIGATING, db_index=True)
    severity = models.CharField(max_length=4, choices=Severity.choices, default=Severity.SEV2)
    visibility = models.CharField(max_length=12, choices=Visibility.choices, default=Visibility.PUBLIC)
    description = models.TextField(blank=True, help_text="Internal notes on what is known")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents_owned"
    )
    comms_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents_comms"
    )
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    offerings = models.ManyToManyField(Offering, blank=True, related_name="incidents")
    # When the customers' experience started to suffer (may be before the declaration) and ended.
    impact_started_at = models.DateTimeField(null=True, blank=True)
    impact_ended_at = models.DateTimeField(null=True, blank=True)
    declared_at = models.DateTimeField(null=True, blank=True, db_index=True)
    identified_at = models.DateTimeField(null=True, blank=True)
    monitoring_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Maintenance: the planned window, when it really started and ended, the notice sent before it.
    scheduled_for = models.DateTimeField(null=True, blank=True)
    scheduled_until = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    notice_minutes = models.PositiveIntegerField(null=True, blank=True, help_text="Notice before the window opens")
    notice_sent_at = models.DateTimeField(null=True, blank=True)
    # Maintenance: whether the beat task opens and closes the window at its planned edges, and when
    # it was called off (a cancelled window is kept, completed at its planned start, with no status rows).
    auto_start = models.BooleanField(default=True)
    auto_complete = models.BooleanField(default=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # The current ETA for recovery as a whole (each change is an EtaChange with step = null).
    eta = models.DateTimeField(null=True, blank=True)
    eta_confidence = models.CharField(max_length=8, choices=Confidence.choices, blank=True)
    # The customer-facing part of the recovery plan is shown with the updates once published.
    plan_published_at = models.DateTimeField(null=True, blank=True)
    # Users of the affected organisations who could not work as usual, for trust's severity weight.
    users_affected = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="incident", status__in=["investigating", "identified", "monitoring", "resolved"])
                    | Q(kind="maintenance", status__in=["scheduled", "in_progress", "verifying", "completed"])
                ),
                name="incidents_status_of_kind",
                violation_error_message="An incident and a maintenance each have their own states.",
            ),
            models.CheckConstraint(
                condition=Q(kind="incident") | (Q(scheduled_for__isnull=False) & Q(scheduled_until__isnull=False)),
                name="incidents_maintenance_has_window",
                violation_error_message="A maintenance has a planned start and end.",
            ),
            models.CheckConstraint(
                condition=Q(scheduled_until__isnull=True) | Q(scheduled_until__gt=models.F("scheduled_for")),
                name="incidents_window_ends_after_start",
                violation_error_message="A maintenance window ends after it starts.",
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "status"], name="incidents_kind_status_idx"),
            models.Index(fields=["kind", "scheduled_for"], name="incidents_kind_window_idx"),
            models.Index(fields=["resolved_at"], name="incidents_resolved_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def is_major(self) -> bool:
        return self.kind == self.Kind.INCIDENT and self.severity in MAJOR_SEVERITIES

    @property
    def is_open(self) -> bool:
        if self.kind == self.Kind.MAINTENANCE:
            return self.status in self.MAINTENANCE_ACTIVE
        return self.status in self.OPEN_INCIDENT


class IncidentSequence(models.Model):
    """The next number of each reference series (MI, MW), taken under a row lock."""

    name = models.CharField(max_length=8, unique=True)
    value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.value}"


class AffectedService(BaseModel):
    """A service an incident affects, and how badly: the component status the page shows for it
    while the incident is open (a maintenance's services are under maintenance while it is active)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="affected_services")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    component_status = models.CharField(max_length=24, choices=ComponentStatus.choices, default=ComponentStatus.MAJOR)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "service"],
                name="incidents_affected_service_once",
                violation_error_message="The service is already affected by this incident.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.incident.reference}: {self.service} {self.component_status}"


class ComponentStatusChange(models.Model):
    """Each change of a service's status through an incident: the uptime history is computed from
    these intervals (a row from `started_at` until the next row of the same pair, or `ended_at`)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="status_changes")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=24, choices=ComponentStatus.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "pk"]
        indexes = [models.Index(fields=["service", "started_at"], name="incidents_statuschange_idx")]

    def __str__(self) -> str:
        return f"{self.service} {self.status} from {self.started_at:%Y-%m-%d %H:%M}"


class AffectedOrganisation(BaseModel):
    """A consumer organisation affected by an incident, with how many of its users were affected
    (the relationship's user roles unless the team said otherwise) out of how many it has."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="affected_organisations")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="incidents_affecting")
    users_affected = models.PositiveIntegerField(default=0)
    users_total = models.PositiveIntegerField(default=0)
    # The survey offered at resolution (feedback's hook) is recorded here so it is offered once.
    survey_offered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "organisation"],
                name="incidents_affected_org_once",
                violation_error_message="The organisation is already affected by this incident.",
            )
        ]
        indexes = [models.Index(fields=["organisation", "incident"], name="incidents_affected_org_idx")]

    def __str__(self) -> str:
        return f"{self.incident.reference}: {self.organisation}"


class IncidentTicket(BaseModel):
    """A desk ticket about the same problem; a ticket belongs to at most one incident."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="ticket_links")
    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="incident_link")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.incident.reference} ← {self.ticket.reference}"


class Audience(models.TextChoices):
    INTERNAL = "internal", "Internal (staff)"
    CUSTOMERS = "customers", "Affected customers"
    PUBLIC = "public", "Public status page"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    STATUS_PAGE = "status_page", "Status page"
    WEBHOOK = "webhook", "Webhook"


class AudiencePlan(BaseModel):
    """The communication plan for one audience of one incident, and its "next update due" clock.

    `next_due_at` is the instant (on `calendar`'s business time, every hour of every day when none)
    by which the next update to this audience is promised; `reminded_at` and `overdue_at` record that
    the owner was reminded and alerted for the current due time, so the beat task does each once.
    """

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="audience_plans")
    audience = models.CharField(max_length=12, choices=Audience.choices)
    cadence_minutes = models.PositiveIntegerField(default=30)
    channels = models.JSONField(default=list, help_text="Any of email, status_page, webhook")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    calendar = models.ForeignKey(BusinessCalendar, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    is_active = models.BooleanField(default=True)
    last_update_at = models.DateTimeField(null=True, blank=True)
    next_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["incident", "audience"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "audience"],
                name="incidents_plan_once_per_audience",
                violation_error_message="This incident already has a plan for that audience.",
            ),
            models.CheckConstraint(
                condition=Q(cadence_minutes__gte=5) & Q(cadence_minutes__lte=1440),
                name="incidents_plan_cadence_range",
                violation_error_message="A cadence is between 5 minutes and a day.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.incident.reference} → {self.audience} every {self.cadence_minutes} min"


class IncidentUpdate(BaseModel):
    """One message about an incident, to one or more audiences.

    The four parts of DOMAIN §6 are kept apart (what is affected, who is impacted, what is being
    done, when the next update comes) and `body` is the text as published (composed from them, or
    written freely). `display_at` is when it counts as said: the clocks and the measures use it.
    """

    class Kind(models.TextChoices):
        UPDATE = "update", "Update"
        RESOLUTION = "resolution", "Resolution notice"
        NOTICE = "notice", "Maintenance notice"

    public_id = public_id_field()
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.UPDATE)
    # The incident's status as of this update (Statuspage's incident_updates[].status).
    status = models.CharField(max_length=20, choices=Incident.Status.choices)
    audiences = models.JSONField(default=list)
    affected = models.TextField(blank=True, help_text="What is affected")
    impacted = models.TextField(blank=True, help_text="Who is impacted")
    actions = models.TextField(blank=True, help_text="What is being done")
    body = models.TextField()
    next_update_at = models.DateTimeField(null=True, blank=True, help_text="When the next update comes")
    display_at = models.DateTimeField(db_index=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deliver_notifications = models.BooleanField(default=True)
    # [{"code": service public id, "name": ..., "old_status": ..., "new_status": ...}] at the time.
    affected_components = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-display_at", "-pk"]
        indexes = [models.Index(fields=["incident", "display_at"], name="incidents_update_time_idx")]

    def __str__(self) -> str:
        return f"{self.incident.reference} {self.status} at {self.display_at:%Y-%m-%d %H:%M}"


class Silence(BaseModel):
    """A stretch in which an audience's promised update did not come: from the due time until the
    next update to that audience (open while `ended_at` is empty)."""

    plan = models.ForeignKey(AudiencePlan, on_delete=models.CASCADE, related_name="silences")
    due_at = models.DateTimeField()
    alerted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "due_at"],
                name="incidents_silence_once_per_due",
                violation_error_message="This silence is already recorded.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.plan} silent from {self.due_at:%H:%M}"


class RecoveryStep(BaseModel):
    """One step of the recovery plan: who does it, its state and when it should be done."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        BLOCKED = "blocked", "Blocked"
        DROPPED = "dropped", "Dropped"

    public_id = public_id_field()
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="recovery_steps")
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=300)
    detail = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    eta = models.DateTimeField(null=True, blank=True)
    eta_confidence = models.CharField(max_length=8, choices=Incident.Confidence.choices, blank=True)
    customer_facing = models.BooleanField(default=False, help_text="Published with the updates")
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["incident", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.incident.reference} step {self.position}: {self.title}"


class EtaChange(models.Model):
    """Every ETA the incident (step = null) or a step was given, in order: ETA accuracy compares
    each of them with when recovery (or the step) was really done."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="eta_changes")
    step = models.ForeignKey(RecoveryStep, null=True, blank=True, on_delete=models.CASCADE, related_name="eta_changes")
    eta = models.DateTimeField(null=True, blank=True)
    confidence = models.CharField(max_length=8, choices=Incident.Confidence.choices, blank=True)
    changed_at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.incident.reference} ETA {self.eta} (set {self.changed_at:%H:%M})"


class Review(BaseModel):
    """The post-incident review: due within a time set by severity, completed, then published
    (its customer-facing summary goes on the status page as the postmortem)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        COMPLETED = "completed", "Completed"
        PUBLISHED = "published", "Published"

    class RootCause(models.TextChoices):
        CHANGE = "change", "Change or release"
        CAPACITY = "capacity", "Capacity"
        HARDWARE = "hardware", "Hardware or facility"
        SOFTWARE = "software", "Software defect"
        CONFIGURATION = "configuration", "Configuration"
        SUPPLIER = "supplier", "Supplier or third party"
        SECURITY = "security", "Security"
        PROCESS = "process", "Process or procedure"
        UNKNOWN = "unknown", "Not yet known"

    public_id = public_id_field()
    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="review")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    due_at = models.DateTimeField()
    root_cause_category = models.CharField(max_length=20, choices=RootCause.choices, default=RootCause.UNKNOWN)
    root_cause = models.TextField(blank=True)
    contributing_factors = models.JSONField(default=list, blank=True)
    resolution = models.TextField(blank=True, help_text="How service was restored")
    customer_summary = models.TextField(blank=True, help_text="Published on the status page with the incident")
    # Lost work time reported in feedback about the incident (kept by feedback's hook), minutes.
    lost_minutes = models.PositiveIntegerField(default=0)
    lost_responses = models.PositiveIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "due_at"], name="incidents_review_due_idx")]

    def __str__(self) -> str:
        return f"Review of {self.incident.reference}"


class ReviewAction(BaseModel):
    """A follow-up action of a review, followed until it is closed."""

    class Kind(models.TextChoices):
        PREVENT = "prevent", "Prevent"
        DETECT = "detect", "Detect"
        MITIGATE = "mitigate", "Mitigate"
        COMMUNICATE = "communicate", "Communicate"
        KNOWLEDGE = "knowledge", "Knowledge"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        DROPPED = "dropped", "Dropped"

    public_id = public_id_field()
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="actions")
    title = models.CharField(max_length=300)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_on = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["status", "due_on"], name="incidents_action_due_idx")]

    def __str__(self) -> str:
        return self.title


class Subscription(BaseModel):
    """Someone who follows the status page: by email (after confirming the address) or by a webhook.

    No services listed means every public component. `token` signs the confirmation and the one-click
    unsubscribe links; `secret` signs webhook payloads (HMAC-SHA256 over "timestamp.body").
    """

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"

    public_id = public_id_field()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    email = models.EmailField(blank=True)
    url = models.URLField(max_length=500, blank=True)
    # The webhook's owner is told at this address when it is disabled after repeated failures.
    owner_email = models.EmailField(blank=True)
    services = models.ManyToManyField(Service, blank=True, related_name="status_subscriptions")
    token = models.CharField(max_length=64, unique=True, default=_secret, editable=False)
    secret = models.CharField(max_length=64, default=_secret, editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="email") & ~Q(email="")) | (Q(kind="webhook") & ~Q(url="")),
                name="incidents_subscription_has_address",
                violation_error_message="An email subscription has an address and a webhook a URL.",
            ),
            models.UniqueConstraint(
                fields=["email"],
                condition=Q(kind="email", unsubscribed_at__isnull=True),
                name="incidents_subscription_one_per_email",
                violation_error_message="This address is already subscribed.",
            ),
        ]

    def __str__(self) -> str:
        return self.email or self.url

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None and self.disabled_at is None


class WebhookDelivery(models.Model):
    """One event POSTed (or to be POSTed) to one webhook subscription: the outbox and the log."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    public_id = public_id_field()
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    event_name = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # The outbox event that caused it: one delivery per (event, subscription), whatever the retries.
    source_event_id = models.BigIntegerField()
    # The service (public id) whose component change a `component_update` body reports; blank for the
    # `incident` body. One event may change several components: Statuspage sends one POST for each.
    component = models.CharField(max_length=24, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_event_id", "subscription", "component"],
                name="incidents_webhook_once_per_event",
                violation_error_message="This event is already queued for the webhook.",
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="incidents_webhook_due_idx")]

    def __str__(self) -> str:
        return f"{self.event_name} → {self.subscription} ({self.status})"


class WebhookAttempt(models.Model):
    """One POST of a delivery, as the delivery log shows it: when, the answer's status (none for a
    timeout or a refused connection), how long it took, and the error."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["delivery", "number", "pk"]

    def __str__(self) -> str:
        return f"{self.delivery} attempt {self.number}: {self.status_code or self.error[:40]}"

"""Trust's tables (DOMAIN §5, docs/trust.md): the append-only evidence log, the versions of the
model's parameters, the computed state of each (organisation, service) with its weekly points, and
whether an organisation's own trust is shown in its portal.

Imported by experience/models.py, so Django sees them as the experience app's models.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from serviceloop.accounts.models import Organisation
from serviceloop.catalogue.models import Service
from serviceloop.core import clock


class EvidenceKind(models.TextChoices):
    # The engine's kinds (trust_engine.KINDS), same spelling.
    WEEK_MET = "week_met", "Week with targets met"
    POSITIVE_ANSWER = "positive_answer", "Positive answer"
    NEGATIVE_ANSWER = "negative_answer", "Negative answer"
    NEGATIVE_POST = "negative_post", "Negative post"
    SMALL_FAILURE = "small_failure", "Small failure"
    AVAILABILITY_MISSED = "availability_missed", "Availability target missed"
    MAJOR_INCIDENT = "major_incident", "Major incident"
    MAJOR_RESOLVED = "major_resolved", "Major incident resolved (recovery credit)"
    REVIEW_ACTIONS_CLOSED = "review_actions_closed", "Review actions closed (recovery credit)"
    # Weightless: they count a week's answers and tickets for the volume rule (docs/trust.md).
    NEUTRAL_ANSWER = "neutral_answer", "Neutral answer"
    TICKET_OPENED = "ticket_opened", "Ticket opened"


class TrustParameterSet(models.Model):
    """One version of the model's parameters: overrides of trust_engine.Parameters (empty: the
    defaults). The highest version is the one in use; every state records the version it used."""

    version = models.PositiveIntegerField(unique=True)
    values = models.JSONField(default=dict, blank=True, help_text="Parameter → number; the rest are the defaults")
    note = models.CharField(max_length=500, blank=True, help_text="Why this version was adopted")
    adopted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    adopted_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"Trust parameters v{self.version}"


class TrustEvidence(models.Model):
    """One piece of evidence about how an organisation experienced a service. Append-only: written
    once (idempotent by `key`), never changed; every trust state is a replay of these rows."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="trust_evidence")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="trust_evidence")
    # The day it counts on (settings.TIME_ZONE), and the moment it happened.
    day = models.DateField()
    occurred_at = models.DateTimeField()
    kind = models.CharField(max_length=24, choices=EvidenceKind.choices)
    # The engine's inputs, by kind (trust_engine.Evidence): share (week_met, review_actions_closed),
    # severity (major_incident), communication and plan (major_resolved).
    share = models.FloatField(null=True, blank=True)
    severity = models.FloatField(null=True, blank=True)
    communication = models.FloatField(null=True, blank=True)
    plan = models.FloatField(null=True, blank=True)
    # The major incident the three major kinds belong to (kept when it is deleted: the log stands).
    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="trust_evidence"
    )
    incident_key = models.CharField(max_length=40, blank=True, help_text="The engine's id of the major incident")
    # What it came from: "desk.ticket", "feedback.response", "feedback.post", "incidents.incident",
    # "trust.week", "trust.availability"; and that row's id where there is one.
    source_type = models.CharField(max_length=40)
    source_id = models.PositiveBigIntegerField(null=True, blank=True)
    # Idempotency: one row per piece of evidence, e.g. "sla:<ticket>:<target>", "week:<org>:<service>:<monday>".
    key = models.CharField(max_length=200, unique=True)
    label = models.CharField(max_length=300, help_text='How a page names it, e.g. "major incident MI-12"')
    details = models.JSONField(default=dict, blank=True, help_text="What the weight was derived from")
    event = models.ForeignKey(
        "core.Event", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    recorded_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["day", "pk"]
        indexes = [
            # A pair's replay (every state refresh) and its evidence page.
            models.Index(fields=["organisation", "service", "day"], name="experience_trust_ev_pair_idx"),
            models.Index(fields=["incident"], name="experience_trust_ev_inc_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind}: {self.label}"


class TrustBand(models.TextChoices):
    GOOD = "good", "Good"
    WATCH = "watch", "Watch"
    RED = "red", "Red"
    UNKNOWN = "unknown", "Too little evidence"


class TrustState(models.Model):
    """The computed trust of one (organisation, service), replayed from its evidence up to `as_of`."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="trust_states")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="trust_states")
    as_of = models.DateField()
    trust = models.FloatField()
    confidence = models.FloatField()
    band = models.CharField(max_length=10, choices=TrustBand.choices)
    r = models.FloatField(default=0)
    s = models.FloatField(default=0)
    # The trend: trust SERVICELOOP_TRUST_FALL_DAYS before as_of (None before any evidence then), and the change.
    trust_before = models.FloatField(null=True, blank=True)
    change = models.FloatField(null=True, blank=True)
    evidence_count = models.PositiveIntegerField(default=0)
    first_day = models.DateField(null=True, blank=True, help_text="The first evidence's day")
    # trust_engine.Contribution and MajorOutcome as dicts, largest effect first (the page's explanation).
    contributions = models.JSONField(default=list, blank=True)
    majors = models.JSONField(default=list, blank=True)
    parameters_version = models.PositiveIntegerField()
    computed_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["trust", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "service"], name="experience_trust_state_pair"),
        ]
        indexes = [
            # A service's lowest and falling fastest; the red band across the portfolio.
            models.Index(fields=["service", "trust"], name="experience_trust_st_low_idx"),
            models.Index(fields=["service", "change"], name="experience_trust_st_fall_idx"),
            models.Index(fields=["band", "trust"], name="experience_trust_st_band_idx"),
        ]

    def __str__(self) -> str:
        return f"Trust of {self.organisation_id} in {self.service_id}: {self.trust:.1f}"


class TrustPoint(models.Model):
    """The trend chart: trust at the end of each week (Sunday, and as_of) of a pair, as last computed."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    trust = models.FloatField()
    confidence = models.FloatField()
    parameters_version = models.PositiveIntegerField()

    class Meta:
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "service", "day"], name="experience_trust_point_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.trust:.1f}"


class TrustSharing(models.Model):
    """Whether an organisation's own trust is shown to its customers in the portal (off unless the
    provider turns it on)."""

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="trust_sharing")
    shown_in_portal = models.BooleanField(default=False)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"Trust of {self.organisation_id} shown in portal: {self.shown_in_portal}"

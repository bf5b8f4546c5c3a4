"""Experience's tables: the rollup counts per service × offering × organisation × channel × ticket type × day
(and their day sums), XLAs and their history, alerts to service managers, and service reviews.

Pages read experience figures from the rollups, never from the raw rows (docs/experience.md, "Rollups").
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.text import get_valid_filename

from serviceloop.accounts.models import Organisation
from serviceloop.catalogue.models import Service
from serviceloop.core.models import BaseModel, public_id_field
from serviceloop.experience.trust_models import (  # noqa: F401  # Django finds the app's models here
    EvidenceKind,
    TrustBand,
    TrustEvidence,
    TrustParameterSet,
    TrustPoint,
    TrustSharing,
    TrustState,
)
from serviceloop.relationships.models import Relationship

# "No offering" and "no organisation" are stored as 0, not NULL: a unique constraint then covers
# every row on SQLite and PostgreSQL alike (both treat NULLs as distinct in a plain unique index),
# and ids are plain numbers, not foreign keys, so that deleting an offering neither cascades nor is
# blocked by its rollups — its `offering.deleted` event recounts the cells instead.
NONE_ID = 0


class RollupCount(models.Model):
    """How many of one (measure, value) one cell counted; a cell is (service, day) and its breakdowns."""

    service_id = models.PositiveBigIntegerField()
    day = models.DateField(help_text="Calendar day in settings.TIME_ZONE of the moment answered / sent / posted")
    offering_id = models.PositiveBigIntegerField(default=NONE_ID)
    organisation_id = models.PositiveBigIntegerField(default=NONE_ID)
    channel = models.CharField(max_length=20)
    ticket_type = models.CharField(max_length=20, default="", blank=True, help_text='"" when there is no ticket')
    measure = models.CharField(max_length=20)
    value = models.CharField(max_length=40, default="", blank=True)
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            # The key, led by (service, day): its index is also the one pages read a service's period by.
            models.UniqueConstraint(
                fields=[
                    "service_id",
                    "day",
                    "offering_id",
                    "organisation_id",
                    "channel",
                    "ticket_type",
                    "measure",
                    "value",
                ],
                name="experience_rollupcount_key",
                violation_error_message="This rollup cell already has a count for that measure and value.",
            ),
            models.CheckConstraint(
                condition=models.Q(count__gt=0),
                name="experience_rollupcount_count_positive",
                violation_error_message="A rollup row counts at least one.",
            ),
        ]
        indexes = [
            # The portfolio reads every service over a period; the rebuild replaces a range of days.
            models.Index(fields=["day"], name="experience_rollup_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} service {self.service_id}: {self.measure}={self.value!r} × {self.count}"


class Xla(BaseModel):
    """An experience level agreement: a target on one experience metric for a service or a relationship.

    The figure is the metric over a window (rolling 7, 30, 90 days, or the calendar month to date)
    of the XLA's scope: a service, or one relationship (its organisation × offering). The latest
    evaluation is kept on the row (state, figure, the desk's SLA compliance beside it); each change
    of state is a row of `XlaEvaluation` (docs/experience.md, "XLAs").
    """

    class Comparator(models.TextChoices):
        AT_LEAST = "gte", "≥ at least"
        AT_MOST = "lte", "≤ at most"

    class Window(models.TextChoices):
        ROLLING_7 = "rolling_7", "Rolling 7 days"
        ROLLING_30 = "rolling_30", "Rolling 30 days"
        ROLLING_90 = "rolling_90", "Rolling 90 days"
        MONTH = "month", "Calendar month to date"

    class State(models.TextChoices):
        MET = "met", "Met"
        AT_RISK = "at_risk", "At risk"
        BREACHED = "breached", "Breached"
        NOT_ENOUGH_DATA = "not_enough_data", "Not enough data"

    class BaselineKind(models.TextChoices):
        NONE = "none", "No baseline"
        VALUE = "value", "A value I give"
        BEFORE_START = "before_start", "The window ending on the start date"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    public_id = public_id_field()
    name = models.CharField(max_length=200)
    # The service it is about; for a relationship XLA the service of the relationship's offering.
    service = models.ForeignKey("catalogue.Service", on_delete=models.CASCADE, related_name="xlas")
    relationship = models.ForeignKey(
        "relationships.Relationship", null=True, blank=True, on_delete=models.CASCADE, related_name="xlas"
    )
    metric = models.CharField(max_length=40, help_text="A metric name of experience/metrics.py")
    comparator = models.CharField(max_length=3, choices=Comparator.choices, default=Comparator.AT_LEAST)
    target = models.DecimalField(max_digits=12, decimal_places=2)
    window = models.CharField(max_length=20, choices=Window.choices, default=Window.ROLLING_30)
    min_sample = models.PositiveIntegerField(help_text="Below this many answers (or tickets): not enough data")
    # Met, but by less than this (in the metric's unit): at risk.
    risk_margin = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    start_date = models.DateField(help_text="The first day the XLA holds; the baseline window ends the day before")
    baseline_kind = models.CharField(max_length=20, choices=BaselineKind.choices, default=BaselineKind.NONE)
    baseline = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    baseline_n = models.PositiveIntegerField(null=True, blank=True)
    baseline_from = models.DateField(null=True, blank=True)
    baseline_to = models.DateField(null=True, blank=True)
    # Accountable for it; empty: the service's manager.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_xlas"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    archived_at = models.DateTimeField(null=True, blank=True)
    # The latest evaluation ("" state: never evaluated).
    state = models.CharField(max_length=20, choices=State.choices, blank=True, default="")
    state_since = models.DateTimeField(null=True, blank=True)
    value = models.FloatField(null=True, blank=True)
    n = models.PositiveIntegerField(default=0)
    interval_low = models.FloatField(null=True, blank=True)
    interval_high = models.FloatField(null=True, blank=True)
    window_from = models.DateField(null=True, blank=True)
    window_to = models.DateField(null=True, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    # The desk's SLA compliance over the same window and scope, beside it (value None: not enough data).
    sla_first_response = models.FloatField(null=True, blank=True)
    sla_first_response_n = models.PositiveIntegerField(default=0)
    sla_resolution = models.FloatField(null=True, blank=True)
    sla_resolution_n = models.PositiveIntegerField(default=0)
    # Optimistic concurrency (accounts.versioning): raised by one on every edit, not by an evaluation.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["service__name", "name", "pk"]
        verbose_name = "XLA"
        constraints = [
            models.CheckConstraint(
                condition=~Q(name=""),
                name="experience_xla_name_not_empty",
                violation_error_message="An XLA needs a name.",
            ),
            models.CheckConstraint(
                condition=Q(min_sample__gte=1),
                name="experience_xla_min_sample_positive",
                violation_error_message="The minimum sample is at least 1.",
            ),
            models.CheckConstraint(
                condition=Q(risk_margin__gte=0),
                name="experience_xla_risk_margin_not_negative",
                violation_error_message="The at-risk margin is a distance, never negative.",
            ),
            models.CheckConstraint(
                condition=Q(comparator__in=["gte", "lte"]),
                name="experience_xla_comparator_known",
                violation_error_message="The comparator is ≥ or ≤.",
            ),
        ]
        indexes = [
            # The list: active XLAs by service, by state.
            models.Index(fields=["status", "service"], name="experience_xla_service_idx"),
            models.Index(fields=["status", "state"], name="experience_xla_state_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def accountable(self) -> Any:
        """Who answers for it: the owner, else the service's manager."""
        return self.owner if self.owner_id else self.service.service_manager


class XlaEvaluation(models.Model):
    """One change of an XLA's state, with the figures that caused it (written only when the state changes)."""

    xla = models.ForeignKey(Xla, on_delete=models.CASCADE, related_name="evaluations")
    previous_state = models.CharField(max_length=20, blank=True, help_text='"" for the first evaluation')
    state = models.CharField(max_length=20, choices=Xla.State.choices)
    value = models.FloatField(null=True, blank=True)
    n = models.PositiveIntegerField(default=0)
    interval_low = models.FloatField(null=True, blank=True)
    interval_high = models.FloatField(null=True, blank=True)
    target = models.DecimalField(max_digits=12, decimal_places=2)
    comparator = models.CharField(max_length=3)
    window_from = models.DateField()
    window_to = models.DateField()
    sla_first_response = models.FloatField(null=True, blank=True)
    sla_resolution = models.FloatField(null=True, blank=True)
    evaluated_at = models.DateTimeField()

    class Meta:
        ordering = ["-evaluated_at", "-pk"]
        indexes = [models.Index(fields=["xla", "-evaluated_at"], name="experience_xlaeval_xla_idx")]

    def __str__(self) -> str:
        return f"{self.xla}: {self.previous_state or 'new'} → {self.state} at {self.evaluated_at:%Y-%m-%d %H:%M}"


class RollupDay(models.Model):
    """The rollup summed over offering, organisation, channel and ticket type: (service, day, measure, value).

    Reads without those filters or groupings (the portfolio, a service's trend) come from here: its
    size is bounded by services × days × values whatever the volume, while `RollupCount`'s finer key
    holds about one cell per response once responses are spread over many organisations (measured:
    bench/README.md, "Experience at scale"). Kept in the same transaction as the finer rows it sums.
    """

    service_id = models.PositiveBigIntegerField()
    day = models.DateField()
    measure = models.CharField(max_length=20)
    value = models.CharField(max_length=40, default="", blank=True)
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service_id", "day", "measure", "value"],
                name="experience_rollupday_key",
                violation_error_message="This rollup day already has a count for that measure and value.",
            ),
            models.CheckConstraint(
                condition=models.Q(count__gt=0),
                name="experience_rollupday_count_positive",
                violation_error_message="A rollup row counts at least one.",
            ),
        ]
        indexes = [models.Index(fields=["day", "service_id"], name="experience_rollupday_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} service {self.service_id}: {self.measure}={self.value!r} × {self.count}"


class Alert(BaseModel):
    """An alert to a service's manager: an XLA that changed state, or a drop against the service's own baseline.

    One open alert per cause (a partial unique constraint): raising it again while it is open changes
    nothing, so repeated detection runs never storm. After it recovered, the same cause may open a new
    one (re-armed). `figures` keeps what triggered it (docs/experience.md, "Alerts").
    """

    class Kind(models.TextChoices):
        DROP = "drop", "Drop against the baseline"
        XLA = "xla", "XLA state change"
        TRUST = "trust", "Trust of a relationship"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        RECOVERED = "recovered", "Recovered"

    public_id = public_id_field()
    service = models.ForeignKey("catalogue.Service", on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    cause = models.CharField(max_length=200, help_text='What it is about, e.g. "drop:<service>:happiness", "xla:<id>"')
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    title = models.CharField(max_length=300)
    figures = models.JSONField(default=dict, blank=True, help_text="The figures that triggered it")
    recovery_figures = models.JSONField(default=dict, blank=True, help_text="The figures it recovered on")
    # The service manager at the time it opened: whom it was mailed to.
    addressed_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField()
    recovered_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["cause"],
                condition=models.Q(state="open"),
                name="experience_alert_one_open_per_cause",
                violation_error_message="An alert for this cause is already open.",
            ),
            models.CheckConstraint(
                condition=models.Q(state="open", recovered_at__isnull=True)
                | models.Q(state="recovered", recovered_at__isnull=False),
                name="experience_alert_recovered_at_with_state",
                violation_error_message="A recovered alert has a recovery time; an open one has none.",
            ),
        ]
        indexes = [
            # The alert list (by state, newest first) and the navigation's open count.
            models.Index(fields=["state", "opened_at"], name="experience_alert_state_idx"),
            # One service's alerts; a cause's history (re-armed alerts of the same cause).
            models.Index(fields=["service", "opened_at"], name="experience_alert_service_idx"),
            models.Index(fields=["cause", "opened_at"], name="experience_alert_cause_idx"),
        ]

    def __str__(self) -> str:
        return self.title


# Where the PDFs of service reviews live inside the media storage.
REVIEW_DIR = "experience/reviews"


def review_pdf_path(instance: ServiceReview, filename: str) -> str:
    # A random directory per file: the stored name reveals nothing; the file is served by a view only.
    return f"{REVIEW_DIR}/{secrets.token_urlsafe(24)}/{get_valid_filename(filename)[:100] or 'review.pdf'}"


class ServiceReview(BaseModel):
    """A service review report: one service, or one relationship (organisation × offering), over a period.

    The page is computed from the figures whenever it is opened; the PDF is what it said when the
    worker generated it (`state`, with the reason when it failed).
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        GENERATING = "generating", "Generating"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    public_id = public_id_field()
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="reviews")
    # A relationship's review: its organisation is kept beside it, so a customer's list filters on one column.
    relationship = models.ForeignKey(
        Relationship, null=True, blank=True, on_delete=models.CASCADE, related_name="reviews"
    )
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="service_reviews"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.QUEUED)
    failure = models.TextField(blank=True, help_text="Why the PDF could not be generated")
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    pdf = models.FileField(upload_to=review_pdf_path, max_length=300, blank=True)
    pdf_size = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_start__lte=models.F("period_end")),
                name="experience_review_period_in_order",
                violation_error_message="A review's period starts on or before its last day.",
            ),
            models.CheckConstraint(
                condition=models.Q(relationship__isnull=True, organisation__isnull=True)
                | models.Q(relationship__isnull=False, organisation__isnull=False),
                name="experience_review_relationship_has_organisation",
                violation_error_message="A relationship's review names the relationship's organisation.",
            ),
        ]
        indexes = [
            # The list: a customer's organisation's reviews, newest first; one service's reviews.
            models.Index(fields=["organisation", "-created_at"], name="experience_review_org_idx"),
            models.Index(fields=["service", "-created_at"], name="experience_review_service_idx"),
            # The sweep: reviews still waiting for the worker.
            models.Index(fields=["state", "created_at"], name="experience_review_state_idx"),
        ]

    def __str__(self) -> str:
        return f"Service review of {self.subject_label}, {self.period_start} to {self.period_end}"

    @property
    def subject_label(self) -> str:
        relationship = self.relationship
        if relationship is not None:
            return f"{self.service.name} for {relationship.organisation.name} ({relationship.offering.name})"
        return self.service.name

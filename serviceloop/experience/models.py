"""The rollup table: counts of (measure, value) per service × offering × organisation × channel × ticket type × day.

Pages read experience figures from here, never from the raw rows (docs/experience.md, "Rollups").
"""

from __future__ import annotations

from django.db import models

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

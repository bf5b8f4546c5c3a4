"""The abstract base every table inherits, and unguessable public identifiers."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone

# Crockford-style alphabet without look-alikes, so ids can be read aloud and typed.
_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"


def new_public_id(length: int = 12) -> str:
    """A random id for URLs and emails: ~59 bits at the default length, never a row number."""
    # One draw below 31**length, written in base 31: the same uniform choice of every string as drawing
    # each character alone, about ten times faster (bulk loads make hundreds of thousands).
    number = secrets.randbelow(len(_ALPHABET) ** length)
    characters = []
    for _ in range(length):
        number, digit = divmod(number, len(_ALPHABET))
        characters.append(_ALPHABET[digit])
    return "".join(characters)


def public_id_field() -> models.CharField:
    return models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)


class BaseModel(models.Model):
    """Every serviceloop row: when it was created (indexed, for periods) and last changed."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Event(models.Model):
    """A domain event, written in the transaction of the change it describes: the outbox and the audit trail.

    `name` says what happened (`ticket.resolved`), `subject_type`/`subject_id` the row it concerns,
    `data` the ids and values a subscriber needs (never whole rows), `actor` who did it (empty for the
    system). The worker delivers it to every subscriber at least once; `completed_at` is set when all
    of them have it.
    """

    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    name = models.CharField(max_length=80)
    subject_type = models.CharField(max_length=80, blank=True)
    subject_id = models.BigIntegerField(null=True, blank=True)
    subject_label = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)
    # The acting login's id and name at the time; core stands below accounts, so no foreign key.
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # When the sweep should look at it next if the worker has not finished it by then.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The audit pages: one object's history, and the filtered list by time.
            models.Index(fields=["subject_type", "subject_id", "created_at"], name="core_event_subject_idx"),
            models.Index(fields=["created_at"], name="core_event_created_idx"),
            models.Index(fields=["name", "created_at"], name="core_event_name_idx"),
            models.Index(fields=["actor_id", "created_at"], name="core_event_actor_idx"),
            # The sweep: events not yet delivered to every subscriber, by due time.
            models.Index(
                fields=["next_attempt_at"],
                name="core_event_pending_idx",
                condition=models.Q(completed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.subject_label or self.subject_id or ''}".strip()


class EventDelivery(models.Model):
    """One subscriber's receipt of one event: written in the subscriber's own transaction, so a
    delivery that is marked done has had its effect exactly once."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        DELIVERED = "delivered", "delivered"
        FAILED = "failed", "failed"

    # The operations page and the API retry a delivery by this id, never by its row number.
    public_id = public_id_field()
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.CharField(max_length=120)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Set when an operator retries a failed delivery: a fresh window from then (else from the event).
    retry_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event", "subscriber"],
                name="core_eventdelivery_once_per_subscriber",
                violation_error_message="An event is delivered to each subscriber once.",
            )
        ]
        indexes = [
            # The operations page: failed deliveries.
            models.Index(fields=["status", "last_attempt_at"], name="core_delivery_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event.name} → {self.subscriber} ({self.status})"


class OutgoingMail(models.Model):
    """A mail promised by a commit: written in that transaction, sent by the worker, retried with
    back-off until it is accepted or its retry window closes (then failed, for an operator)."""

    class Status(models.TextChoices):
        PENDING = "pending", "waiting to be sent"
        SENDING = "sending", "being sent"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"

    # The operations page and the API retry a mail by this id: a Message-ID reveals the domain and
    # a row number is guessable.
    public_id = public_id_field()
    message_id = models.CharField(max_length=250, unique=True)
    to = models.JSONField(default=list)
    subject = models.CharField(max_length=500)
    text = models.TextField()
    html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    reply_to = models.JSONField(default=list, blank=True)
    from_email = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A claim older than the lease is taken to be a dead worker's; the mail is tried again.
    claimed_at = models.DateTimeField(null=True, blank=True)
    retry_until = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The sweep: mail due for a (first or next) attempt.
            models.Index(fields=["status", "next_attempt_at"], name="core_mail_due_idx"),
            models.Index(fields=["created_at"], name="core_mail_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{', '.join(self.to)}: {self.subject}"


class IdempotencyKey(models.Model):
    """The first answer to an API write sent with an `Idempotency-Key`: a repeat within the
    retention answers it again and writes nothing. Scoped to the caller (token or session user)."""

    scope = models.CharField(max_length=80)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=120)
    body = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key"],
                name="core_idempotencykey_once_per_caller",
                violation_error_message="An idempotency key is used once per caller.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope}: {self.key}"


class RateLimitCounter(models.Model):
    """How many requests (or failed sign-ins) one client made at one door in its current window.

    One row per (rule, client): the first hit opens a window of the rule's period, each hit counts
    one up in a single atomic upsert (core.ratelimit), a hit after `reset_at` starts a new window.
    `bucket` is a keyed hash of the client (IP address, email, token), never the value itself.
    """

    rule = models.CharField(max_length=60)
    bucket = models.CharField(max_length=64)
    hits = models.PositiveIntegerField(default=0)
    window_start = models.DateTimeField()
    reset_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "bucket"],
                name="core_ratelimitcounter_one_per_client",
                violation_error_message="A client has one counter per rate limit.",
            )
        ]
        indexes = [
            # Housekeeping: delete the windows that have ended.
            models.Index(fields=["reset_at"], name="core_ratelimit_reset_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} {self.bucket[:8]}…: {self.hits}"

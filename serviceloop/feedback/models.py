"""Surveys, invitations, the suppressed-invitation log and responses (DOMAIN §2–§3).

The channels side (widget, QR, ingest, social posts) adds its own tables beside these.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from serviceloop.accounts.models import Organisation
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core.models import BaseModel, new_public_id, public_id_field
from serviceloop.desk.models import Ticket
from serviceloop.incidents.models import Incident
from serviceloop.relationships.models import Person, Relationship


class QuestionKind(models.TextChoices):
    CSAT = "csat", "Satisfaction (1–5)"
    HAPPINESS = "happiness", "Happiness (0–10)"
    NPS = "nps", "Likelihood to recommend (0–10)"
    CES = "ces", "Ease (1–7)"
    LOST_TIME = "lost_time", "Lost time"
    DRIVERS = "drivers", "Drivers"
    COMMENT = "comment", "Comment"


# The kinds that carry a score: a survey's first question is one of these (it sits in the email).
SCORE_KINDS = (QuestionKind.CSAT, QuestionKind.HAPPINESS, QuestionKind.NPS, QuestionKind.CES)
# What a page calls each score beside its number ("Happiness 9", not "happiness 9").
SCORE_NAMES = {
    QuestionKind.CSAT: "Satisfaction",
    QuestionKind.HAPPINESS: "Happiness",
    QuestionKind.NPS: "Recommend",
    QuestionKind.CES: "Ease",
}
# Inclusive range of each score kind.
SCORE_RANGES: dict[str, tuple[int, int]] = {
    QuestionKind.CSAT: (1, 5),
    QuestionKind.HAPPINESS: (0, 10),
    QuestionKind.NPS: (0, 10),
    QuestionKind.CES: (1, 7),
}


class Driver(models.TextChoices):
    """Experience drivers (DOMAIN §1); each answer may name several."""

    COMMUNICATION = "communication", "Communication"
    SPEED = "speed", "Speed"
    QUALITY = "quality", "Quality"
    COST = "cost", "Cost"
    ATTITUDE = "attitude", "Attitude"
    KNOWLEDGE = "knowledge", "Knowledge"


class LostTime(models.TextChoices):
    """'How much work time did this cost you?' buckets (DOMAIN §2)."""

    NONE = "none", "None"
    LT30 = "lt30", "Less than 30 minutes"
    M30_60 = "30to60", "30–60 minutes"
    H1_2 = "1to2h", "1–2 hours"
    H2_4 = "2to4h", "2–4 hours"
    H4_8 = "4to8h", "4–8 hours"
    GT1DAY = "gt1day", "More than a day"


# Midpoints in minutes, DOMAIN §2: what mean and total lost time are computed from.
LOST_TIME_MINUTES: dict[str, int] = {
    LostTime.NONE: 0,
    LostTime.LT30: 15,
    LostTime.M30_60: 45,
    LostTime.H1_2: 90,
    LostTime.H2_4: 180,
    LostTime.H4_8: 360,
    LostTime.GT1DAY: 600,
}


class SurveyKind(models.TextChoices):
    TRANSACTIONAL = "transactional", "Transactional (after an interaction)"
    RELATIONSHIP = "relationship", "Relationship (periodic NPS)"


class Trigger(models.TextChoices):
    TICKET_RESOLVED = "ticket_resolved", "Ticket resolved"
    MAJOR_INCIDENT = "major_incident", "Major incident resolved"
    RELATIONSHIP_SCHEDULE = "relationship_schedule", "Relationship survey schedule"
    API = "api", "API call"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    WIDGET = "widget", "Widget"
    QR = "qr", "QR code"
    PORTAL = "portal", "Portal"
    API = "api", "API"
    INGEST = "ingest", "Ingest"


class SentimentLabel(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEUTRAL = "neutral", "Neutral"
    NEGATIVE = "negative", "Negative"


class ThrottlePolicy(BaseModel):
    """How often one person may be asked about a service (DOMAIN §3 defaults), and the sample rate."""

    service = models.OneToOneField(Service, on_delete=models.CASCADE, related_name="throttle_policy")
    transactional_short_limit = models.PositiveSmallIntegerField(default=1)
    transactional_short_days = models.PositiveSmallIntegerField(default=7)
    transactional_long_limit = models.PositiveSmallIntegerField(default=3)
    transactional_long_days = models.PositiveSmallIntegerField(default=30)
    relationship_limit = models.PositiveSmallIntegerField(default=1)
    relationship_days = models.PositiveSmallIntegerField(default=90)
    min_gap_hours = models.PositiveSmallIntegerField(default=24, help_text="Never two invitations within this")
    sample_rate = models.PositiveSmallIntegerField(default=100, help_text="Percent of eligible invitations sent")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(sample_rate__lte=100),
                name="feedback_throttlepolicy_sample_rate_percent",
                violation_error_message="The sample rate is a percentage, 0 to 100.",
            ),
            models.CheckConstraint(
                condition=Q(transactional_short_days__gte=1)
                & Q(transactional_long_days__gte=1)
                & Q(relationship_days__gte=1),
                name="feedback_throttlepolicy_windows_positive",
                violation_error_message="Each throttle window is at least one day.",
            ),
        ]

    def __str__(self) -> str:
        return f"Throttle for {self.service}"


class Survey(BaseModel):
    """A survey design for a service (or one of its offerings): transactional or relationship."""

    public_id = public_id_field()
    name = models.CharField(max_length=200)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="surveys")
    offering = models.ForeignKey(Offering, null=True, blank=True, on_delete=models.CASCADE, related_name="surveys")
    kind = models.CharField(max_length=20, choices=SurveyKind.choices, default=SurveyKind.TRANSACTIONAL)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["service__name", "name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(name=""),
                name="feedback_survey_name_not_empty",
                violation_error_message="A survey needs a name.",
            ),
            # The trigger picks the one active survey of its kind for the offering, else the service's.
            models.UniqueConstraint(
                fields=["service", "offering", "kind"],
                condition=Q(is_active=True, offering__isnull=False),
                name="feedback_survey_one_active_per_offering",
                violation_error_message="This offering already has an active survey of that kind.",
            ),
            models.UniqueConstraint(
                fields=["service", "kind"],
                condition=Q(is_active=True, offering__isnull=True),
                name="feedback_survey_one_active_per_service",
                violation_error_message="This service already has an active survey of that kind.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SurveyVersion(BaseModel):
    """One version of a survey's questions; immutable once it has answers (editing makes a new one).

    `questions` is a list of {"kind": QuestionKind, "text": str, "required": bool}; the first is a
    score kind and sits in the invitation email.
    """

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    questions = models.JSONField(default=list)
    intro = models.TextField(blank=True, help_text="A sentence above the questions in the email")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["survey", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "number"],
                name="feedback_surveyversion_number_unique",
                violation_error_message="This survey already has a version with that number.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey} v{self.number}"

    @property
    def first_question(self) -> dict[str, Any]:
        return dict(self.questions[0]) if self.questions else {}

    @property
    def score_kind(self) -> str:
        return str(self.first_question.get("kind", QuestionKind.HAPPINESS))

    def asks(self, kind: str) -> bool:
        return any(question.get("kind") == kind for question in self.questions)

    def question(self, kind: str) -> dict[str, Any] | None:
        return next((dict(q) for q in self.questions if q.get("kind") == kind), None)


class Invitation(BaseModel):
    """A survey invitation sent to one person after a moment of truth; answered at most once (later clicks update)."""

    public_id = public_id_field()
    survey_version = models.ForeignKey(SurveyVersion, on_delete=models.PROTECT, related_name="invitations")
    kind = models.CharField(max_length=20, choices=SurveyKind.choices, default=SurveyKind.TRANSACTIONAL)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="survey_invitations")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="survey_invitations")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="survey_invitations")
    offering = models.ForeignKey(
        Offering, null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_invitations"
    )
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations")
    relationship = models.ForeignKey(
        Relationship, null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_invitations"
    )
    # The major incident the invitation asks about (trigger major_incident): its responses' lost time
    # is the review's "lost time from feedback".
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_invitations"
    )
    trigger = models.CharField(max_length=30, choices=Trigger.choices)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    first_clicked_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at", "-pk"]
        constraints = [
            # One transactional invitation per ticket: a resolve after a reopen does not invite again.
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(trigger="ticket_resolved"),
                name="feedback_invitation_one_per_ticket",
                violation_error_message="This ticket already had its survey invitation.",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("sent_at")),
                name="feedback_invitation_expires_after_sent",
                violation_error_message="An invitation expires after it was sent.",
            ),
        ]
        indexes = [
            # The throttle reads a person's recent invitations.
            models.Index(fields=["person", "-sent_at"], name="feedback_inv_person_sent_idx"),
            # Response rate per service and period.
            models.Index(fields=["service", "-sent_at"], name="feedback_inv_service_sent_idx"),
            # The experience rollups' rebuild recounts every service's invitations a range of days at a time.
            models.Index(fields=["sent_at"], name="feedback_inv_sent_day_idx"),
        ]

    def __str__(self) -> str:
        return f"Invitation {self.public_id} to {self.person}"


class LinkClick(BaseModel):
    """One fetch of a score button of an invitation email: provisional until the scanner window passes.

    A person clicks one button; a mail-link scanner fetches all of them within seconds. A click waits
    (pending) for SERVICELOOP_SURVEY_SCANNER_SECONDS and then counts as the answer; when another
    button of the same invitation is fetched within that window, every click of the window is held
    and nothing counts until a person confirms a score on the page.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending (counts when the window passes)"
        COUNTED = "counted", "Counted as the answer"
        HELD = "held", "Held for a person to confirm (several buttons fetched at once)"
        CONFIRMED = "confirmed", "Confirmed by a person on the page"
        SUPERSEDED = "superseded", "Superseded by a confirmed answer"

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="link_clicks")
    score = models.PositiveSmallIntegerField()
    clicked_at = models.DateTimeField()
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)

    class Meta:
        ordering = ["clicked_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__lte=10),
                name="feedback_linkclick_score_range",
                violation_error_message="A score button carries 0 to 10.",
            ),
        ]
        indexes = [
            # The click of a button reads the invitation's clicks within the window.
            models.Index(fields=["invitation", "clicked_at"], name="feedback_click_inv_idx"),
            # The sweep counts pending clicks whose window has passed.
            models.Index(fields=["state", "clicked_at"], name="feedback_click_state_idx"),
        ]

    def __str__(self) -> str:
        return f"Click on {self.score} ({self.state}) for {self.invitation_id}"


class SuppressedInvitation(BaseModel):
    """An invitation we chose not to send, with the reason, so response rates stay honest."""

    class Reason(models.TextChoices):
        THROTTLED = "throttled", "Throttled"
        OPTED_OUT = "opted_out", "Opted out"
        SAMPLED_OUT = "sampled_out", "Sampled out"
        DUPLICATE = "duplicate", "Duplicate"

    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="suppressed_invitations"
    )
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="suppressed_invitations")
    survey = models.ForeignKey(Survey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    trigger = models.CharField(max_length=30, choices=Trigger.choices)
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The suppressed-invitation list and the response-rate footnote per service.
            models.Index(fields=["service", "-created_at"], name="feedback_sup_service_idx"),
            # The experience rollups' rebuild: every service's suppressed invitations of a range of days.
            models.Index(fields=["created_at"], name="feedback_sup_created_day_idx"),
            # The suppressed-invitation page filtered by a reason (its cards link there).
            models.Index(fields=["reason", "-created_at"], name="feedback_sup_reason_idx"),
        ]

    def __str__(self) -> str:
        return f"Suppressed ({self.reason}) for {self.person}"


class Response(BaseModel):
    """One answer from a customer, from any channel: scores, lost time, drivers, a comment and its sentiment."""

    public_id = public_id_field()
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="responses")
    offering = models.ForeignKey(Offering, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses")
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="responses"
    )
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses")
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses")
    invitation = models.OneToOneField(
        Invitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="response"
    )
    survey_version = models.ForeignKey(
        SurveyVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="responses"
    )
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.EMAIL)
    # Where an ingested answer came from, and its id there: (source, external_id) is the idempotency key.
    source = models.CharField(max_length=100, blank=True, default="")
    external_id = models.CharField(max_length=200, null=True, blank=True)
    responded_at = models.DateTimeField()
    csat = models.PositiveSmallIntegerField(null=True, blank=True)
    happiness = models.PositiveSmallIntegerField(null=True, blank=True)
    nps = models.PositiveSmallIntegerField(null=True, blank=True)
    ces = models.PositiveSmallIntegerField(null=True, blank=True)
    lost_time_bucket = models.CharField(max_length=10, choices=LostTime.choices, null=True, blank=True)
    lost_time_minutes = models.PositiveIntegerField(null=True, blank=True)
    drivers = models.JSONField(default=list, blank=True)
    comment = models.TextField(blank=True)
    sentiment_score = models.FloatField(null=True, blank=True)
    sentiment_label = models.CharField(max_length=10, choices=SentimentLabel.choices, null=True, blank=True)
    sentiment_version = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["-responded_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=Q(external_id__isnull=False),
                name="feedback_response_external_id_unique",
                violation_error_message="A response with this external id from this source already exists.",
            ),
            models.CheckConstraint(
                condition=Q(csat__isnull=True) | Q(csat__gte=1, csat__lte=5),
                name="feedback_response_csat_range",
                violation_error_message="Satisfaction is 1 to 5.",
            ),
            models.CheckConstraint(
                condition=Q(happiness__isnull=True) | Q(happiness__gte=0, happiness__lte=10),
                name="feedback_response_happiness_range",
                violation_error_message="Happiness is 0 to 10.",
            ),
            models.CheckConstraint(
                condition=Q(nps__isnull=True) | Q(nps__gte=0, nps__lte=10),
                name="feedback_response_nps_range",
                violation_error_message="Likelihood to recommend is 0 to 10.",
            ),
            models.CheckConstraint(
                condition=Q(ces__isnull=True) | Q(ces__gte=1, ces__lte=7),
                name="feedback_response_ces_range",
                violation_error_message="Ease is 1 to 7.",
            ),
            models.CheckConstraint(
                condition=Q(sentiment_score__isnull=True) | Q(sentiment_score__gte=-1.0, sentiment_score__lte=1.0),
                name="feedback_response_sentiment_range",
                violation_error_message="Sentiment is between -1 and +1.",
            ),
        ]
        indexes = [
            # The per-service response stream (feedback:service_stream, /api/feedback/responses?service=).
            models.Index(fields=["service", "-responded_at"], name="feedback_resp_service_idx"),
            # The experience rollups' rebuild: every service's responses of a range of days (a month a chunk).
            models.Index(fields=["responded_at"], name="feedback_resp_day_idx"),
            # A customer's own organisation's responses; trust and rollups per organisation.
            models.Index(fields=["organisation", "-responded_at"], name="feedback_resp_org_idx"),
        ]

    def __str__(self) -> str:
        return f"Response {self.public_id} about {self.service_id}"

    @property
    def score_kind(self) -> str | None:
        """The first score present, in the order the stream shows them."""
        for kind in (QuestionKind.HAPPINESS, QuestionKind.NPS, QuestionKind.CSAT, QuestionKind.CES):
            if getattr(self, kind) is not None:
                return str(kind)
        return None

    @property
    def score(self) -> int | None:
        kind = self.score_kind
        return getattr(self, kind) if kind else None

    @property
    def score_name(self) -> str:
        kind = self.score_kind
        return SCORE_NAMES.get(kind, "") if kind else ""  # type: ignore[call-overload]


# ---------------------------------------------------------------------------------------------
# Channels beyond email: the widget, unasked-for posts, sentiment corrections (feedback-channels).
# ---------------------------------------------------------------------------------------------


def new_site_key() -> str:
    # Longer than a public id: the key is half of the widget's credential (with the origin check).
    return new_public_id(20)


class WidgetSite(BaseModel):
    """A web page (or app) where the feedback widget asks one question about a service."""

    class Question(models.TextChoices):
        HAPPINESS = "happiness", "Happiness (0–10)"
        CSAT = "csat", "Satisfaction (1–5)"

    key = models.CharField(max_length=32, unique=True, default=new_site_key, editable=False)
    name = models.CharField(max_length=200)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="widget_sites")
    offering = models.ForeignKey(Offering, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Origins ("https://intranet.example") allowed to embed the widget; the iframe's frame-ancestors.
    allowed_origins = models.JSONField(default=list, blank=True)
    question = models.CharField(max_length=20, choices=Question.choices, default=Question.HAPPINESS)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["service__name", "name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(name=""),
                name="feedback_widgetsite_name_not_empty",
                violation_error_message="A widget site needs a name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class WidgetTicketUse(BaseModel):
    """A widget form ticket that stored its answer: one ticket, one answer (a replay stores nothing)."""

    site = models.ForeignKey(WidgetSite, on_delete=models.CASCADE, related_name="+")
    # The random nonce inside the signed ticket; the signature binds it to the site.
    nonce = models.CharField(max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["nonce"],
                name="feedback_widgetticketuse_once",
                violation_error_message="This widget form was already sent.",
            ),
        ]

    def __str__(self) -> str:
        return f"Widget ticket {self.nonce[:8]}… used on {self.site_id}"


class QrAnswerMark(BaseModel):
    """When one client last answered one public "How was it?" page, so it answers once per window.

    `client` is a keyed hash (HMAC with the secret key) of the client's address, its browser and the
    page; the address itself is never stored.
    """

    client = models.CharField(max_length=64)
    answered_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                name="feedback_qranswermark_one_per_client",
                violation_error_message="This client already has a mark for this page.",
            ),
        ]
        indexes = [
            # Housekeeping forgets marks past the window.
            models.Index(fields=["answered_at"], name="feedback_qrmark_answered_idx"),
        ]

    def __str__(self) -> str:
        return f"QR answer mark {self.client[:8]}…"


class MatchRule(BaseModel):
    """A rule that ties a social post or message to a service: a handle, a hashtag or a keyword."""

    class Kind(models.TextChoices):
        HANDLE = "handle", "Handle (@name)"
        HASHTAG = "hashtag", "Hashtag (#tag)"
        KEYWORD = "keyword", "Keyword or phrase"

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="match_rules")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    pattern = models.CharField(max_length=200)
    case_sensitive = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["service__name", "kind", "pattern"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "kind", "pattern"],
                name="feedback_matchrule_unique_per_service",
                violation_error_message="This service already has that rule.",
            ),
            models.CheckConstraint(
                condition=~Q(pattern=""),
                name="feedback_matchrule_pattern_not_empty",
                violation_error_message="A rule needs a pattern.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.pattern}"


class Post(BaseModel):
    """A message nobody asked for: a social post, a mention, a chat message or a review."""

    class Kind(models.TextChoices):
        POST = "post", "Post"
        MENTION = "mention", "Mention"
        CHAT = "chat", "Chat message"
        REVIEW = "review", "Review"

    public_id = public_id_field()
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.POST)
    # Where it came from ("x", "mastodon", "trustpilot", "chat") and its id there: the idempotency key.
    source = models.CharField(max_length=100)
    external_id = models.CharField(max_length=200)
    author_handle = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    text = models.TextField()
    posted_at = models.DateTimeField()
    services = models.ManyToManyField(Service, blank=True, related_name="posts")
    matched = models.BooleanField(default=False)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    triaged_at = models.DateTimeField(null=True, blank=True)
    masked = models.BooleanField(default=False, help_text="Email addresses and phone numbers were masked on arrival")
    sentiment_score = models.FloatField(null=True, blank=True)
    sentiment_label = models.CharField(max_length=10, choices=SentimentLabel.choices, null=True, blank=True)
    sentiment_version = models.CharField(max_length=40, blank=True)

    @property
    def handle_shown(self) -> str:
        """The author's handle with one "@" ("@kim"), whether or not the source sent it with one."""
        handle = self.author_handle.strip().lstrip("@")
        return f"@{handle}" if handle else ""

    class Meta:
        ordering = ["-posted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                name="feedback_post_external_id_unique",
                violation_error_message="A post with this external id from this source already exists.",
            ),
            models.CheckConstraint(
                condition=~Q(source="") & ~Q(external_id=""),
                name="feedback_post_source_and_id_not_empty",
                violation_error_message="A post needs a source and its id there.",
            ),
            models.CheckConstraint(
                condition=Q(sentiment_score__isnull=True) | Q(sentiment_score__gte=-1.0, sentiment_score__lte=1.0),
                name="feedback_post_sentiment_range",
                violation_error_message="Sentiment is between -1 and +1.",
            ),
        ]
        indexes = [
            # The inbox of unmatched posts waiting for triage (feedback:posts_inbox).
            models.Index(
                fields=["-posted_at"],
                condition=Q(matched=False, dismissed_at__isnull=True),
                name="feedback_post_inbox_idx",
            ),
            # The experience rollups: a service's posts of some days (joined through the post ↔ service
            # link, whose (post, service) key leads by post) and every service's posts in the rebuild.
            models.Index(fields=["posted_at"], name="feedback_post_posted_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.source}:{self.external_id}"

    @property
    def in_inbox(self) -> bool:
        return not self.matched and self.dismissed_at is None


class PostSource(BaseModel):
    """A system that sends posts to the webhook, with the shared secret that signs its requests."""

    name = models.CharField(max_length=100, unique=True, help_text='The source name posts carry, e.g. "mastodon"')
    secret = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(name="") & ~Q(secret=""),  # nosec B106  # the rule "a secret is not empty"
                name="feedback_postsource_name_and_secret_not_empty",
                violation_error_message="A post source needs a name and a secret.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SentimentCorrection(BaseModel):
    """A label a staff member corrected: kept as a labelled example to calibrate the thresholds."""

    response = models.ForeignKey(
        Response, null=True, blank=True, on_delete=models.CASCADE, related_name="sentiment_corrections"
    )
    post = models.ForeignKey(
        Post, null=True, blank=True, on_delete=models.CASCADE, related_name="sentiment_corrections"
    )
    text = models.TextField(help_text="The text as scored, so the example survives the row")
    original_score = models.FloatField()
    original_label = models.CharField(max_length=10, choices=SentimentLabel.choices)
    original_version = models.CharField(max_length=40, blank=True)
    corrected_label = models.CharField(max_length=10, choices=SentimentLabel.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(response__isnull=False) & Q(post__isnull=True))
                | (Q(response__isnull=True) & Q(post__isnull=False)),
                name="feedback_sentimentcorrection_one_subject",
                violation_error_message="A correction is about one response or one post.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_label} → {self.corrected_label}"


class SentimentSettings(BaseModel):
    """The one row of sentiment cut-offs in force, calibrated from staff corrections."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    positive_threshold = models.FloatField(default=0.2)
    negative_threshold = models.FloatField(default=-0.2)
    calibrated_from = models.PositiveIntegerField(default=0, help_text="Corrections the thresholds were fitted on")
    calibrated_at = models.DateTimeField(null=True, blank=True)
    calibrated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(singleton=True),
                name="feedback_sentimentsettings_singleton",
                violation_error_message="There is one sentiment settings row.",
            ),
            models.CheckConstraint(
                condition=Q(negative_threshold__gte=-1.0)
                & Q(positive_threshold__lte=1.0)
                & Q(negative_threshold__lt=models.F("positive_threshold")),
                name="feedback_sentimentsettings_thresholds_ordered",
                violation_error_message="Thresholds need -1 ≤ negative < positive ≤ 1.",
            ),
        ]

    def __str__(self) -> str:
        return f"Sentiment: positive ≥ {self.positive_threshold}, negative ≤ {self.negative_threshold}"

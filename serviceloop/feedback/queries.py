"""Feedback reads: surveys, the response stream with its filters, suppressed invitations, link look-ups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from serviceloop.catalogue.models import Service
from serviceloop.core import clock
from serviceloop.core.errors import InvalidInput
from serviceloop.core.visibility import require_staff, restrict_to_organisation
from serviceloop.feedback import links
from serviceloop.feedback.models import (
    Channel,
    Driver,
    Invitation,
    LinkClick,
    Response,
    SentimentLabel,
    SuppressedInvitation,
    Survey,
)

BANDS = ("promoter", "passive", "detractor", "1", "2", "3", "4", "5")
PERIODS = {"7d": 7, "30d": 30, "90d": 90, "365d": 365}


@dataclass(frozen=True)
class ResponseFilters:
    """The stream's filters; every one optional. `band`: promoter/passive/detractor (0–10) or 1–5 (CSAT)."""

    service: str | None = None  # public id
    channel: str | None = None
    band: str | None = None
    sentiment: str | None = None
    driver: str | None = None
    organisation: str | None = None  # public id
    period: str | None = None  # 7d / 30d / 90d / 365d
    since: date | None = None
    until: date | None = None
    offering: str | None = None  # public id


def _band_q(band: str) -> Q:
    if band == "promoter":
        return Q(happiness__gte=9) | Q(nps__gte=9)
    if band == "passive":
        return Q(happiness__in=(7, 8)) | Q(nps__in=(7, 8))
    if band == "detractor":
        return Q(happiness__lte=6) | Q(nps__lte=6)
    return Q(csat=int(band))


def _check(filters: ResponseFilters) -> None:
    checks = (
        ("channel", filters.channel, Channel.values),
        ("band", filters.band, BANDS),
        ("sentiment", filters.sentiment, SentimentLabel.values),
        ("driver", filters.driver, Driver.values),
        ("period", filters.period, tuple(PERIODS)),
    )
    for field, value, allowed in checks:
        if value and value not in allowed:
            raise InvalidInput("invalid_filter", f"{field} is one of {', '.join(allowed)}.", field=field)


def responses_visible(*, viewer: object) -> QuerySet[Response]:
    return restrict_to_organisation(Response.objects.all(), viewer)


def response_stream(*, viewer: object, filters: ResponseFilters) -> QuerySet[Response]:
    """Responses the viewer may see, newest first, narrowed by the filters (reads the service/organisation indexes)."""
    _check(filters)
    rows = responses_visible(viewer=viewer).select_related(
        "service", "organisation", "person", "ticket", "survey_version"
    )
    if filters.service:
        rows = rows.filter(service__public_id=filters.service)
    if filters.channel:
        rows = rows.filter(channel=filters.channel)
    if filters.band:
        rows = rows.filter(_band_q(filters.band))
    if filters.sentiment:
        rows = rows.filter(sentiment_label=filters.sentiment)
    if filters.driver:
        # The JSON text holds each driver quoted; works on SQLite and PostgreSQL alike.
        rows = rows.filter(drivers__icontains=f'"{filters.driver}"')
    if filters.organisation:
        rows = rows.filter(organisation__public_id=filters.organisation)
    if filters.offering:
        rows = rows.filter(offering__public_id=filters.offering)
    if filters.period:
        rows = rows.filter(responded_at__gte=clock.now() - timedelta(days=PERIODS[filters.period]))
    tz = timezone.get_current_timezone()
    if filters.since:
        rows = rows.filter(responded_at__gte=datetime.combine(filters.since, time.min, tzinfo=tz))
    if filters.until:
        rows = rows.filter(responded_at__lt=datetime.combine(filters.until + timedelta(days=1), time.min, tzinfo=tz))
    return rows.order_by("-responded_at", "-pk")


def response_for(*, viewer: object, public_id: str) -> Response:
    row = (
        responses_visible(viewer=viewer)
        .select_related("service", "organisation", "person", "ticket", "survey_version")
        .filter(public_id=public_id)
        .first()
    )
    if row is None:
        raise Http404("No such response.")
    return row


def service_for_feedback(*, viewer: object, public_id: str) -> Service:
    require_staff(viewer)
    service = Service.objects.filter(public_id=public_id).first()
    if service is None:
        raise Http404("No such service.")
    return service


def services_with_feedback(*, viewer: object) -> QuerySet[Service]:
    """Every service with its response and active-survey counts, and its responses per channel
    (`channel_email`, `channel_widget`, …), for the feedback overview."""
    require_staff(viewer)
    per_channel = {
        f"channel_{channel}": Count("responses", filter=Q(responses__channel=channel), distinct=True)
        for channel in Channel.values
    }
    return Service.objects.annotate(
        response_count=Count("responses", distinct=True),
        survey_count=Count("surveys", filter=Q(surveys__is_active=True), distinct=True),
        **per_channel,
    ).order_by("name")


def responses_by_channel(*, viewer: object) -> list[tuple[str, int]]:
    """(channel label, responses) for every channel, in the order the overview shows them, none left out."""
    require_staff(viewer)
    counts = dict(Response.objects.values_list("channel").annotate(n=Count("pk")).order_by())
    return [(str(label), counts.get(value, 0)) for value, label in Channel.choices]


def surveys_visible(*, viewer: object, service: str | None = None, kind: str | None = None) -> QuerySet[Survey]:
    require_staff(viewer)
    rows = Survey.objects.select_related("service", "offering").annotate(version_count=Count("versions"))
    if service:
        rows = rows.filter(service__public_id=service)
    if kind:
        rows = rows.filter(kind=kind)
    return rows.order_by("service__name", "name")


def survey_for(*, viewer: object, public_id: str) -> Survey:
    require_staff(viewer)
    survey = Survey.objects.select_related("service", "offering").filter(public_id=public_id).first()
    if survey is None:
        raise Http404("No such survey.")
    return survey


@dataclass(frozen=True)
class SuppressedFilters:
    """The suppressed-invitation log's filters; every one optional (public ids, a ticket reference)."""

    reason: str | None = None
    service: str | None = None
    organisation: str | None = None
    person: str | None = None
    ticket: str | None = None  # the ticket's public id or its reference (SL-104233)
    since: date | None = None
    until: date | None = None
    q: str = ""  # part of the person's name or email


def _suppressed_filtered(
    rows: QuerySet[SuppressedInvitation], filters: SuppressedFilters
) -> QuerySet[SuppressedInvitation]:
    if filters.service:
        rows = rows.filter(service__public_id=filters.service)
    if filters.organisation:
        rows = rows.filter(organisation__public_id=filters.organisation)
    if filters.person:
        rows = rows.filter(person__public_id=filters.person)
    if filters.ticket:
        rows = rows.filter(Q(ticket__public_id=filters.ticket) | Q(ticket__reference=filters.ticket.upper()))
    tz = timezone.get_current_timezone()
    if filters.since:
        rows = rows.filter(created_at__gte=datetime.combine(filters.since, time.min, tzinfo=tz))
    if filters.until:
        rows = rows.filter(created_at__lt=datetime.combine(filters.until + timedelta(days=1), time.min, tzinfo=tz))
    q = filters.q.replace("\x00", "").strip()
    if q:
        rows = rows.filter(Q(person__name__icontains=q) | Q(person__email__icontains=q))
    return rows


def _check_suppressed(filters: SuppressedFilters) -> None:
    if filters.reason and filters.reason not in SuppressedInvitation.Reason.values:
        raise InvalidInput(
            "invalid_filter", f"reason is one of {', '.join(SuppressedInvitation.Reason.values)}.", field="reason"
        )
    if filters.since and filters.until and filters.since > filters.until:
        raise InvalidInput("invalid_period", "The period's start comes after its end.", field="since")


def suppressed_visible(
    *,
    viewer: object,
    service: str | None = None,
    reason: str | None = None,
    filters: SuppressedFilters | None = None,
) -> QuerySet[SuppressedInvitation]:
    """The suppressed-invitation log, newest first: staff only, every service (like the response stream)."""
    require_staff(viewer)
    filters = filters or SuppressedFilters(service=service, reason=reason)
    _check_suppressed(filters)
    rows = _suppressed_filtered(
        SuppressedInvitation.objects.select_related("person", "service", "survey", "ticket", "organisation"), filters
    )
    if filters.reason:
        rows = rows.filter(reason=filters.reason)
    return rows.order_by("-created_at", "-pk")


# What each reason means, as the page's cards say it.
REASON_WORDS = {
    SuppressedInvitation.Reason.THROTTLED: "invited recently (throttled)",
    SuppressedInvitation.Reason.OPTED_OUT: "opted out of surveys",
    SuppressedInvitation.Reason.SAMPLED_OUT: "left out by the sample rate",
    SuppressedInvitation.Reason.DUPLICATE: "ticket already surveyed, a duplicate or closed automatically",
}


@dataclass(frozen=True)
class ReasonCount:
    reason: str
    label: str
    count: int


def suppressed_counts(*, viewer: object, filters: SuppressedFilters) -> list[ReasonCount]:
    """How many invitations each reason held back, under every filter but the reason (the page's cards)."""
    require_staff(viewer)
    _check_suppressed(filters)
    rows = _suppressed_filtered(SuppressedInvitation.objects.all(), filters)
    counts = dict(rows.order_by().values_list("reason").annotate(n=Count("pk")).values_list("reason", "n"))
    return [
        ReasonCount(reason=value, label=REASON_WORDS[SuppressedInvitation.Reason(value)], count=counts.get(value, 0))
        for value in SuppressedInvitation.Reason.values
    ]


@dataclass(frozen=True)
class InvitationRates:
    sent: int
    answered: int
    suppressed: int

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.sent if self.sent else None


def invitation_rates(*, service: Service, since: datetime | None = None) -> InvitationRates:
    """Response rate = answered / sent; suppressed invitations are reported apart (DOMAIN §2)."""
    invitations = Invitation.objects.filter(service=service)
    suppressed = SuppressedInvitation.objects.filter(service=service)
    if since:
        invitations = invitations.filter(sent_at__gte=since)
        suppressed = suppressed.filter(created_at__gte=since)
    counts = invitations.aggregate(sent=Count("pk"), answered=Count("pk", filter=Q(responded_at__isnull=False)))
    return InvitationRates(sent=counts["sent"], answered=counts["answered"], suppressed=suppressed.count())


class LinkRefused(Exception):
    """A survey link that does not open: `status` 400 (not ours) or 410 (expired)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def invitation_for_link(token: str) -> tuple[Invitation, int | None]:
    """The invitation a signed link names (and the score it carries); LinkRefused when it cannot be used."""
    try:
        claim = links.read_token(token)
    except links.LinkExpired as error:
        raise LinkRefused(410, "This survey link has expired.") from error
    except links.LinkInvalid as error:
        raise LinkRefused(400, "This survey link is not valid. Please use the link from your email.") from error
    invitation = (
        Invitation.objects.select_related("survey_version__survey", "service", "ticket", "person")
        .filter(public_id=claim.invitation)
        .first()
    )
    if invitation is None:
        raise LinkRefused(410, "This survey is no longer available.")
    if invitation.expires_at <= clock.now():
        raise LinkRefused(410, "This survey link has expired.")
    return invitation, claim.score


@dataclass(frozen=True)
class LinkAnswer:
    """The score the survey page shows for an invitation, and whether a person must confirm it first."""

    score: int | None
    needs_confirmation: bool


def link_answer_shown(invitation: Invitation, response: Response | None) -> LinkAnswer:
    """The latest click while it is provisional (pending or held), else the recorded answer."""
    latest = LinkClick.objects.filter(invitation=invitation).order_by("-clicked_at", "-pk").first()
    if latest is not None and latest.state == LinkClick.State.HELD:
        return LinkAnswer(score=None, needs_confirmation=True)
    if latest is not None and latest.state == LinkClick.State.PENDING:
        return LinkAnswer(score=latest.score, needs_confirmation=False)
    kind = invitation.survey_version.score_kind
    return LinkAnswer(score=getattr(response, kind) if response else None, needs_confirmation=False)

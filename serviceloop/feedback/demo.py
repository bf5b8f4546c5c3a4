"""Demo feedback: a survey per service, invitations after resolved tickets (throttled like the real thing),
about a third answered, with scores, lost time, drivers and comments that fit the service; one service
clearly worse. Then the other channels (`demo_channels`): widget sites, QR pages, ingest, social posts.

Nothing is dated after the demo's `now`: an invitation is sent, clicked and answered before it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from serviceloop.catalogue.models import Service
from serviceloop.core.demo import DemoContext
from serviceloop.feedback import demo_channels
from serviceloop.feedback.demo_comments import COMMENTS, domain_of
from serviceloop.feedback.models import (
    LOST_TIME_MINUTES,
    Channel,
    Invitation,
    LinkClick,
    LostTime,
    Response,
    SuppressedInvitation,
    SurveyKind,
    Trigger,
)
from serviceloop.feedback.questions import drivers_offered, score_band
from serviceloop.feedback.sentiment import DEFAULT_THRESHOLDS
from serviceloop.feedback.services.invitations import active_survey
from serviceloop.feedback.services.responses import score_sentiment
from serviceloop.feedback.services.surveys import survey_create, survey_current_version
from serviceloop.feedback.throttle import TRANSACTIONAL, PastInvitation, Policy, decide
from serviceloop.relationships.models import Person

RESPONSE_RATE = 0.35
COMMENT_RATE = 0.45
# Happiness 0..10 weights: most services do well; one is clearly worse.
GOOD = [1, 1, 1, 1, 2, 3, 4, 8, 14, 24, 30]
POOR = [6, 5, 6, 7, 8, 10, 11, 12, 11, 9, 7]
LOST_FOR_BAND = {
    "positive": [(LostTime.NONE, 6), (LostTime.LT30, 4), (LostTime.M30_60, 1)],
    "neutral": [(LostTime.LT30, 3), (LostTime.M30_60, 3), (LostTime.H1_2, 2), (LostTime.H2_4, 1)],
    "negative": [
        (LostTime.M30_60, 2),
        (LostTime.H1_2, 3),
        (LostTime.H2_4, 3),
        (LostTime.H4_8, 2),
        (LostTime.GT1DAY, 1),
    ],
}
# The earliest an invitation is answered after it was sent, and the latest the demo lets it wait.
ANSWER_AFTER = timedelta(minutes=5)
ANSWER_WITHIN = timedelta(hours=30)


def comment_for(rng: Any, service: Any, band: str) -> str:
    """A comment that fits the service (its domain's pool) and the score's band."""
    return str(rng.choice(COMMENTS[domain_of(service.slug, service.name)][band]))


def _weighted(rng: Any, pairs: list[tuple[Any, int]]) -> Any:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def load(ctx: DemoContext) -> None:
    tickets = ctx.objects.get("tickets")
    if not tickets:
        return  # the desk demo did not run: nothing to survey
    # By id, not `ticket.service`: that would read the service of each of the thousands of tickets.
    services = sorted(Service.objects.filter(pk__in={t.service_id for t in tickets}), key=lambda s: s.name)
    worse = services[len(services) // 2] if services else None
    versions = {}
    for service in services:
        survey = active_survey(service=service, offering=None, kind=SurveyKind.TRANSACTIONAL) or survey_create(
            service=service, name=f"{service.name} — after a ticket", by=None
        )
        versions[service.pk] = survey_current_version(survey)
    invitations, suppressed = _invitations(ctx, tickets, versions)
    answered = [inv for inv in invitations if ctx.rng.random() < RESPONSE_RATE and inv.sent_at + ANSWER_AFTER < ctx.now]
    for invitation in answered:
        # Answered within 30 hours, never after the demo's now (a recent invitation waits less).
        latest = min(invitation.sent_at + ANSWER_WITHIN, ctx.now)
        seconds = (latest - invitation.sent_at - ANSWER_AFTER).total_seconds()
        invitation.responded_at = (
            invitation.sent_at + ANSWER_AFTER + timedelta(seconds=int(ctx.rng.uniform(0, seconds)))
        )
        invitation.first_clicked_at = invitation.responded_at
    Invitation.objects.bulk_create(invitations, batch_size=1000)
    SuppressedInvitation.objects.bulk_create(suppressed, batch_size=1000)
    by_id = {service.pk: service for service in services}
    responses = [_response(ctx, invitation, worse, by_id[invitation.service_id]) for invitation in answered]
    Response.objects.bulk_create(responses, batch_size=1000)
    # Each emailed answer was a click on a score button of the email, counted after the scanner window.
    LinkClick.objects.bulk_create(
        [
            LinkClick(
                invitation=response.invitation,
                score=response.happiness,
                clicked_at=response.responded_at,
                state=LinkClick.State.COUNTED,
                created_at=response.responded_at,
            )
            for response in responses
            if response.happiness is not None
        ],
        batch_size=1000,
    )
    ctx.objects["feedback_invitations"] = invitations
    ctx.objects["feedback_responses"] = responses
    ctx.objects["feedback_worse"] = worse
    demo_channels.load(ctx)


def _invitations(
    ctx: DemoContext, tickets: list[Any], versions: dict[int, Any]
) -> tuple[list[Invitation], list[SuppressedInvitation]]:
    """The invitation of each resolved ticket as the trigger would have decided it when the ticket was resolved."""
    rng = ctx.rng
    policy = Policy()
    history: dict[int, list[PastInvitation]] = defaultdict(list)
    logins = set(Person.objects.filter(user__isnull=False).values_list("pk", flat=True))
    quiet_since = ctx.now - timedelta(days=policy.transactional_long_days + 1)
    invitations: list[Invitation] = []
    suppressed: list[SuppressedInvitation] = []
    for ticket in sorted((t for t in tickets if t.resolved_at), key=lambda t: t.resolved_at):
        common = {
            "person_id": ticket.requester_id,
            "organisation_id": ticket.organisation_id,
            "ticket": ticket,
            "service_id": ticket.service_id,
            "trigger": Trigger.TICKET_RESOLVED,
        }
        sent_at = ticket.resolved_at + timedelta(minutes=rng.randint(1, 20))
        if sent_at > ctx.now:
            continue  # resolved minutes ago: the invitation is still on its way
        # A ticket closed automatically was closed after its reopen window, long after the survey went
        # out; only a duplicate is never surveyed.
        reason: str
        if ticket.is_duplicate:
            reason, detail = SuppressedInvitation.Reason.DUPLICATE, "The ticket is a duplicate."
        elif ticket.requester_id in logins and sent_at > quiet_since:
            # The printed demo customers must be able to receive a survey when they try the loop
            # (resolve a ticket of theirs): the demo leaves their last month uninvited, as sampled out.
            reason = SuppressedInvitation.Reason.SAMPLED_OUT
            detail = "Demo: left uninvited so that this demo login can receive a survey."
        else:
            decision = decide(kind=TRANSACTIONAL, now=sent_at, recent=history[ticket.requester_id], policy=policy)
            reason, detail = ("", "") if decision.allowed else (decision.reason or "throttled", decision.detail)
        if reason:
            suppressed.append(SuppressedInvitation(**common, reason=reason, detail=detail, created_at=sent_at))
            continue
        history[ticket.requester_id].append(PastInvitation(TRANSACTIONAL, sent_at))
        invitations.append(
            Invitation(
                **common,
                survey_version=versions[ticket.service_id],
                kind=SurveyKind.TRANSACTIONAL,
                offering_id=ticket.offering_id,
                sent_at=sent_at,
                expires_at=sent_at + timedelta(days=14),
                created_at=sent_at,
            )
        )
    return invitations, suppressed


def _response(ctx: DemoContext, invitation: Invitation, worse: Any, service: Any) -> Response:
    rng = ctx.rng
    weights = POOR if worse is not None and invitation.service_id == worse.pk else GOOD
    happiness = rng.choices(range(11), weights=weights)[0]
    band = score_band("happiness", happiness) or "neutral"
    bucket = _weighted(rng, LOST_FOR_BAND[band]) if rng.random() < 0.7 else None
    offered = drivers_offered("happiness", happiness)
    drivers = rng.sample([d.value for d in offered], k=rng.choice((0, 1, 1, 2))) if rng.random() < 0.6 else []
    comment = comment_for(rng, service, band) if rng.random() < COMMENT_RATE else ""
    sentiment = score_sentiment(comment, DEFAULT_THRESHOLDS)
    assert invitation.responded_at is not None  # nosec B101  # narrows for mypy; demo data sets it above
    return Response(
        service_id=invitation.service_id,
        offering_id=invitation.offering_id,
        organisation_id=invitation.organisation_id,
        person_id=invitation.person_id,
        ticket=invitation.ticket,
        invitation=invitation,
        survey_version=invitation.survey_version,
        channel=Channel.EMAIL,
        responded_at=invitation.responded_at,
        created_at=invitation.responded_at,
        happiness=happiness,
        lost_time_bucket=bucket,
        lost_time_minutes=LOST_TIME_MINUTES[bucket] if bucket else None,
        drivers=drivers,
        comment=comment,
        sentiment_score=sentiment.score,
        sentiment_label=sentiment.label,
        sentiment_version=sentiment.version,
    )

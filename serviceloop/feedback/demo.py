"""Demo feedback: a survey per service, invitations after resolved tickets (throttled like the real thing),
about 45% answered, with scores, lost time, drivers and comments that come from the ticket and the
demo's story (`demo_answers`, `core.demo_story`). Then the other channels (`demo_channels`): widget
sites, QR pages, ingest, social posts. The major incidents' surveys and the reviews' lost time come
from `demo_incidents`.

The twelve months' rows (~18,000 invitations, ~8,500 responses and their link clicks) are written
set-wise, without events: the experience demo rebuilds the rollups from them afterwards. Sentiment
labels come from the real scorer (`score_sentiment`), once per distinct comment.

Nothing is dated after the demo's `now`: an invitation is sent, clicked and answered before it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from serviceloop.catalogue.models import Service
from serviceloop.core.cli import progress
from serviceloop.core.demo import DemoContext
from serviceloop.core.demo_story import Story
from serviceloop.feedback import demo_answers, demo_channels, demo_incidents
from serviceloop.feedback.demo_comments import domain_of
from serviceloop.feedback.models import (
    LOST_TIME_MINUTES,
    Channel,
    Invitation,
    LinkClick,
    Response,
    SuppressedInvitation,
    SurveyKind,
    Trigger,
)
from serviceloop.feedback.questions import score_band
from serviceloop.feedback.sentiment import DEFAULT_THRESHOLDS
from serviceloop.feedback.services.invitations import active_survey
from serviceloop.feedback.services.responses import Sentiment, score_sentiment
from serviceloop.feedback.services.surveys import survey_create, survey_current_version
from serviceloop.feedback.throttle import TRANSACTIONAL, PastInvitation, Policy, decide
from serviceloop.relationships.models import Person

RESPONSE_RATE = 0.45
OUTAGE_RESPONSE_RATE = 0.55  # people hit by the outage answer more often
# The earliest an invitation is answered after it was sent, and the latest the demo lets it wait.
ANSWER_AFTER = timedelta(minutes=5)
ANSWER_WITHIN = timedelta(hours=30)


def load(ctx: DemoContext) -> None:
    tickets = ctx.objects.get("tickets")
    if not tickets:
        return  # the desk demo did not run: nothing to survey
    # By id, not `ticket.service`: that would read the service of each of the thousands of tickets.
    services = sorted(Service.objects.filter(pk__in={t.service_id for t in tickets}), key=lambda s: s.name)
    story: Story | None = ctx.objects.get("story")
    versions = {}
    for service in services:
        survey = active_survey(service=service, offering=None, kind=SurveyKind.TRANSACTIONAL) or survey_create(
            service=service, name=f"{service.name} — after a ticket", by=None
        )
        versions[service.pk] = survey_current_version(survey)
    by_id = {service.pk: service for service in services}
    invitations, suppressed = _invitations(ctx, tickets, versions)
    answered = []
    for inv in invitations:
        assert inv.ticket is not None  # nosec B101  # narrows for mypy; every demo invitation has its ticket
        outage = story is not None and story.in_outage(by_id[inv.service_id].slug, inv.ticket.opened_at.date())
        rate = OUTAGE_RESPONSE_RATE if outage else RESPONSE_RATE
        if ctx.rng.random() < rate and inv.sent_at + ANSWER_AFTER < ctx.now:
            answered.append(inv)
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
    organisations = {o.pk: o.name for o in ctx.objects.get("organisations", [])}
    scorer = _Scorer()
    shown = progress(answered, total=len(answered), desc="Responses", enabled=ctx.progress)
    responses = [
        _response(ctx, invitation, story, by_id[invitation.service_id], organisations, scorer) for invitation in shown
    ]
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
    # The major incidents' surveys, after the ticket invitations they are throttled against.
    demo_incidents.load(ctx, versions, invitations)
    ctx.objects["feedback_invitations"] = invitations
    ctx.objects["feedback_responses"] = responses
    ctx.objects["feedback_worse"] = None  # the story's services differ by moment, not one worse service
    demo_channels.load(ctx)
    demo_incidents.settle()


def _invitations(
    ctx: DemoContext, tickets: list[Any], versions: dict[int, Any]
) -> tuple[list[Invitation], list[SuppressedInvitation]]:
    """The invitation of each resolved ticket as the trigger would have decided it when the ticket was resolved."""
    rng = ctx.rng
    policy = Policy()
    history: dict[int, list[PastInvitation]] = defaultdict(list)
    logins = set(Person.objects.filter(user__isnull=False).values_list("pk", flat=True))
    opted_out = set(Person.objects.filter(survey_opt_out=True).values_list("pk", flat=True))
    quiet_since = ctx.now - timedelta(days=policy.transactional_long_days + 1)
    invitations: list[Invitation] = []
    suppressed: list[SuppressedInvitation] = []
    story: Story | None = ctx.objects.get("story")
    # Surveys began with the twelve months: the desk's first tickets (opened a little earlier) were
    # resolved before them and never asked.
    started = story.first_day if story is not None else None
    resolved = (t for t in tickets if t.resolved_at and (started is None or t.resolved_at.date() >= started))
    for ticket in sorted(resolved, key=lambda t: t.resolved_at):
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
            decision = decide(
                kind=TRANSACTIONAL,
                now=sent_at,
                recent=history[ticket.requester_id],
                policy=policy,
                opted_out=ticket.requester_id in opted_out,
            )
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


class _Scorer:
    """The real sentiment scorer, once per distinct text (the demo's comments come from small pools)."""

    def __init__(self) -> None:
        self.seen: dict[str, Sentiment] = {}

    def __call__(self, text: str) -> Sentiment:
        if text not in self.seen:
            self.seen[text] = score_sentiment(text, DEFAULT_THRESHOLDS)
        return self.seen[text]


def _response(
    ctx: DemoContext,
    invitation: Invitation,
    story: Story | None,
    service: Any,
    organisations: dict[int, str],
    scorer: _Scorer,
) -> Response:
    rng, ticket = ctx.rng, invitation.ticket
    assert ticket is not None and invitation.responded_at is not None  # nosec B101  # narrows for mypy
    day = ticket.opened_at.date()
    moment = demo_answers.Moment.of(story, service.slug, day)
    organisation = organisations.get(invitation.organisation_id or 0, "")
    base = story.happiness(service.slug, day, organisation) if story is not None else 45.0
    happiness = demo_answers.happiness_score(rng, demo_answers.lean(base, ticket), moment)
    band = score_band("happiness", happiness) or "neutral"
    bucket = demo_answers.lost_time(rng, band, moment)
    comment = demo_answers.comment(rng, domain_of(service.slug, service.name), band, moment, ticket)
    drivers = demo_answers.drivers(rng, comment, band, moment)
    sentiment = scorer(comment)
    return Response(
        service_id=invitation.service_id,
        offering_id=invitation.offering_id,
        organisation_id=invitation.organisation_id,
        person_id=invitation.person_id,
        ticket=ticket,
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

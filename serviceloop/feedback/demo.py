"""Demo feedback: a survey per service, invitations after resolved tickets (throttled like the real thing),
about a third answered, with scores, lost time, drivers and comments; one service clearly worse."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

from serviceloop.core.demo import DemoContext
from serviceloop.feedback.models import (
    LOST_TIME_MINUTES,
    Channel,
    Invitation,
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
FALLBACK_COMMENTS = {
    "positive": [
        "Fixed quickly, thank you!",
        "Very helpful agent, explained everything clearly.",
        "Great support, the issue was solved the same day.",
        "Friendly and knowledgeable, much appreciated.",
    ],
    "neutral": ["It was fine in the end.", "Took a while but it works now.", "OK, nothing special."],
    "negative": [
        "The outage lasted 4 hours and nobody told us anything.",
        "Slow response, we were waiting for days.",
        "Ticket closed but the problem is still there.",
        "Nobody called back and the system kept crashing.",
    ],
}
DATA = Path(__file__).parent / "data" / "labelled_feedback.csv"


def _comments() -> dict[str, list[str]]:
    """Labelled real-world-like comments when the data set is there, else a small built-in list."""
    if not DATA.exists():
        return FALLBACK_COMMENTS
    pools: dict[str, list[str]] = defaultdict(list)
    with DATA.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            text, label = (row.get("text") or "").strip(), (row.get("label") or "").strip()
            if text and label in FALLBACK_COMMENTS:
                pools[label].append(text)
    return {label: pools.get(label) or FALLBACK_COMMENTS[label] for label in FALLBACK_COMMENTS}


def _weighted(rng: Any, pairs: list[tuple[Any, int]]) -> Any:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def load(ctx: DemoContext) -> None:
    tickets = ctx.objects.get("tickets")
    if not tickets:
        return  # the desk demo did not run: nothing to survey
    rng = ctx.rng
    services = sorted({t.service for t in tickets}, key=lambda s: s.name)
    worse = services[len(services) // 2] if services else None
    versions = {}
    for service in services:
        survey = active_survey(service=service, offering=None, kind=SurveyKind.TRANSACTIONAL) or survey_create(
            service=service, name=f"{service.name} — after a ticket", by=None
        )
        versions[service.pk] = survey_current_version(survey)
    comments = _comments()
    policy = Policy()
    history: dict[int, list[PastInvitation]] = defaultdict(list)
    logins = set(Person.objects.filter(user__isnull=False).values_list("pk", flat=True))
    quiet_since = ctx.now - timedelta(days=policy.transactional_long_days + 1)
    invitations: list[Invitation] = []
    suppressed: list[SuppressedInvitation] = []
    for ticket in sorted((t for t in tickets if t.resolved_at), key=lambda t: t.resolved_at):
        common = {"person_id": ticket.requester_id, "organisation_id": ticket.organisation_id, "ticket": ticket}
        if ticket.is_duplicate or ticket.closed_automatically:
            suppressed.append(
                SuppressedInvitation(
                    **common,
                    service_id=ticket.service_id,
                    trigger=Trigger.TICKET_RESOLVED,
                    reason=SuppressedInvitation.Reason.DUPLICATE,
                    detail="The ticket is a duplicate or was closed automatically.",
                    created_at=ticket.resolved_at,
                )
            )
            continue
        sent_at = ticket.resolved_at + timedelta(minutes=rng.randint(1, 20))
        if ticket.requester_id in logins and sent_at > quiet_since:
            # The printed demo customers must be able to receive a survey when they try the loop
            # (resolve a ticket of theirs): the demo leaves their last month uninvited, as sampled out.
            suppressed.append(
                SuppressedInvitation(
                    **common,
                    service_id=ticket.service_id,
                    trigger=Trigger.TICKET_RESOLVED,
                    reason=SuppressedInvitation.Reason.SAMPLED_OUT,
                    detail="Demo: left uninvited so that this demo login can receive a survey.",
                    created_at=sent_at,
                )
            )
            continue
        decision = decide(kind=TRANSACTIONAL, now=sent_at, recent=history[ticket.requester_id], policy=policy)
        if not decision.allowed:
            suppressed.append(
                SuppressedInvitation(
                    **common,
                    service_id=ticket.service_id,
                    trigger=Trigger.TICKET_RESOLVED,
                    reason=decision.reason or "throttled",
                    detail=decision.detail,
                    created_at=sent_at,
                )
            )
            continue
        history[ticket.requester_id].append(PastInvitation(TRANSACTIONAL, sent_at))
        invitations.append(
            Invitation(
                **common,
                survey_version=versions[ticket.service_id],
                kind=SurveyKind.TRANSACTIONAL,
                service_id=ticket.service_id,
                offering_id=ticket.offering_id,
                trigger=Trigger.TICKET_RESOLVED,
                sent_at=sent_at,
                expires_at=sent_at + timedelta(days=14),
                created_at=sent_at,
            )
        )
    answered = [
        inv for inv in invitations if rng.random() < RESPONSE_RATE and inv.sent_at + timedelta(hours=2) < ctx.now
    ]
    for invitation in answered:
        invitation.responded_at = invitation.sent_at + timedelta(minutes=rng.randint(5, 60 * 30))
        invitation.first_clicked_at = invitation.responded_at
    Invitation.objects.bulk_create(invitations, batch_size=1000)
    SuppressedInvitation.objects.bulk_create(suppressed, batch_size=1000)
    responses = [_response(ctx, invitation, worse, comments) for invitation in answered]
    Response.objects.bulk_create(responses, batch_size=1000)
    ctx.objects["feedback_invitations"] = invitations
    ctx.objects["feedback_responses"] = responses


def _response(ctx: DemoContext, invitation: Invitation, worse: Any, comments: dict[str, list[str]]) -> Response:
    rng = ctx.rng
    weights = POOR if worse is not None and invitation.service_id == worse.pk else GOOD
    happiness = rng.choices(range(11), weights=weights)[0]
    band = score_band("happiness", happiness) or "neutral"
    bucket = _weighted(rng, LOST_FOR_BAND[band]) if rng.random() < 0.7 else None
    offered = drivers_offered("happiness", happiness)
    drivers = rng.sample([d.value for d in offered], k=rng.choice((0, 1, 1, 2))) if rng.random() < 0.6 else []
    comment = rng.choice(comments[band]) if rng.random() < COMMENT_RATE else ""
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

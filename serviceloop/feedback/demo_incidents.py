"""Demo feedback about the demo's major incidents, as the hook (`services.incident_feedback`) would have
left it: after each resolved major incident, every customer and sponsor of each affected
organisation on an affected service was offered the survey through the throttle (against the ticket
invitations of the same person), about half answered with a score and most with their lost time,
each organisation is marked offered; once every feedback row is written (`settle`), each review's
lost time is recounted from the answers — those to these invitations and those about the incident's
linked tickets.

Written set-wise without events, like the rest of the feedback demo; its own seeded generator, so
the channels' demo after it draws what it drew before. No comments (the comment pools fit tickets).
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta

from serviceloop.core import clock
from serviceloop.core.demo import DemoContext
from serviceloop.core.demo_story import Story
from serviceloop.core.events import subscribers_of
from serviceloop.core.models import Event, EventDelivery
from serviceloop.feedback import demo_answers
from serviceloop.feedback.models import (
    LOST_TIME_MINUTES,
    Channel,
    Invitation,
    LinkClick,
    Response,
    SuppressedInvitation,
    SurveyKind,
    SurveyVersion,
    Trigger,
)
from serviceloop.feedback.questions import score_band
from serviceloop.feedback.services.incident_feedback import (
    incident_lost_time_recount,
    incident_service_ids,
    roles_to_ask,
)
from serviceloop.feedback.throttle import TRANSACTIONAL, PastInvitation, Policy, decide
from serviceloop.incidents.models import MAJOR_SEVERITIES, AffectedOrganisation, Incident
from serviceloop.relationships.models import Person, RelationshipRole

RESPONSE_RATE = 0.5
# How the incident was experienced, happiness −100..+100 (the outage week's is the story's).
LEAN = {"sev1": -20.0, "sev2": 0.0}


def load(ctx: DemoContext, versions: dict[int, SurveyVersion], invitations: list[Invitation]) -> None:
    incidents = Incident.objects.filter(
        kind=Incident.Kind.INCIDENT, severity__in=MAJOR_SEVERITIES, status=Incident.Status.RESOLVED
    ).order_by("resolved_at")
    rng = random.Random(f"feedback-incidents:{ctx.seed}")  # nosec B311  # reproducible demo data, not secrets
    story: Story | None = ctx.objects.get("story")
    history: dict[int, list[PastInvitation]] = defaultdict(list)
    for invitation in invitations:
        history[invitation.person_id].append(PastInvitation(invitation.kind, invitation.sent_at))
    logins = set(Person.objects.filter(user__isnull=False).values_list("pk", flat=True))
    sent: list[Invitation] = []
    suppressed: list[SuppressedInvitation] = []
    for incident in incidents:
        assert incident.resolved_at is not None  # nosec B101  # narrows for mypy
        at = incident.resolved_at + timedelta(minutes=rng.randint(10, 40))
        if at > ctx.now:
            continue
        for role in _roles(incident):
            service = role.relationship.offering.service
            if service.pk not in versions:
                continue
            common = {
                "person_id": role.person_id,
                "organisation_id": role.person.organisation_id,
                "service_id": service.pk,
                "trigger": Trigger.MAJOR_INCIDENT,
            }
            decision = decide(
                kind=TRANSACTIONAL,
                now=at,
                recent=history[role.person_id],
                policy=Policy(),
                opted_out=role.person.survey_opt_out,
            )
            reason: str
            if role.person_id in logins and at > ctx.now - timedelta(days=31):
                # As the ticket invitations: the printed demo logins can still receive a survey when tried.
                reason, detail = SuppressedInvitation.Reason.SAMPLED_OUT, "Demo: left uninvited for this demo login."
            else:
                reason, detail = ("", "") if decision.allowed else (decision.reason or "throttled", decision.detail)
            if reason:
                suppressed.append(SuppressedInvitation(**common, reason=reason, detail=detail, created_at=at))
                continue
            history[role.person_id].append(PastInvitation(TRANSACTIONAL, at))
            sent.append(
                Invitation(
                    **common,
                    survey_version=versions[service.pk],
                    kind=SurveyKind.TRANSACTIONAL,
                    offering_id=role.relationship.offering_id,
                    relationship_id=role.relationship_id,
                    incident=incident,
                    sent_at=at,
                    expires_at=at + timedelta(days=14),
                    created_at=at,
                )
            )
        AffectedOrganisation.objects.filter(incident=incident).update(survey_offered_at=at)
    answered = [inv for inv in sent if rng.random() < RESPONSE_RATE and inv.sent_at + timedelta(minutes=5) < ctx.now]
    for invitation in answered:
        latest = min(invitation.sent_at + timedelta(hours=30), ctx.now)
        span = (latest - invitation.sent_at - timedelta(minutes=5)).total_seconds()
        invitation.responded_at = invitation.sent_at + timedelta(minutes=5, seconds=int(rng.uniform(0, span)))
        invitation.first_clicked_at = invitation.responded_at
    Invitation.objects.bulk_create(sent)
    SuppressedInvitation.objects.bulk_create(suppressed)
    responses = [_response(rng, invitation, story) for invitation in answered]
    Response.objects.bulk_create(responses)
    LinkClick.objects.bulk_create(
        [
            LinkClick(
                invitation=r.invitation,
                score=r.happiness,
                clicked_at=r.responded_at,
                state=LinkClick.State.COUNTED,
                created_at=r.responded_at,
            )
            for r in responses
            if r.happiness is not None
        ]
    )


def settle() -> None:
    """After every feedback demo row is written: each review's lost time recounted, which is all the
    hook's answer subscriber would do for the answers the channels' demo recorded through the service
    functions — so its deliveries of those events are settled as done (the experience demo settles its
    own and completes the events)."""
    for incident_id in Incident.objects.filter(review__isnull=False).values_list("pk", flat=True):
        incident_lost_time_recount(incident_id=incident_id)
    now = clock.now()
    rows = []
    for name in ("response.recorded", "responses.ingested"):
        ours = [entry.name for entry in subscribers_of(name) if entry.name.startswith("feedback.")]
        pending = Event.objects.filter(completed_at__isnull=True, name=name).values_list("pk", flat=True)
        rows += [
            EventDelivery(
                event_id=pk,
                subscriber=subscriber,
                status=EventDelivery.Status.DELIVERED,
                attempts=1,
                last_attempt_at=now,
                delivered_at=now,
            )
            for pk in pending
            for subscriber in ours
        ]
    EventDelivery.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)


def _roles(incident: Incident) -> list[RelationshipRole]:
    """Whom the hook asks: one role per person of each affected organisation (`roles_to_ask`)."""
    service_ids = incident_service_ids(incident)
    return [role for affected in incident.affected_organisations.all() for role in roles_to_ask(affected, service_ids)]


def _response(rng: random.Random, invitation: Invitation, story: Story | None) -> Response:
    incident = invitation.incident
    assert incident is not None and incident.resolved_at is not None  # nosec B101  # narrows for mypy
    assert invitation.responded_at is not None  # nosec B101  # only answered invitations come here
    day = incident.resolved_at.date()
    slug = next(iter(incident.affected_services.values_list("service__slug", flat=True)), "")
    moment = demo_answers.Moment.of(story, slug, day)
    lean = story.happiness(slug, day, "") if story is not None and moment.name == "outage" else LEAN[incident.severity]
    happiness = demo_answers.happiness_score(rng, lean, moment)
    band = score_band("happiness", happiness) or "neutral"
    # Asked about an incident, nearly everyone says what it cost them.
    bucket = demo_answers.lost_time(rng, band, moment) or ("none" if band == "positive" else "30to60")
    return Response(
        service_id=invitation.service_id,
        offering_id=invitation.offering_id,
        organisation_id=invitation.organisation_id,
        person_id=invitation.person_id,
        invitation=invitation,
        survey_version=invitation.survey_version,
        channel=Channel.EMAIL,
        responded_at=invitation.responded_at,
        created_at=invitation.responded_at,
        happiness=happiness,
        lost_time_bucket=bucket,
        lost_time_minutes=LOST_TIME_MINUTES[bucket],
    )

"""Trust evidence from the desk, incidents and feedback: derived from their rows, written once by key.

Every piece of evidence is one `TrustEvidence` row whose `key` is built from the rows it comes from
(a response's id, a ticket's history row, an incident × organisation × service), never from the event
that announced it: the subscribers (trust_receivers.py) and `evidence_backfill` therefore write the
same keys, and a repeated event, a retried delivery or a backfill after the receivers adds nothing.
The log is append-only: a row, once written, is never changed or deleted here.

`day` is the calendar day in settings.TIME_ZONE of the moment the evidence happened (the engine
counts a day's evidence before that day's point). docs/trust.md, section "Evidence", states each rule.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Count, Min, Q, QuerySet

from serviceloop.catalogue.models import Service
from serviceloop.core import clock
from serviceloop.desk.models import SlaEvent, Ticket, TicketEvent
from serviceloop.experience.recount import day_of, zone
from serviceloop.experience.trust_models import EvidenceKind, TrustEvidence
from serviceloop.feedback.models import SCORE_NAMES, Post, Response, SentimentLabel
from serviceloop.incidents.models import AffectedOrganisation, AffectedService, Component, Incident, Review
from serviceloop.relationships.models import Relationship

T = TypeVar("T")
Pair = tuple[int, int]

# Rows looked up or inserted per statement (well inside SQLite's limit of bound parameters).
CHUNK = 500
# Ids handed to one evidence_from_* call by the backfill.
BACKFILL_CHUNK = 2_000
# A finished week or month is recorded this long after its end: the SLA check (every minute) has
# flagged the breaches due in its last moments by then.
SETTLE = timedelta(hours=1)
# Finished weeks the beat looks back on (a beat that was down for a while catches up).
WEEKS_CATCH_UP = 4

# --------------------------------------------------------------------------------- the log


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _insert(rows: Iterable[TrustEvidence]) -> list[TrustEvidence]:
    """Insert the rows whose key is not in the log yet (the first of a repeated key); the new ones."""
    unique: dict[str, TrustEvidence] = {}
    for row in rows:
        unique.setdefault(row.key, row)
    if not unique:
        return []
    keys = list(unique)
    with transaction.atomic():
        existing: set[str] = set()
        for chunk in _chunks(keys):
            existing.update(TrustEvidence.objects.filter(key__in=chunk).values_list("key", flat=True))
        new = [row for key, row in unique.items() if key not in existing]
        # A writer racing this one on the same key: the unique index keeps one row, the other is skipped.
        TrustEvidence.objects.bulk_create(new, batch_size=CHUNK, ignore_conflicts=True)
    return new


def _pairs(rows: Iterable[TrustEvidence]) -> set[Pair]:
    return {(row.organisation_id, row.service_id) for row in rows}


def evidence_record(rows: list[TrustEvidence]) -> set[Pair]:
    """Insert those of `rows` whose key is new, in one transaction, race-safe (the unique key decides);
    the (organisation_id, service_id) pairs of the new rows. A row written meanwhile by a concurrent
    writer may still name its pair: a pair refreshed once more is harmless."""
    return _pairs(_insert(rows))


def _row(
    *,
    organisation_id: int,
    service_id: int,
    kind: str,
    at: datetime,
    key: str,
    label: str,
    source_type: str,
    source_id: int | None = None,
    details: dict[str, Any] | None = None,
    event_id: int | None = None,
    day: date | None = None,
    **fields: Any,
) -> TrustEvidence:
    return TrustEvidence(
        organisation_id=organisation_id,
        service_id=service_id,
        day=day or day_of(at),
        occurred_at=at,
        kind=kind,
        key=key[:200],
        label=label[:300],
        source_type=source_type,
        source_id=source_id,
        details=details or {},
        event_id=event_id,
        **fields,
    )


# ------------------------------------------------------------------------ relationships


def _covering(first: date, last: date) -> QuerySet[Relationship]:
    """Relationships that had started by `first` and not ended before `last` (paused ones included)."""
    return Relationship.objects.filter(started_on__lte=first).filter(Q(ended_on__isnull=True) | Q(ended_on__gte=last))


def _overlapping(first: date, last: date) -> QuerySet[Relationship]:
    """Relationships active on at least one day from `first` to `last`."""
    return Relationship.objects.filter(started_on__lte=last).filter(Q(ended_on__isnull=True) | Q(ended_on__gte=first))


def _consumed(relationships: QuerySet[Relationship]) -> set[Pair]:
    """(organisation, service) of the relationships: several offerings of one service are one pair."""
    return set(relationships.values_list("organisation_id", "offering__service_id").distinct())


# ----------------------------------------------------------------------------- answers

# The primary score of an answer (the first present) and the ranges that make it positive or negative.
PRIMARY = ("happiness", "csat", "nps", "ces")
POSITIVE = {"happiness": (9, 10), "csat": (4, 5), "nps": (9, 10), "ces": (6, 7)}
NEGATIVE = {"happiness": (0, 6), "csat": (1, 2), "nps": (0, 6), "ces": (1, 3)}
SCALE = {"happiness": 10, "csat": 5, "nps": 10, "ces": 7}


def answer_sign(scores: dict[str, int | None]) -> tuple[str, int, str] | None:
    """(score kind, value, evidence kind) of an answer's primary score, None when neutral or unscored."""
    for kind in PRIMARY:
        value = scores.get(kind)
        if value is None:
            continue
        low, high = POSITIVE[kind]
        if low <= value <= high:
            return kind, value, EvidenceKind.POSITIVE_ANSWER
        low, high = NEGATIVE[kind]
        if low <= value <= high:
            return kind, value, EvidenceKind.NEGATIVE_ANSWER
        return None
    return None


_WORDS: dict[str, str] = {
    EvidenceKind.POSITIVE_ANSWER: "positive",
    EvidenceKind.NEGATIVE_ANSWER: "negative",
    EvidenceKind.NEUTRAL_ANSWER: "neutral",
}


def _neutral(scores: dict[str, int | None]) -> tuple[str, int, str] | None:
    """A scored answer that is neither positive nor negative: weightless evidence that still counts
    in its week's number of answers (the engine's volume rule)."""
    for kind in PRIMARY:
        value = scores.get(kind)
        if value is not None:
            return kind, value, EvidenceKind.NEUTRAL_ANSWER
    return None


def evidence_from_responses(response_ids: Iterable[int], *, event_id: int | None = None) -> set[Pair]:
    """Answers with an organisation and a primary score: positive, negative, or neutral (weightless,
    counted for the week's volume) ("response:<id>").
    Three statements whatever the number of responses (one read, one key lookup, one insert)."""
    ids = sorted(set(response_ids))
    rows: list[TrustEvidence] = []
    for chunk in _chunks(ids, BACKFILL_CHUNK):
        answers = Response.objects.filter(pk__in=chunk, organisation__isnull=False).values_list(
            "pk", "organisation_id", "service_id", "responded_at", *PRIMARY
        )
        for pk, organisation_id, service_id, responded_at, *scores in answers:
            by_kind = dict(zip(PRIMARY, scores, strict=True))
            sign = answer_sign(by_kind) or _neutral(by_kind)
            if sign is None:
                continue  # no score at all: not an answer the volume rule counts
            kind, value, evidence = sign
            name = SCORE_NAMES.get(kind, kind)  # type: ignore[call-overload]
            word = _WORDS[evidence]
            rows.append(
                _row(
                    organisation_id=organisation_id,
                    service_id=service_id,
                    kind=evidence,
                    at=responded_at,
                    key=f"response:{pk}",
                    label=f"{word} answer: {name} {value} of {SCALE[kind]}",
                    source_type="feedback.response",
                    source_id=pk,
                    details={"score": kind, "value": value},
                    event_id=event_id,
                )
            )
    return evidence_record(rows)


# ------------------------------------------------------------------------------- posts


def _names_pattern(name: str) -> re.Pattern[str]:
    """The organisation's name as whole words, any case, any run of spaces between its words."""
    words = [re.escape(word) for word in name.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def post_names(text: str, handle: str, name: str) -> bool:
    """Whether a post names the organisation (whole words, case-insensitive, in its text or handle)."""
    if not name.strip():
        return False
    pattern = _names_pattern(name)
    return bool(pattern.search(text) or pattern.search(handle))


def evidence_from_posts(post_ids: Iterable[int], *, event_id: int | None = None) -> set[Pair]:
    """Negative posts (not dismissed) about a service, for each organisation the post names that had
    a relationship on that service when it was posted ("post:<id>:<service>:<org>"). A post that
    names no organisation is not trust evidence: nothing says whose trust it speaks for."""
    ids = sorted(set(post_ids))
    rows: list[TrustEvidence] = []
    for chunk in _chunks(ids, BACKFILL_CHUNK):
        posts = {
            post.pk: post
            for post in Post.objects.filter(
                pk__in=chunk, sentiment_label=SentimentLabel.NEGATIVE, dismissed_at__isnull=True
            ).only("pk", "text", "author_handle", "posted_at", "source", "kind")
        }
        if not posts:
            continue
        links = list(Post.services.through.objects.filter(post_id__in=list(posts)).values_list("post_id", "service_id"))
        services = {service_id for _post, service_id in links}
        first = min(day_of(p.posted_at) for p in posts.values())
        last = max(day_of(p.posted_at) for p in posts.values())
        consumers: dict[int, list[tuple[int, str, date, date | None]]] = defaultdict(list)
        for organisation_id, name, service_id, started_on, ended_on in (
            _overlapping(first, last)
            .filter(offering__service_id__in=services)
            .values_list("organisation_id", "organisation__name", "offering__service_id", "started_on", "ended_on")
            .distinct()
        ):
            consumers[service_id].append((organisation_id, name, started_on, ended_on))
        for post_id, service_id in sorted(links):
            post = posts[post_id]
            day = day_of(post.posted_at)
            named = {
                (organisation_id, name)
                for organisation_id, name, started_on, ended_on in consumers.get(service_id, [])
                if started_on <= day
                and (ended_on is None or ended_on >= day)
                and post_names(post.text, post.author_handle, name)
            }
            for organisation_id, name in sorted(named):
                rows.append(
                    _row(
                        organisation_id=organisation_id,
                        service_id=service_id,
                        kind=EvidenceKind.NEGATIVE_POST,
                        at=post.posted_at,
                        key=f"post:{post_id}:{service_id}:{organisation_id}",
                        label=f"negative {post.get_kind_display().lower()} on {post.source} naming {name}",
                        source_type="feedback.post",
                        source_id=post_id,
                        details={"source": post.source, "named": name},
                        event_id=event_id,
                    )
                )
    return evidence_record(rows)


# ---------------------------------------------------------------------- small failures

_TARGET_WORDS: dict[str, str] = {
    str(SlaEvent.Target.FIRST_RESPONSE): "first response",
    str(SlaEvent.Target.RESOLUTION): "resolution",
}


def _sla_rows(breaches: QuerySet[SlaEvent], event_id: int | None = None) -> list[TrustEvidence]:
    rows = []
    for pk, ticket_id, target, at, reference, organisation_id, service_id, priority, opened in breaches.values_list(
        "pk",
        "ticket_id",
        "target",
        "at",
        "ticket__reference",
        "ticket__organisation_id",
        "ticket__service_id",
        "ticket__priority",
        "ticket__opened_at",
    ):
        rows.append(
            _row(
                organisation_id=organisation_id,
                service_id=service_id,
                kind=EvidenceKind.SMALL_FAILURE,
                at=at,
                key=f"sla:{ticket_id}:{target}",
                label=f"{reference}: {_TARGET_WORDS.get(target, target)} target breached",
                source_type="desk.ticket",
                source_id=ticket_id,
                details={
                    "failure": "sla_breach",
                    "target": target,
                    "priority": priority,
                    "sla_event_id": pk,
                    # The volume rule weighs it by the tickets opened in its ticket's week.
                    "opened_on": day_of(opened).isoformat(),
                },
                event_id=event_id,
            )
        )
    return rows


def evidence_from_sla_breach(
    ticket_id: int, target: str, at: datetime | None = None, *, event_id: int | None = None
) -> set[Pair]:
    """A ticket's SLA breach: a small failure for its (organisation, service), on the day the target
    was due ("sla:<ticket>:<target>"). The desk's SlaEvent row is the source; `at` is not needed."""
    breaches = SlaEvent.objects.filter(ticket_id=ticket_id, target=target, kind=SlaEvent.Kind.BREACHED)
    return evidence_record(_sla_rows(breaches, event_id))


def _ticket_rows(tickets: QuerySet[Ticket], event_id: int | None = None) -> list[TrustEvidence]:
    rows = []
    for pk, reference, organisation_id, service_id, opened_at in tickets.values_list(
        "pk", "reference", "organisation_id", "service_id", "opened_at"
    ):
        rows.append(
            _row(
                organisation_id=organisation_id,
                service_id=service_id,
                kind=EvidenceKind.TICKET_OPENED,
                at=opened_at,
                key=f"ticket:{pk}",
                label=f"{reference} opened",
                source_type="desk.ticket",
                source_id=pk,
                event_id=event_id,
            )
        )
    return rows


def evidence_from_tickets(ticket_ids: Iterable[int], *, event_id: int | None = None) -> set[Pair]:
    """Each ticket opened ("ticket:<id>"): weightless, it counts in its week's number of tickets, by
    which the week's breaches and reopens are weighed (the engine's volume rule, docs/trust.md)."""
    return evidence_record(_ticket_rows(Ticket.objects.filter(pk__in=sorted(set(ticket_ids))), event_id))


def _reopen_rows(reopens: QuerySet[TicketEvent], event_id: int | None = None) -> list[TrustEvidence]:
    rows = []
    for pk, ticket_id, at, reference, organisation_id, service_id, opened in reopens.values_list(
        "pk",
        "ticket_id",
        "at",
        "ticket__reference",
        "ticket__organisation_id",
        "ticket__service_id",
        "ticket__opened_at",
    ):
        rows.append(
            _row(
                organisation_id=organisation_id,
                service_id=service_id,
                kind=EvidenceKind.SMALL_FAILURE,
                at=at,
                key=f"reopen:{pk}",
                label=f"{reference} reopened",
                source_type="desk.ticket",
                source_id=ticket_id,
                details={"failure": "reopen", "ticket_event_id": pk, "opened_on": day_of(opened).isoformat()},
                event_id=event_id,
            )
        )
    return rows


def evidence_from_reopen(ticket_id: int, *, event_id: int | None = None) -> set[Pair]:
    """Each reopen of the ticket (its history rows of kind "reopened", "reopen:<row>"): a small
    failure. Every reopen row of the ticket is looked at, so several reopens count each and an event
    delivered late or twice converges."""
    reopens = TicketEvent.objects.filter(ticket_id=ticket_id, kind=TicketEvent.Kind.REOPENED)
    return evidence_record(_reopen_rows(reopens, event_id))


# ---------------------------------------------------------------------------- incidents

# The severity of a major incident for one organisation and service: duration × users × criticality.
REFERENCE_HOURS = 4.0  # a 4-hour outage of all users of a medium service is severity 1
CRITICALITY = {
    Service.Criticality.LOW: 0.5,
    Service.Criticality.MEDIUM: 1.0,
    Service.Criticality.HIGH: 1.5,
    Service.Criticality.CRITICAL: 2.0,
}
SEVERITY_MIN, SEVERITY_MAX = 0.5, 2.0


def _impact(incident: Incident) -> tuple[datetime, datetime]:
    """When the customers' experience started and ended to suffer (incident_measures' duration)."""
    start = incident.impact_started_at or incident.declared_at or incident.created_at
    end = incident.impact_ended_at or incident.resolved_at or clock.now()
    return start, max(end, start)


def severity_of(
    incident: Incident, affected_organisation: AffectedOrganisation, service: Service
) -> tuple[float, dict]:
    """(severity 0.5–2, the details JSON): √(hours of impact / 4) × share of the organisation's users
    affected (all, when it has no users on record) × the service's criticality (low 0.5, medium 1,
    high 1.5, critical 2); the square root because the first hours of an outage hurt most."""
    start, end = _impact(incident)
    hours = (end - start).total_seconds() / 3600
    duration = math.sqrt(hours / REFERENCE_HOURS)
    affected, total = affected_organisation.users_affected, affected_organisation.users_total
    users = min(affected / total, 1.0) if total > 0 else 1.0
    criticality = CRITICALITY.get(service.criticality, 1.0)  # type: ignore[call-overload]
    raw = duration * users * criticality
    severity = round(min(max(raw, SEVERITY_MIN), SEVERITY_MAX), 4)
    return severity, {
        "hours": round(hours, 2),
        "duration_factor": round(duration, 4),
        "users_affected": affected,
        "users_total": total,
        "users_factor": round(users, 4),
        "criticality": service.criticality,
        "criticality_factor": criticality,
        "raw": round(raw, 4),
        "severity": severity,
    }


def _affected_pairs(incident: Incident, day: date) -> list[tuple[AffectedOrganisation, Service]]:
    """Each affected organisation × affected service it consumed (a relationship covering `day`)."""
    organisations = list(incident.affected_organisations.select_related("organisation").order_by("organisation_id"))
    services = [a.service for a in AffectedService.objects.filter(incident=incident).select_related("service")]
    if not organisations or not services:
        return []
    consumed = _consumed(
        _covering(day, day).filter(
            organisation_id__in=[a.organisation_id for a in organisations],
            offering__service_id__in=[s.pk for s in services],
        )
    )
    return [
        (affected, service)
        for affected in organisations
        for service in sorted(services, key=lambda s: s.pk)
        if (affected.organisation_id, service.pk) in consumed
    ]


def _major_rows(
    incident: Incident, pairs: list[tuple[AffectedOrganisation, Service]], start: datetime, event_id: int | None
) -> list[TrustEvidence]:
    from serviceloop.incidents.measures import communication_score, incident_measures, plan_score

    assert incident.resolved_at is not None  # nosec B101  # the caller reads resolved incidents only
    measures = incident_measures(incident)
    communication = communication_score(measures)
    plan = plan_score(incident)
    cadence = {audience: c.compliance for audience, c in measures.cadence.items() if c.counted}
    rows = []
    for affected, service in pairs:
        org = affected.organisation_id
        severity, details = severity_of(incident, affected, service)
        common: dict[str, Any] = {"organisation_id": org, "service_id": service.pk, "source_type": "incidents.incident"}
        rows.append(
            _row(
                **common,
                kind=EvidenceKind.MAJOR_INCIDENT,
                at=start,
                key=f"major:{incident.pk}:{org}:{service.pk}",
                label=f"major incident {incident.reference}",
                source_id=incident.pk,
                details=details,
                event_id=event_id,
                severity=severity,
                incident=incident,
                incident_key=str(incident.pk),
            )
        )
        rows.append(
            _row(
                **common,
                kind=EvidenceKind.MAJOR_RESOLVED,
                at=incident.resolved_at,
                key=f"resolved:{incident.pk}:{org}:{service.pk}",
                label=f"major incident {incident.reference} resolved",
                source_id=incident.pk,
                details={"communication": communication, "plan": plan, "cadence": cadence},
                event_id=event_id,
                communication=communication,
                plan=plan,
                incident=incident,
                incident_key=str(incident.pk),
            )
        )
    return rows


def _minor_rows(
    incident: Incident, pairs: list[tuple[AffectedOrganisation, Service]], start: datetime, event_id: int | None
) -> list[TrustEvidence]:
    return [
        _row(
            organisation_id=affected.organisation_id,
            service_id=service.pk,
            kind=EvidenceKind.SMALL_FAILURE,
            at=start,
            key=f"minor:{incident.pk}:{affected.organisation_id}:{service.pk}",
            label=f"minor incident {incident.reference}",
            source_type="incidents.incident",
            source_id=incident.pk,
            details={"failure": "minor_incident", "severity": incident.severity},
            event_id=event_id,
        )
        for affected, service in pairs
    ]


MINOR_SEVERITIES = ("sev3", "sev4")


def evidence_from_incident(incident_id: int, *, event_id: int | None = None) -> set[Pair]:
    """A resolved incident (not a maintenance), for each affected organisation × affected service it
    consumed when the impact started: a major one (SEV1–2) is `major_incident` on its start day and
    `major_resolved` on its resolution day, a minor one (SEV3–4) a small failure on its start day.
    The review's closed actions are recorded too (an action event delivered before this one found
    no major rows to credit)."""
    incident = Incident.objects.filter(pk=incident_id, kind=Incident.Kind.INCIDENT, resolved_at__isnull=False).first()
    if incident is None:
        return set()
    start, _end = _impact(incident)
    pairs = _affected_pairs(incident, day_of(start))
    if incident.is_major:
        recorded = evidence_record(_major_rows(incident, pairs, start, event_id))
        return recorded | evidence_from_review(incident_id, event_id=event_id)
    if incident.severity in MINOR_SEVERITIES:
        return evidence_record(_minor_rows(incident, pairs, start, event_id))
    return set()


def _review_moment(review: Review) -> datetime:
    """When the share closed became what it is: the latest action closed, or the completion."""
    moments = [a.closed_at for a in review.actions.all() if a.closed_at is not None]
    if review.completed_at is not None and review.status != Review.Status.DRAFT:
        moments.append(review.completed_at)
    return max(moments, default=clock.now())


def evidence_from_review(incident_id: int, *, event_id: int | None = None) -> set[Pair]:
    """The share of the review's actions closed now (incidents.measures.actions_closed_share), for
    each pair that has a major_incident row of the incident, dated when it became so
    ("actions:<incident>:<org>:<service>:<share 4dp>"); nothing while the share is 0."""
    from serviceloop.incidents.measures import actions_closed_share

    majors = list(
        TrustEvidence.objects.filter(incident_id=incident_id, kind=EvidenceKind.MAJOR_INCIDENT)
        .values_list("organisation_id", "service_id")
        .distinct()
    )
    if not majors:
        return set()
    review = (
        Review.objects.filter(incident_id=incident_id).select_related("incident").prefetch_related("actions").first()
    )
    if review is None:
        return set()
    share = actions_closed_share(review)
    if share <= 0:
        return set()
    moment = _review_moment(review)
    reference = review.incident.reference
    rows = [
        _row(
            organisation_id=org,
            service_id=service_id,
            kind=EvidenceKind.REVIEW_ACTIONS_CLOSED,
            at=moment,
            key=f"actions:{incident_id}:{org}:{service_id}:{share:.4f}",
            label=f"review actions of {reference} closed ({share:.0%})",
            source_type="incidents.incident",
            source_id=incident_id,
            details={"share_closed": share, "review_status": review.status},
            event_id=event_id,
            share=share,
            incident_id=incident_id,
            incident_key=str(incident_id),
        )
        for org, service_id in sorted(majors)
    ]
    return evidence_record(rows)


# -------------------------------------------------------------------------------- weeks


def _local_start(day: date) -> datetime:
    return datetime.combine(day, time.min, zone())


@dataclass
class _Targets:
    due: int = 0
    met: int = 0
    first_response_due: int = 0
    first_response_met: int = 0
    resolution_due: int = 0
    resolution_met: int = 0


def _targets_of_week(start: datetime, end: datetime) -> dict[Pair, _Targets]:
    targets: dict[Pair, _Targets] = defaultdict(_Targets)
    for due_field, breached_field, name in (
        ("first_response_due_at", "first_response_breached", "first_response"),
        ("resolution_due_at", "resolution_breached", "resolution"),
    ):
        counts = (
            Ticket.objects.filter(**{f"{due_field}__gte": start, f"{due_field}__lt": end})
            .order_by()
            .values("organisation_id", "service_id")
            .annotate(due=Count("pk"), breached=Count("pk", filter=Q(**{breached_field: True})))
        )
        for row in counts:
            entry = targets[(row["organisation_id"], row["service_id"])]
            met = row["due"] - row["breached"]
            entry.due += row["due"]
            entry.met += met
            setattr(entry, f"{name}_due", row["due"])
            setattr(entry, f"{name}_met", met)
    return targets


def _week_rows(monday: date, *, skip_paused: bool = True) -> list[TrustEvidence]:
    if monday.weekday() != 0:
        raise ValueError(f"{monday} is not a Monday")
    sunday = monday + timedelta(days=6)
    start, end = _local_start(monday), _local_start(monday + timedelta(days=7))
    covering = _covering(monday, sunday)
    # A relationship paused now earns no week now; its past weeks (the backfill) are not judged by
    # today's status: there is no history of pauses to consult.
    if skip_paused:
        covering = covering.exclude(status=Relationship.Status.PAUSED)
    pairs = _consumed(covering)
    if not pairs:
        return []
    targets = _targets_of_week(start, end)
    rows = []
    for org, service_id in sorted(pairs):
        counted = targets.get((org, service_id), _Targets())
        share = round(counted.met / counted.due, 4) if counted.due else 1.0
        what = f"{counted.met} of {counted.due} targets met" if counted.due else "no target due"
        rows.append(
            _row(
                organisation_id=org,
                service_id=service_id,
                kind=EvidenceKind.WEEK_MET,
                at=end - timedelta(seconds=1),
                key=f"week:{org}:{service_id}:{monday.isoformat()}",
                label=f"week of {monday:%d %b %Y}: {what}",
                source_type="trust.week",
                details={**counted.__dict__, "monday": monday.isoformat()},
                share=share,
            )
        )
    return rows


def weeks_record(week_start: date, *, skip_paused: bool = True) -> set[Pair]:
    """The ISO week from `week_start` (a Monday, settings.TIME_ZONE): for each relationship covering
    the whole week (and, by default, not paused now), the share of its targets met
    ("week:<org>:<service>:<monday>"). The backfill passes skip_paused=False for past weeks."""
    return evidence_record(_week_rows(week_start, skip_paused=skip_paused))


# ----------------------------------------------------------------------------- months


def _next_month(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1)


def _month_rows(month_start: date) -> list[TrustEvidence]:
    from serviceloop.incidents import uptime
    from serviceloop.incidents.status import monthly_uptime_of, page_zone

    if month_start.day != 1:
        raise ValueError(f"{month_start} is not the first day of a month")
    components = list(Component.objects.select_related("service"))
    if not components:
        return []
    page = page_zone()
    end = uptime.day_bounds(_next_month(month_start), page)[0]
    months = monthly_uptime_of([c.service for c in components], months=2, now=end)
    last = _next_month(month_start) - timedelta(days=1)
    consumers: dict[int, set[int]] = defaultdict(set)
    for org, service_id in _consumed(_overlapping(month_start, last)):
        consumers[service_id].add(org)
    rows = []
    for component in sorted(components, key=lambda c: c.service_id):
        month = next((m for m in months.get(component.service_id, []) if m.month == month_start), None)
        target = float(component.availability_target)
        if month is None or month.percent is None or month.percent >= target:
            continue
        for org in sorted(consumers.get(component.service_id, set())):
            rows.append(
                _row(
                    organisation_id=org,
                    service_id=component.service_id,
                    kind=EvidenceKind.AVAILABILITY_MISSED,
                    at=end - timedelta(seconds=1),
                    day=last,  # the month's own last day, whatever settings.TIME_ZONE makes of `at`
                    key=f"availability:{org}:{component.service_id}:{month_start:%Y-%m}",
                    label=f"availability {month.percent:.2f}% in {month_start:%B %Y} (target {target:g}%)",
                    source_type="trust.availability",
                    source_id=component.pk,
                    details={
                        "percent": month.percent,
                        "target": target,
                        "down_seconds": month.down_seconds,
                        "agreed_seconds": month.agreed_seconds,
                    },
                )
            )
    return rows


def availability_record(month_start: date) -> set[Pair]:
    """The month from `month_start` (its first day, on the status page's time zone as its uptime is):
    for each service whose status component's monthly uptime was below its availability target,
    `availability_missed` for each organisation with a relationship on it active in that month."""
    return evidence_record(_month_rows(month_start))


# ---------------------------------------------------------------------------- periods


def _monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def finished_weeks(now: datetime, count: int = WEEKS_CATCH_UP) -> list[date]:
    """The Mondays of the last `count` weeks that ended at least SETTLE before `now`, oldest first."""
    monday = _monday_of(day_of(now - SETTLE)) - timedelta(days=7)
    return [monday - timedelta(days=7 * n) for n in range(count - 1, -1, -1)]


def finished_month(now: datetime) -> date:
    """The first day of the last month that ended at least SETTLE before `now`."""
    return (day_of(now - SETTLE).replace(day=1) - timedelta(days=1)).replace(day=1)


def pairs_refresh(pairs: set[Pair]) -> None:
    """Recompute the trust states of the pairs that just got evidence."""
    from serviceloop.experience import trust_states

    if pairs:
        trust_states.states_refresh(sorted(pairs))


def periods_record_due(now: datetime | None = None) -> int:
    """Beat (hourly): record the finished weeks not yet recorded (the last WEEKS_CATCH_UP) and the
    last finished month's missed availability, then refresh the pairs that got evidence; rows written."""
    now = now or clock.now()
    new: list[TrustEvidence] = []
    for monday in finished_weeks(now):
        if TrustEvidence.objects.filter(kind=EvidenceKind.WEEK_MET, day=monday + timedelta(days=6)).exists():
            continue
        new += _insert(_week_rows(monday))
    new += _insert(_month_rows(finished_month(now)))
    pairs_refresh(_pairs(new))
    return len(new)


# --------------------------------------------------------------------------- backfill


def _ids(rows: QuerySet[Any]) -> list[int]:
    return list(rows.order_by("pk").values_list("pk", flat=True))


def _sla_backfill(ids: Sequence[int]) -> set[Pair]:
    return evidence_record(_sla_rows(SlaEvent.objects.filter(pk__in=list(ids))))


def _reopen_backfill(ids: Sequence[int]) -> set[Pair]:
    return evidence_record(_reopen_rows(TicketEvent.objects.filter(pk__in=list(ids))))


def _backfill_steps(since: date | None) -> list[Callable[[], object]]:
    """Each step writes one slice of the evidence derivable from the rows (on or after `since`)."""
    after = _local_start(since) if since is not None else None

    def moment(field: str) -> Q:
        return Q(**{f"{field}__gte": after}) if after is not None else Q()

    steps: list[Callable[[], object]] = []
    responses = _ids(Response.objects.filter(moment("responded_at"), organisation__isnull=False))
    posts = _ids(Post.objects.filter(moment("posted_at"), sentiment_label=SentimentLabel.NEGATIVE))
    for chunk in _chunks(responses, BACKFILL_CHUNK):
        steps.append(partial(evidence_from_responses, chunk))
    for chunk in _chunks(posts, BACKFILL_CHUNK):
        steps.append(partial(evidence_from_posts, chunk))
    for chunk in _chunks(_ids(Ticket.objects.filter(moment("opened_at"))), BACKFILL_CHUNK):
        steps.append(partial(evidence_from_tickets, chunk))
    breaches = _ids(SlaEvent.objects.filter(moment("at"), kind=SlaEvent.Kind.BREACHED))
    for chunk in _chunks(breaches, BACKFILL_CHUNK):
        steps.append(partial(_sla_backfill, chunk))
    reopens = _ids(TicketEvent.objects.filter(moment("at"), kind=TicketEvent.Kind.REOPENED))
    for chunk in _chunks(reopens, BACKFILL_CHUNK):
        steps.append(partial(_reopen_backfill, chunk))
    for incident_id in _ids(
        Incident.objects.filter(moment("resolved_at"), kind=Incident.Kind.INCIDENT, resolved_at__isnull=False)
    ):
        steps.append(partial(evidence_from_incident, incident_id))
    steps += _period_steps(since)
    return steps


def _period_steps(since: date | None) -> list[Callable[[], object]]:
    first = Relationship.objects.aggregate(first=Min("started_on"))["first"]
    if first is None:
        return []
    first = max(first, since) if since is not None else first
    now = clock.now()
    weeks_end = finished_weeks(now, 1)[0]
    monday = _monday_of(first)
    if monday < first:
        monday += timedelta(days=7)  # a week that started before the first relationship is no one's
    steps: list[Callable[[], object]] = []
    while monday <= weeks_end:
        steps.append(partial(weeks_record, monday, skip_paused=False))
        monday += timedelta(days=7)
    month, last_month = first.replace(day=1), finished_month(now)
    if Component.objects.exists():
        while month <= last_month:
            steps.append(partial(availability_record, month))
            month = _next_month(month)
    return steps


def evidence_backfill(
    *, since: date | None = None, wrap: Callable[[Iterable[Any], int], Iterable[Any]] | None = None
) -> int:
    """Write every piece of evidence derivable from the rows there are (on or after `since`): answers,
    posts, SLA breaches, reopens, resolved incidents with their reviews, finished weeks and months.
    Idempotent, with the receivers' keys: after the receivers it writes nothing new. It does not
    refresh the states (`serviceloop trust recompute` runs states_recompute_all next). `wrap(steps,
    total)` shows progress. Rows written."""
    before = TrustEvidence.objects.count()
    steps = _backfill_steps(since)
    iterable: Iterable[Callable[[], object]] = steps if wrap is None else wrap(steps, len(steps))
    for step in iterable:
        step()
    return TrustEvidence.objects.count() - before


__all__ = [
    "availability_record",
    "evidence_backfill",
    "evidence_from_incident",
    "evidence_from_posts",
    "evidence_from_reopen",
    "evidence_from_responses",
    "evidence_from_review",
    "evidence_from_sla_breach",
    "evidence_from_tickets",
    "evidence_record",
    "periods_record_due",
    "severity_of",
    "weeks_record",
]

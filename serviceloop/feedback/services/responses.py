"""Recording responses: one function for every channel, and the link answers of an invitation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from serviceloop.accounts.models import Organisation
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core import clock
from serviceloop.core.errors import InvalidInput
from serviceloop.core.events import event_record
from serviceloop.desk.models import Ticket
from serviceloop.feedback.models import (
    LOST_TIME_MINUTES,
    SCORE_RANGES,
    Channel,
    Driver,
    Invitation,
    LostTime,
    Response,
    SurveyVersion,
)
from serviceloop.feedback.sentiment import Thresholds, score_text
from serviceloop.feedback.services.sentiment_labels import current_thresholds, prepare_text
from serviceloop.relationships.models import Person

MAX_COMMENT = 5000


@dataclass(frozen=True)
class Sentiment:
    score: float | None
    label: str | None
    version: str


def score_sentiment(text: str, thresholds: Thresholds | None = None) -> Sentiment:
    """Score free text with the thresholds in force (calibrated from staff corrections, else DOMAIN §2's).

    Bulk callers read the thresholds once and pass them in.
    """
    if not text.strip():
        return Sentiment(None, None, "")
    result = score_text(text, thresholds or current_thresholds())
    return Sentiment(float(result.score), str(result.label), str(result.version))


def mask_text(text: str) -> str:
    """Mask personal data in free text when SERVICELOOP_MASK_PERSONAL_DATA is on."""
    return prepare_text(text)[0]


def _check_score(field: str, value: int | None) -> None:
    if value is None:
        return
    low, high = SCORE_RANGES[field]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput("out_of_range", f"{field} must be a whole number from {low} to {high}.", field=field)


def _check_drivers(drivers: list[str] | None) -> list[str]:
    if drivers is None:
        return []
    unknown = [d for d in drivers if d not in Driver.values]
    if unknown:
        raise InvalidInput(
            "unknown_driver",
            f"Unknown driver '{unknown[0]}'; choose from {', '.join(Driver.values)}.",
            field="drivers",
        )
    # Keep the order given, once each.
    return list(dict.fromkeys(drivers))


def _check_lost_time(bucket: str | None) -> int | None:
    if bucket is None:
        return None
    if bucket not in LostTime.values:
        raise InvalidInput(
            "unknown_lost_time", f"Lost time is one of {', '.join(LostTime.values)}.", field="lost_time_bucket"
        )
    return LOST_TIME_MINUTES[bucket]


def _clean_comment(comment: str) -> str:
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidInput("comment_too_long", f"A comment has at most {MAX_COMMENT} characters.", field="comment")
    return mask_text(comment)


def _announce(response: Response) -> None:
    event_record("response.recorded", subject=response, response_id=response.pk)


def response_record(
    *,
    service: Service,
    channel: str = Channel.API,
    offering: Offering | None = None,
    organisation: Organisation | None = None,
    person: Person | None = None,
    ticket: Ticket | None = None,
    invitation: Invitation | None = None,
    survey_version: SurveyVersion | None = None,
    source: str = "",
    external_id: str | None = None,
    responded_at: datetime | None = None,
    csat: int | None = None,
    happiness: int | None = None,
    nps: int | None = None,
    ces: int | None = None,
    lost_time_bucket: str | None = None,
    drivers: list[str] | None = None,
    comment: str = "",
) -> Response:
    """Record one response from any channel: validated, comment masked and scored, its event recorded with it.

    Idempotent by (source, external_id): the same key again returns the stored response unchanged.
    """
    for field, value in (("csat", csat), ("happiness", happiness), ("nps", nps), ("ces", ces)):
        _check_score(field, value)
    if channel not in Channel.values:
        raise InvalidInput("unknown_channel", f"Channel is one of {', '.join(Channel.values)}.", field="channel")
    clean_drivers = _check_drivers(drivers)
    minutes = _check_lost_time(lost_time_bucket)
    text = _clean_comment(comment)
    sentiment = score_sentiment(text)
    if external_id is not None:
        existing = Response.objects.filter(source=source, external_id=external_id).first()
        if existing is not None:
            return existing
    if organisation is None and person is not None:
        organisation = person.organisation
    row = Response(
        service=service,
        offering=offering,
        organisation=organisation,
        person=person,
        ticket=ticket,
        invitation=invitation,
        survey_version=survey_version,
        channel=channel,
        source=source,
        external_id=external_id,
        responded_at=responded_at or clock.now(),
        csat=csat,
        happiness=happiness,
        nps=nps,
        ces=ces,
        lost_time_bucket=lost_time_bucket,
        lost_time_minutes=minutes,
        drivers=clean_drivers,
        comment=text,
        sentiment_score=sentiment.score,
        sentiment_label=sentiment.label,
        sentiment_version=sentiment.version,
    )
    try:
        with transaction.atomic():
            row.save()
            _announce(row)
    except IntegrityError:
        # Two deliveries of the same external id at once: the other one won; answer with its row.
        if external_id is not None:
            existing = Response.objects.filter(source=source, external_id=external_id).first()
            if existing is not None:
                return existing
        raise
    return row


def response_answer_link(*, invitation: Invitation, score: int, at: datetime | None = None) -> Response:
    """A score from the email (a counted click, or one confirmed on the page): record it, or change the
    earlier answer (same response row). `at` is when the person gave it (the click), default now."""
    version = invitation.survey_version
    kind = version.score_kind
    _check_score(kind, score)
    now = at or clock.now()
    with transaction.atomic():
        # Lock the invitation: two clicks at once must make one response, not two.
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        response = Response.objects.filter(invitation=invitation).first()
        if response is None:
            response = Response(
                service_id=invitation.service_id,
                offering_id=invitation.offering_id,
                organisation_id=invitation.organisation_id,
                person_id=invitation.person_id,
                ticket_id=invitation.ticket_id,
                invitation=invitation,
                survey_version=version,
                channel=Channel.EMAIL,
                responded_at=now,
            )
        elif getattr(response, kind) == score:
            # The same click again (or a mail client fetching it twice) changes nothing.
            return response
        setattr(response, kind, score)
        response.save()
        invitation.first_clicked_at = invitation.first_clicked_at or now
        invitation.responded_at = invitation.responded_at or now
        invitation.save(update_fields=["first_clicked_at", "responded_at", "updated_at"])
        _announce(response)
    return response


_UNSET: Any = object()


def response_update_followups(
    *,
    response: Response,
    lost_time_bucket: str | None = _UNSET,
    drivers: list[str] | None = _UNSET,
    comment: str = _UNSET,
) -> Response:
    """Save the follow-up answers given (each may come alone, as the person answers it); others stay."""
    changed: list[str] = []
    if lost_time_bucket is not _UNSET:
        bucket = lost_time_bucket or None
        response.lost_time_minutes = _check_lost_time(bucket)
        response.lost_time_bucket = bucket
        changed += ["lost_time_bucket", "lost_time_minutes"]
    if drivers is not _UNSET:
        response.drivers = _check_drivers(drivers)
        changed.append("drivers")
    if comment is not _UNSET:
        response.comment = _clean_comment(comment)
        sentiment = score_sentiment(response.comment)
        response.sentiment_score = sentiment.score
        response.sentiment_label = sentiment.label
        response.sentiment_version = sentiment.version
        changed += ["comment", "sentiment_score", "sentiment_label", "sentiment_version"]
    if not changed:
        return response
    with transaction.atomic():
        response.save(update_fields=[*changed, "updated_at"])
        _announce(response)
    return response


def response_for_invitation(*, invitation: Invitation) -> Response:
    """The invitation's one response, created empty when the page is answered before any score."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        response = Response.objects.filter(invitation=invitation).first()
        if response is not None:
            return response
        now = clock.now()
        response = Response.objects.create(
            service_id=invitation.service_id,
            offering_id=invitation.offering_id,
            organisation_id=invitation.organisation_id,
            person_id=invitation.person_id,
            ticket_id=invitation.ticket_id,
            invitation=invitation,
            survey_version_id=invitation.survey_version_id,
            channel=Channel.EMAIL,
            responded_at=now,
        )
        invitation.first_clicked_at = invitation.first_clicked_at or now
        invitation.responded_at = invitation.responded_at or now
        invitation.save(update_fields=["first_clicked_at", "responded_at", "updated_at"])
        # An answer without a score yet is still a response (and answers the invitation).
        _announce(response)
    return response

"""Answers from the widget and the public "How was it?" page, and the widget sites themselves."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction

from serviceloop.accounts.models import User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core import clock
from serviceloop.core.errors import ConflictError, InvalidInput, NotAllowed
from serviceloop.core.events import event_record
from serviceloop.feedback.models import (
    SCORE_RANGES,
    Channel,
    QrAnswerMark,
    QuestionKind,
    Response,
    WidgetSite,
    WidgetTicketUse,
)
from serviceloop.feedback.services.sentiment_labels import prepare_text, score_many

MAX_COMMENT = 2_000
# A DNS name (letters, digits, hyphens, dots), an IPv4 address, or an IPv6 address (urlsplit drops its brackets).
_HOST = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|[0-9a-f:.]+")
# The scales the widget and the QR page ask on.
PUBLIC_KINDS = (QuestionKind.HAPPINESS, QuestionKind.CSAT)


def normalise_origin(value: str) -> str:
    """ "https://Intranet.Example/" → "https://intranet.example"; refuses paths and other schemes."""
    value = value.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput(
            "invalid_origin", f"“{value}” is not an origin like https://intranet.example.", field="allowed_origins"
        )
    if parts.path or parts.query or parts.fragment or parts.username:
        raise InvalidInput(
            "invalid_origin",
            f"“{value}” has more than an origin: give scheme, host and port only.",
            field="allowed_origins",
        )
    host = parts.hostname.lower()
    if not _HOST.fullmatch(host):
        # The origin goes into the frame's Content-Security-Policy: a `;` or a space would add directives.
        raise InvalidInput("invalid_origin", f"“{value}” has a host name that is not valid.", field="allowed_origins")
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def _origins(values: Iterable[str]) -> list[str]:
    origins = sorted({normalise_origin(value) for value in values if value.strip()})
    if not origins:
        raise InvalidInput("no_origin", "Allow at least one origin to embed the widget.", field="allowed_origins")
    return origins


def _require_manager(by: User) -> None:
    if not by.can_manage_services:
        raise NotAllowed("forbidden", "Only service managers and administrators may manage widget sites.")


def widget_site_create(
    *,
    name: str,
    service: Service,
    allowed_origins: Iterable[str],
    question: str = WidgetSite.Question.HAPPINESS,
    offering: Offering | None = None,
    by: User,
) -> WidgetSite:
    _require_manager(by)
    if not name.strip():
        raise InvalidInput("invalid_name", "Name the site, e.g. “Intranet help page”.", field="name")
    if offering is not None and offering.service_id != service.pk:
        raise InvalidInput("invalid_offering", "The offering belongs to another service.", field="offering")
    return WidgetSite.objects.create(
        name=name.strip(),
        service=service,
        offering=offering,
        allowed_origins=_origins(allowed_origins),
        question=question,
        created_by=by,
    )


def widget_site_update(
    *, site: WidgetSite, name: str, allowed_origins: Iterable[str], question: str, is_active: bool, by: User
) -> WidgetSite:
    _require_manager(by)
    if not name.strip():
        raise InvalidInput("invalid_name", "Name the site, e.g. “Intranet help page”.", field="name")
    site.name = name.strip()
    site.allowed_origins = _origins(allowed_origins)
    site.question = question
    site.is_active = is_active
    site.save()
    return site


def _public_response(
    *,
    service: Service,
    offering: Offering | None,
    channel: str,
    source: str,
    kind: str,
    score: int,
    comment: str,
) -> Response:
    low, high = SCORE_RANGES[kind]
    if not low <= score <= high:
        raise InvalidInput("invalid_score", f"Choose a score from {low} to {high}.", field="score")
    if len(comment) > MAX_COMMENT:
        raise InvalidInput("comment_too_long", f"Keep the comment under {MAX_COMMENT:,} characters.", field="comment")
    comment, _ = prepare_text(comment.strip())
    response = Response(
        service=service,
        offering=offering,
        channel=channel,
        source=source,
        responded_at=clock.now(),
        comment=comment,
        **{kind: score},
    )
    result = score_many([comment])[0]
    if result is not None:
        response.sentiment_score = result.score
        response.sentiment_label = result.label.value
        response.sentiment_version = result.version
    with transaction.atomic():
        response.save()
        event_record("response.recorded", subject=response, response_id=response.pk)
    return response


def widget_response_record(*, site: WidgetSite, score: int, comment: str = "", ticket_nonce: str) -> Response:
    """An answer given in the widget on one of the site's pages (ticket and origin are checked at the edge).

    The ticket is used up in the same transaction as the answer: a replay stores nothing (409), and
    an answer refused for its content leaves the ticket usable for the corrected one.
    """
    if not site.is_active:
        raise NotAllowed("site_inactive", "This feedback widget is switched off.")
    with transaction.atomic():
        try:
            with transaction.atomic():
                WidgetTicketUse.objects.create(site=site, nonce=ticket_nonce, created_at=clock.now())
        except IntegrityError as error:
            raise ConflictError(
                "ticket_used", "This form was already sent; reload the page to answer again."
            ) from error
        return _public_response(
            service=site.service,
            offering=site.offering,
            channel=Channel.WIDGET,
            source=site.key,
            kind=site.question,
            score=score,
            comment=comment,
        )


def qr_repeat_window() -> timedelta:
    return timedelta(seconds=float(settings.SERVICELOOP_QR_REPEAT_SECONDS))


def _qr_mark(client: str, at: datetime) -> bool:
    """Mark that `client` answers now; False when it already answered within the window.

    An UPDATE that only matches an old mark, else an INSERT under a unique constraint: two answers of
    one client at once cannot both pass (the second waits for the first's row, or meets its key).
    """
    if QrAnswerMark.objects.filter(client=client, answered_at__lte=at - qr_repeat_window()).update(
        answered_at=at, updated_at=at
    ):
        return True
    try:
        with transaction.atomic():
            QrAnswerMark.objects.create(client=client, answered_at=at, created_at=at)
    except IntegrityError:
        return False
    return True


def qr_response_record(
    *, service: Service, offering: Offering | None, kind: str, score: int, comment: str = "", client: str
) -> Response:
    """An answer on the public "How was it?" page, from someone we do not know (a QR code scan).

    One answer per client (`channel_guards.qr_client_key`) and page within SERVICELOOP_QR_REPEAT_SECONDS,
    held on the server: a client that drops its cookies is still the same client.
    """
    if kind not in PUBLIC_KINDS:
        raise InvalidInput("invalid_scale", "The page asks happiness (0–10) or satisfaction (1–5).", field="kind")
    with transaction.atomic():
        if not _qr_mark(client, clock.now()):
            raise ConflictError("qr_repeat", "We already have your answer from this device; thank you.")
        return _public_response(
            service=service, offering=offering, channel=Channel.QR, source="qr", kind=kind, score=score, comment=comment
        )

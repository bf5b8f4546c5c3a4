"""One-click answers from the invitation email, and the mail-link scanners that fetch every button.

A person clicks one score button. A mail-link scanner (a security gateway, a preview pane) fetches
every button of the message within a second or two, often from several addresses at once. The first
fetch cannot know whether a second will follow, so a click is provisional: it is kept as a pending
`LinkClick` and counts as the answer once SERVICELOOP_SURVEY_SCANNER_SECONDS have passed with no
other button of the same invitation fetched. When another button is fetched within the window,
every click of the window is held, nothing is recorded, and the page asks the person to confirm
(a POST with the page's CSRF token, which no scanner sends).

Why pending and not "record at once, retract later": a response is announced (`response.recorded`)
to rollups, trust evidence and the follow-up of unhappy customers. A scanner fetches 0 first; a
response recorded at once would be a detractor in every figure read during the window and could
open a follow-up with a customer who never answered, and a retraction would need every subscriber
to undo its work. A pending click is seen by nothing but this module: metrics only ever hold answers
a person gave. The cost is a delay of the window (plus the sweep's 10 s) before a single click
counts; a person who answers a follow-up question on the page confirms it at once.

Why per invitation and not per client: scanners fetch from several addresses in parallel, and the
buttons of one invitation are only ever meant for one person; two different scores within seconds
are not a decision a person makes twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from serviceloop.core import clock
from serviceloop.feedback.models import Invitation, LinkClick, Response
from serviceloop.feedback.services.responses import _check_score, response_answer_link

# One sweep counts at most this many invitations; the next run of beat takes the rest.
SWEEP_BATCH = 500


def scanner_window() -> timedelta:
    return timedelta(seconds=float(settings.SERVICELOOP_SURVEY_SCANNER_SECONDS))


@dataclass(frozen=True)
class ClickOutcome:
    """What the page shows after a fetch of a button: the score, and whether a person must confirm it."""

    score: int
    needs_confirmation: bool


def _count_due(invitation: Invitation, *, before: datetime) -> Response | None:
    """Count the invitation's pending clicks whose window has passed (the invitation row is locked).

    Only the last one matters: an earlier pending click of another score would have been held by it.
    """
    due = list(LinkClick.objects.filter(invitation=invitation, state=LinkClick.State.PENDING, clicked_at__lte=before))
    if not due:
        return None
    last = due[-1]
    LinkClick.objects.filter(pk__in=[click.pk for click in due]).update(
        state=LinkClick.State.COUNTED, updated_at=clock.now()
    )
    return response_answer_link(invitation=invitation, score=last.score, at=last.clicked_at)


def link_click_record(*, invitation: Invitation, score: int) -> ClickOutcome:
    """A GET of a score button: kept as a pending click, or held when another button came within the window."""
    _check_score(invitation.survey_version.score_kind, score)
    now = clock.now()
    since = now - scanner_window()
    with transaction.atomic():
        # Lock the invitation: a scanner fetches the buttons in parallel, and each fetch must see the others.
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        _count_due(invitation, before=since)
        recent = LinkClick.objects.filter(invitation=invitation, clicked_at__gt=since)
        if recent.exclude(score=score).exists():
            recent.filter(state=LinkClick.State.PENDING).update(state=LinkClick.State.HELD, updated_at=now)
            LinkClick.objects.create(invitation=invitation, score=score, clicked_at=now, state=LinkClick.State.HELD)
            return ClickOutcome(score=score, needs_confirmation=True)
        if not recent.filter(score=score, state=LinkClick.State.PENDING).exists():
            # The same button fetched twice (a reload, a client that fetches twice) waits as one click.
            LinkClick.objects.create(invitation=invitation, score=score, clicked_at=now, state=LinkClick.State.PENDING)
    return ClickOutcome(score=score, needs_confirmation=False)


def link_click_confirm(*, invitation: Invitation, score: int) -> Response:
    """A person chose (or confirmed) a score on the page: recorded at once; provisional clicks are superseded."""
    _check_score(invitation.survey_version.score_kind, score)
    now = clock.now()
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        LinkClick.objects.filter(
            invitation=invitation, state__in=[LinkClick.State.PENDING, LinkClick.State.HELD]
        ).update(state=LinkClick.State.SUPERSEDED, updated_at=now)
        LinkClick.objects.create(invitation=invitation, score=score, clicked_at=now, state=LinkClick.State.CONFIRMED)
        return response_answer_link(invitation=invitation, score=score, at=now)


def link_click_confirm_pending(*, invitation: Invitation) -> None:
    """A person answered a follow-up on the page that showed their pending click: count it now.

    A held click stays held: the page asks for a confirmation of the score instead.
    """
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        latest = LinkClick.objects.filter(invitation=invitation).order_by("-clicked_at", "-pk").first()
        if latest is None or latest.state != LinkClick.State.PENDING:
            return
        _count_due(invitation, before=latest.clicked_at)


def link_clicks_settle() -> int:
    """The sweep (beat, every 10 s): count every pending click whose window has passed. Idempotent."""
    before = clock.now() - scanner_window()
    invitation_ids = list(
        LinkClick.objects.filter(state=LinkClick.State.PENDING, clicked_at__lte=before)
        .order_by("invitation_id")
        .values_list("invitation_id", flat=True)
        .distinct()[:SWEEP_BATCH]
    )
    counted = 0
    for invitation_id in invitation_ids:
        with transaction.atomic():
            invitation = Invitation.objects.select_for_update().filter(pk=invitation_id).first()
            if invitation is not None and _count_due(invitation, before=before) is not None:
                counted += 1
    return counted


def link_clicks_forget(*, older_than: timedelta) -> int:
    """Housekeeping: clicks past any link's validity matter to nothing (their answers are responses)."""
    cutoff = clock.now() - older_than
    deleted, _ = LinkClick.objects.filter(clicked_at__lt=cutoff).exclude(state=LinkClick.State.PENDING).delete()
    return deleted

"""Fault: the SMTP server is down for hours, far longer than the old retry window (8 retries, back-off
up to 600 s: about 80 minutes, then the mail was dropped in silence).

The clock moves in 150-second steps through three hours, the sweep running at each (beat runs it every
30 s; 150 s divides the 300-second cap, so a retry is never observed late because of the step).
Every mail is retried at most five minutes after its last attempt for as long as the server is
down; when it is back every mail arrives once. A mail whose retry window (72 h) closes is marked
failed and kept, for an operator to send again.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import pytest

from serviceloop.core.mail import mail_retry
from serviceloop.core.models import OutgoingMail
from serviceloop.core.tasks import sweep_once
from serviceloop.core.tests.faults import Mailbox
from serviceloop.desk.models import Ticket
from serviceloop.desk.services import ticket_create, ticket_resolve
from serviceloop.desk.tests.factories import make_person

pytestmark = pytest.mark.django_db

STEP = timedelta(seconds=150)
OUTAGE = timedelta(hours=3)
MAX_GAP = timedelta(minutes=5)
# Per ticket: the acknowledgement, the resolution notice (carrying the survey).
MAILS_PER_TICKET = 2


def _resolve_tickets(count: int, *, alex: Any, service: Any, org_a: Any) -> list[Ticket]:
    tickets = []
    for n in range(count):
        person = make_person(org_a, email=f"requester{n}@acme.example", name=f"Requester {n}")
        ticket = ticket_create(
            requester=person,
            service=service,
            type="incident",
            subject=f"VPN drops {n}",
            body="Every ten minutes.",
            channel="api",
            by=alex,
        )
        tickets.append(ticket_resolve(ticket=ticket, by=alex, resolution="New VPN profile pushed."))
    return tickets


def test_mail_queued_while_smtp_is_down_for_hours_is_retried_every_five_minutes_and_arrives_once(
    mailbox: Mailbox, travel: Any, alex: Any, service: Any, org_a: Any
) -> None:
    mailbox.stop()
    _resolve_tickets(2, alex=alex, service=service, org_a=org_a)
    started = travel.to(travel.now())
    attempts: dict[int, list[datetime]] = {}
    seen: dict[int, int] = {}
    while travel.now() - started < OUTAGE:
        travel.by(seconds=STEP.total_seconds())
        sweep_once()
        now = travel.now()
        for mail in OutgoingMail.objects.all():
            assert mail.status == OutgoingMail.Status.PENDING, (mail.subject, mail.status)
            if mail.attempts != seen.get(mail.pk, 0):
                assert mail.attempts == seen.get(mail.pk, 0) + 1
                seen[mail.pk] = mail.attempts
                attempts.setdefault(mail.pk, []).append(now)
                # The next attempt is planned at most five minutes after this one.
                assert mail.next_attempt_at - now <= MAX_GAP, (mail.subject, mail.next_attempt_at - now)
                assert "ConnectionRefusedError" in mail.last_error

    assert len(attempts) == 2 * MAILS_PER_TICKET
    for times in attempts.values():
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert max(gaps) <= MAX_GAP
        assert times[-1] - times[0] >= OUTAGE - 2 * MAX_GAP  # still trying at the end of the outage
    assert mailbox.count() == 0

    mailbox.start()
    travel.by(minutes=5)
    sweep_once()
    travel.by(minutes=5)
    sweep_once()  # nothing is due any more: no mail goes twice
    tally = mailbox.tally(OutgoingMail.objects.values_list("message_id", flat=True))
    assert (len(tally.lost), len(tally.duplicated), len(tally.unexpected)) == (0, 0, 0), tally
    assert mailbox.count() == 2 * MAILS_PER_TICKET
    assert set(OutgoingMail.objects.values_list("status", flat=True)) == {OutgoingMail.Status.SENT}


def test_a_mail_undeliverable_for_three_days_is_marked_failed_kept_and_sent_once_when_an_operator_retries(
    mailbox: Mailbox, travel: Any, alex: Any, ada: Any, service: Any, org_a: Any
) -> None:
    mailbox.stop()
    _resolve_tickets(1, alex=alex, service=service, org_a=org_a)
    travel.by(seconds=31)
    sweep_once()  # the events are delivered: their mails are queued, and a first attempt fails
    queued = OutgoingMail.objects.earliest("created_at").created_at
    travel.to(queued + timedelta(hours=71, minutes=55))
    sweep_once()
    assert set(OutgoingMail.objects.values_list("status", flat=True)) == {OutgoingMail.Status.PENDING}

    travel.to(queued + timedelta(hours=72, minutes=1))
    sweep_once()
    failed = list(OutgoingMail.objects.all())
    assert len(failed) == MAILS_PER_TICKET
    for mail in failed:
        # Not dropped: the row stays, with its status and the last error, for the operations page.
        assert mail.status == OutgoingMail.Status.FAILED
        assert "ConnectionRefusedError" in mail.last_error
        assert mail.sent_at is None

    mailbox.start()
    travel.by(hours=1)
    sweep_once()
    assert mailbox.count() == 0  # a failed mail waits for an operator; it is not sent behind their back
    for mail in failed:
        mail_retry(mail=mail, by=ada)
    sweep_once()
    sweep_once()
    tally = mailbox.tally(mail.message_id for mail in failed)
    assert (len(tally.lost), len(tally.duplicated), len(tally.unexpected)) == (0, 0, 0), tally

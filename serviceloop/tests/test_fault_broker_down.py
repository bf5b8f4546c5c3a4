"""Fault: the broker is down while people work. Every write answers 2xx at once; nothing is lost.

A broker that hangs instead (it accepts the connection and never answers) costs a process one
socket timeout, not one per event: after a failed kick the process leaves the broker alone for a
while (core.tasks.BROKER_REST_SECONDS).

The app's broker is Redis on a closed port, with production's transport options, and not eager: the
kick after each commit is refused. The outbox rows committed with the changes; the sweep (or a real
worker once a broker is back) delivers every reply notice, resolution notice, invitation and the
password-reset mail, each exactly once (counted by Message-ID at a real SMTP server).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from serviceloop.accounts.testing import api_client_for
from serviceloop.core.models import Event, EventDelivery, OutgoingMail
from serviceloop.core.tasks import outbox_sweep, sweep_once
from serviceloop.core.testing import broker_at, live_worker, wait_until
from serviceloop.core.tests.faults import Mailbox
from serviceloop.desk.models import Ticket
from serviceloop.desk.tests.factories import make_person
from serviceloop.feedback.models import Invitation

# A correctness bound ("the request never hangs on the broker"), not a performance target.
ANSWER_WITHIN = 4.0
TICKETS = 3
# Per ticket: the acknowledgement, the reply notice, the resolution notice (carrying the survey).
MAILS_PER_TICKET = 3


def _timed(call: Callable[[], HttpResponse]) -> HttpResponse:
    started = time.monotonic()
    response = call()
    elapsed = time.monotonic() - started
    assert elapsed < ANSWER_WITHIN, f"answered after {elapsed:.1f}s with the broker down"
    return response


@dataclass
class Workload:
    tickets: list[Ticket]
    requesters: list[str]
    reset_for: str


def _work_while_the_broker_is_down(alex: Any, service: Any, org_a: Any) -> Workload:
    api = api_client_for(alex)
    # The first request of a process builds the URL conf and the API schemas: not the broker's time.
    assert api.get("/api/desk/tickets").status_code == 200
    requesters = [make_person(org_a, email=f"requester{n}@acme.example", name=f"Requester {n}") for n in range(TICKETS)]
    public_ids = []
    for n, person in enumerate(requesters):
        body = {
            "service": service.public_id,
            "requester": person.public_id,
            "subject": f"Printer {n} jams",
            "body": "It jams on every page.",
        }

        def open_ticket(body: dict[str, str] = body, n: int = n) -> HttpResponse:
            return api.post(
                "/api/desk/tickets", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=f"open-{n}"
            )

        opened = _timed(open_ticket)
        assert opened.status_code == 201, opened.content
        # The client did not see the answer and retries: the first answer again, no second ticket.
        retried = _timed(open_ticket)
        assert retried.status_code == 201
        assert retried.json()["public_id"] == opened.json()["public_id"]
        public_id = opened.json()["public_id"]
        public_ids.append(public_id)

        replied = _timed(
            lambda public_id=public_id: api.post(
                f"/api/desk/tickets/{public_id}/messages",
                {"body": "We are on it: a new fuser is on its way."},
                content_type="application/json",
            )
        )
        assert replied.status_code == 201, replied.content
        resolved = _timed(
            lambda public_id=public_id: api.post(
                f"/api/desk/tickets/{public_id}/resolve",
                {"resolution": "Replaced the fuser."},
                content_type="application/json",
            )
        )
        assert resolved.status_code == 200, resolved.content

    reset = _timed(lambda: Client().post(reverse("accounts:password_reset"), {"email": alex.email}))
    assert reset.status_code == 302
    tickets = list(Ticket.objects.filter(public_id__in=public_ids))
    assert len(tickets) == TICKETS == Ticket.objects.count()
    assert all(ticket.status == Ticket.Status.RESOLVED for ticket in tickets)
    return Workload(tickets=tickets, requesters=[p.email for p in requesters], reset_for=alex.email)


def _assert_every_promise_kept_once(mailbox: Mailbox, work: Workload) -> None:
    mails = list(OutgoingMail.objects.values_list("message_id", flat=True))
    assert len(mails) == TICKETS * MAILS_PER_TICKET + 1
    tally = mailbox.tally(mails)
    assert (tally.lost, tally.duplicated, tally.unexpected) == ([], {}, []), tally
    assert set(OutgoingMail.objects.values_list("status", flat=True)) == {OutgoingMail.Status.SENT}
    with mailbox.lock:
        to = [str(message["To"]).lower() for message in mailbox.messages]
    for address in work.requesters:
        assert to.count(address) == MAILS_PER_TICKET, address
    assert to.count(work.reset_for) == 1
    for ticket in work.tickets:
        assert Invitation.objects.filter(ticket=ticket).count() == 1
    assert not EventDelivery.objects.exclude(status=EventDelivery.Status.DELIVERED).exists()
    assert not Event.objects.filter(completed_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_writes_answer_at_once_and_the_sweep_delivers_every_mail_once(
    broker_down: str, mailbox: Mailbox, travel: Any, alex: Any, service: Any, org_a: Any
) -> None:
    work = _work_while_the_broker_is_down(alex, service, org_a)
    assert mailbox.count() == 0  # nobody could be asked to send anything yet
    assert OutgoingMail.objects.count() == 1  # the reset mail; the desk's wait for their events

    for _ in range(3):  # beat runs the sweep every 30 s; the last runs find nothing more to do
        # Past the grace the worker has before the sweep takes an event, again for the events the
        # subscribers record (the invitation a resolution notice carries: `invitation.sent`).
        travel.by(seconds=31)
        sweep_once()
    _assert_every_promise_kept_once(mailbox, work)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_nothing_is_lost_and_a_worker_delivers_once_the_broker_is_back(
    broker_down: str, mailbox: Mailbox, travel: Any, alex: Any, service: Any, org_a: Any
) -> None:
    work = _work_while_the_broker_is_down(alex, service, org_a)
    travel.by(seconds=31)
    with live_worker():
        outbox_sweep.delay()
        mailbox.wait_for(TICKETS * MAILS_PER_TICKET + 1, timeout=30)
        outbox_sweep.delay()  # a second sweep finds nothing to send again
        wait_until(
            lambda: not OutgoingMail.objects.exclude(status=OutgoingMail.Status.SENT).exists(), message="all sent"
        )
        time.sleep(1.5)  # the embedded broker polls about once a second: let the second sweep run
    _assert_every_promise_kept_once(mailbox, work)


@pytest.fixture
def broker_hung(settings: Any) -> Iterator[str]:
    """A broker that accepts connections and never answers (a frozen Redis): each kick waits out the
    socket timeout. Production's options, the timeout shortened to keep the test quick."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)  # the kernel completes the handshakes; nobody ever reads
        options = {**settings.SERVICELOOP_REMOTE_BROKER_OPTIONS, "socket_timeout": HUNG_TIMEOUT}
        with broker_at(f"redis://127.0.0.1:{listener.getsockname()[1]}/0", options):
            yield "hung"


HUNG_TIMEOUT = 1.5


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_hung_only_one_request_waits_for_it_and_nothing_is_lost(
    broker_hung: str, mailbox: Mailbox, travel: Any, alex: Any, service: Any, org_a: Any
) -> None:
    started = time.monotonic()
    work = _work_while_the_broker_is_down(alex, service, org_a)
    # Twelve writes and a reset record about twenty events: one socket timeout in all, not one each.
    assert time.monotonic() - started < 4 * HUNG_TIMEOUT + 6
    for _ in range(3):
        travel.by(seconds=31)  # as beat: every 30 s, past each new event's grace
        sweep_once()
    _assert_every_promise_kept_once(mailbox, work)

"""The IMAP way in, over TLS against a tiny IMAP4rev1 server on loopback (see imap_server.py)."""

from __future__ import annotations

import imaplib
import ssl
from typing import Any

import pytest

from serviceloop.desk.mail_tasks import poll_mailbox as poll_task
from serviceloop.desk.mail_transport import poll_mailbox
from serviceloop.desk.models import InboundMail, Ticket
from serviceloop.desk.tests.imap_server import CERT, ImapServer, Mailbox
from serviceloop.desk.tests.mail_factories import many_parts_mail, raw_mail
from serviceloop.relationships.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox(user="desk@serviceloop.localhost", password="imap-pass")


@pytest.fixture
def imap(mailbox: Mailbox, settings: Any) -> Any:
    with ImapServer(mailbox) as server:
        settings.SERVICELOOP_IMAP_HOST = "127.0.0.1"
        settings.SERVICELOOP_IMAP_PORT = server.port
        settings.SERVICELOOP_IMAP_USER = mailbox.user
        settings.SERVICELOOP_IMAP_PASSWORD = mailbox.password
        settings.SERVICELOOP_IMAP_CA_FILE = str(CERT)
        yield server


def test_unseen_mail_is_stored_marked_seen_after_commit_and_applied_by_the_worker(
    carol_person: Person, mailbox: Mailbox, imap: Any, django_capture_on_commit_callbacks: Any
) -> None:
    mailbox.messages += [raw_mail(subject="Scanner offline"), raw_mail(subject="Out", headers={"Precedence": "bulk"})]
    with django_capture_on_commit_callbacks(execute=True):
        result = poll_task.delay().get()
        # The poll only stores: nothing is parsed before the worker takes `mail.received`.
        assert (result["fetched"], result["received"]) == (2, 2)
        assert not Ticket.objects.exists()
    assert Ticket.objects.get().subject == "Scanner offline"
    assert sorted(InboundMail.objects.values_list("source", "outcome")) == [("imap", "created"), ("imap", "ignored")]
    assert mailbox.seen == {1, 2}
    assert any(command.startswith("FETCH 1 (BODY.PEEK[])") for command in mailbox.commands)


def test_seen_mail_is_not_fetched_again(
    carol_person: Person, mailbox: Mailbox, imap: Any, django_capture_on_commit_callbacks: Any
) -> None:
    mailbox.messages.append(raw_mail())
    with django_capture_on_commit_callbacks(execute=True):
        poll_mailbox()
    again = poll_mailbox()
    assert again.fetched == 0
    assert Ticket.objects.count() == 1
    assert InboundMail.objects.count() == 1


def test_a_mail_over_the_size_limit_is_recorded_rejected_without_being_downloaded(
    carol_person: Person, mailbox: Mailbox, imap: Any, settings: Any
) -> None:
    settings.SERVICELOOP_MAIL_MAX_BYTES = 2000
    mailbox.messages.append(raw_mail(body="x" * 3000))
    result = poll_mailbox()
    assert result.outcomes == {"rejected": 1}
    log = InboundMail.objects.get()
    assert (log.outcome, log.raw, log.size > 2000) == ("rejected", b"", True)
    assert log.reason.startswith("mail_too_large:")
    assert not any("BODY.PEEK" in command for command in mailbox.commands)
    assert mailbox.seen == {1}


def test_a_hostile_mail_fetched_over_imap_is_rejected_by_the_worker_with_the_limit_it_passed(
    carol_person: Person, mailbox: Mailbox, imap: Any, django_capture_on_commit_callbacks: Any
) -> None:
    mailbox.messages.append(many_parts_mail(5_000))
    with django_capture_on_commit_callbacks(execute=True):
        poll_mailbox()
    log = InboundMail.objects.get()
    assert (log.outcome, log.source) == ("rejected", "imap")
    assert log.reason.startswith("too_many_parts:")
    assert not Ticket.objects.exists()


def test_the_poll_task_has_a_time_limit_and_the_connection_a_socket_timeout(
    carol_person: Person, mailbox: Mailbox, imap: Any, settings: Any, monkeypatch: Any
) -> None:
    assert (poll_task.soft_time_limit, poll_task.time_limit) == (75, 105)
    timeouts: list[float | None] = []
    real = imaplib.IMAP4_SSL._create_socket

    def spy(self: Any, timeout: float | None = None) -> Any:
        timeouts.append(timeout)
        return real(self, timeout)

    monkeypatch.setattr(imaplib.IMAP4_SSL, "_create_socket", spy)
    settings.SERVICELOOP_IMAP_TIMEOUT = 7
    poll_mailbox()
    assert timeouts == [7]


def test_the_certificate_is_verified(carol_person: Person, mailbox: Mailbox, imap: Any, settings: Any) -> None:
    settings.SERVICELOOP_IMAP_CA_FILE = ""
    mailbox.messages.append(raw_mail())
    with pytest.raises(ssl.SSLCertVerificationError):
        poll_mailbox()
    assert not Ticket.objects.exists()


def test_nothing_happens_when_imap_is_not_configured(settings: Any) -> None:
    settings.SERVICELOOP_IMAP_HOST = ""
    assert poll_mailbox().fetched == 0

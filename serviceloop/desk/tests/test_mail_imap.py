"""The IMAP way in, over TLS against a tiny IMAP4rev1 server on loopback (see imap_server.py)."""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from serviceloop.desk.mail_tasks import poll_mailbox as poll_task
from serviceloop.desk.mail_transport import poll_mailbox
from serviceloop.desk.models import InboundMail, Ticket
from serviceloop.desk.tests.imap_server import CERT, ImapServer, Mailbox
from serviceloop.desk.tests.mail_factories import raw_mail
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


def test_unseen_mail_becomes_tickets_and_is_marked_seen_after_commit(
    carol_person: Person, mailbox: Mailbox, imap: Any
) -> None:
    mailbox.messages += [raw_mail(subject="Scanner offline"), raw_mail(subject="Out", headers={"Precedence": "bulk"})]
    result = poll_task.delay().get()
    assert (result["fetched"], result["created"], result["ignored"]) == (2, 1, 1)
    assert Ticket.objects.get().subject == "Scanner offline"
    assert sorted(InboundMail.objects.values_list("source", flat=True)) == ["imap", "imap"]
    assert mailbox.seen == {1, 2}
    assert any(command.startswith("FETCH 1 (BODY.PEEK[])") for command in mailbox.commands)


def test_seen_mail_is_not_fetched_again(carol_person: Person, mailbox: Mailbox, imap: Any) -> None:
    mailbox.messages.append(raw_mail())
    poll_mailbox()
    again = poll_mailbox()
    assert again.fetched == 0
    assert Ticket.objects.count() == 1


def test_the_certificate_is_verified(carol_person: Person, mailbox: Mailbox, imap: Any, settings: Any) -> None:
    settings.SERVICELOOP_IMAP_CA_FILE = ""
    mailbox.messages.append(raw_mail())
    with pytest.raises(ssl.SSLCertVerificationError):
        poll_mailbox()
    assert not Ticket.objects.exists()


def test_nothing_happens_when_imap_is_not_configured(settings: Any) -> None:
    settings.SERVICELOOP_IMAP_HOST = ""
    assert poll_mailbox().fetched == 0

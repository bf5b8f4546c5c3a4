"""The widget's form tickets and the QR page's client key, without the database."""

from __future__ import annotations

import time

import pytest
from django.core import signing

from serviceloop.feedback.channel_guards import (
    WIDGET_SALT,
    TicketRefused,
    qr_client_key,
    ticket_issue,
    ticket_read,
)

ORIGINS = ["https://intranet.acme.example"]


def test_a_ticket_reads_back_on_its_own_site_with_a_fresh_nonce_each_time() -> None:
    first = ticket_read(ticket_issue(site_key="a", origins=ORIGINS, embedder=ORIGINS[0]), site_key="a", origins=ORIGINS)
    second = ticket_read(ticket_issue(site_key="a", origins=ORIGINS, embedder=None), site_key="a", origins=ORIGINS)
    assert first.embedder == ORIGINS[0] and second.embedder == ""
    assert first.nonce != second.nonce and len(first.nonce) >= 20


@pytest.mark.parametrize(
    ("site_key", "origins", "message"),
    [
        ("b", ORIGINS, "another feedback widget"),
        ("a", ["https://portal.acme.example"], "settings changed"),
    ],
)
def test_a_ticket_is_refused_elsewhere(site_key: str, origins: list[str], message: str) -> None:
    ticket = ticket_issue(site_key="a", origins=ORIGINS, embedder=None)
    with pytest.raises(TicketRefused, match=message):
        ticket_read(ticket, site_key=site_key, origins=origins)


def test_an_expired_or_foreign_ticket_is_refused() -> None:
    class Earlier(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time()) - 25 * 3600)

    old = Earlier(salt=WIDGET_SALT).sign_object({"k": "a", "o": "x", "e": "", "n": "n"}, compress=True)
    with pytest.raises(TicketRefused, match="expired"):
        ticket_read(old, site_key="a", origins=ORIGINS)
    with pytest.raises(TicketRefused, match="not valid"):
        ticket_read(signing.dumps("a", salt=WIDGET_SALT), site_key="a", origins=ORIGINS)
    with pytest.raises(TicketRefused, match="no ticket"):
        ticket_read("", site_key="a", origins=ORIGINS)


def test_the_qr_client_key_is_keyed_and_names_no_address() -> None:
    key = qr_client_key(address="203.0.113.9", user_agent="Phone", page="svc")
    assert len(key) == 64 and "203.0.113.9" not in key
    assert key == qr_client_key(address="203.0.113.9", user_agent="Phone", page="svc")
    assert key != qr_client_key(address="203.0.113.10", user_agent="Phone", page="svc")
    assert key != qr_client_key(address="203.0.113.9", user_agent="Phone", page="svc/offering")

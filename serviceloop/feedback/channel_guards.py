"""Pure helpers that keep anonymous answers honest: the widget's form tickets and the QR page's client key.

A widget form ticket is signed (Django signing, our own salt) and names the site it was issued for,
a digest of that site's allowed origins, the origin of the page that framed it (when the browser
said) and a random nonce. A ticket of one site is refused on another; a ticket issued before the
site's origins changed is refused; the nonce makes it single-use (`WidgetTicketUse`, unique).

The QR page's client key is a keyed hash (HMAC-SHA256 with the secret key) of the client's address,
its User-Agent and the page: the page can tell a repeat from the same client without storing where
anybody came from.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.core import signing
from django.utils.crypto import salted_hmac

WIDGET_SALT = "serviceloop.feedback.widget-ticket"
# A widget form may sit open in a tab for a day; its used-ticket row is kept as long.
WIDGET_TICKET_HOURS = 24
_QR_KEY_SALT = "serviceloop.feedback.qr-client"


class TicketRefused(Exception):
    """The ticket cannot be used here; the message says what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class WidgetTicket:
    nonce: str
    embedder: str  # origin of the framing page, "" when the browser did not send a Referer


def origins_digest(origins: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(origins)).encode()).hexdigest()[:16]


def ticket_issue(*, site_key: str, origins: Iterable[str], embedder: str | None) -> str:
    payload = {"k": site_key, "o": origins_digest(origins), "e": embedder or "", "n": secrets.token_urlsafe(18)}
    return signing.dumps(payload, salt=WIDGET_SALT, compress=True)


def ticket_read(token: str, *, site_key: str, origins: list[str]) -> WidgetTicket:
    """The ticket's nonce and embedder when it was issued for this site as it is configured now."""
    if not token:
        raise TicketRefused("The form has no ticket; reload the page.")
    try:
        payload = signing.loads(token, salt=WIDGET_SALT, max_age=WIDGET_TICKET_HOURS * 3600)
    except signing.SignatureExpired as error:
        raise TicketRefused("The form has expired; reload the page.") from error
    except signing.BadSignature as error:
        raise TicketRefused("The form's ticket is not valid; reload the page.") from error
    if not isinstance(payload, dict) or not all(isinstance(payload.get(name), str) for name in "koen"):
        raise TicketRefused("The form's ticket is not valid; reload the page.")
    if payload["k"] != site_key:
        raise TicketRefused("This form belongs to another feedback widget.")
    if payload["o"] != origins_digest(origins):
        raise TicketRefused("The widget's settings changed since the form was shown; reload the page.")
    if payload["e"] and payload["e"] not in origins:
        raise TicketRefused("This page may not send answers to this widget.")
    return WidgetTicket(nonce=payload["n"], embedder=payload["e"])


def qr_client_key(*, address: str, user_agent: str, page: str) -> str:
    """A keyed hash of who answers which page; the address cannot be read back from it."""
    value = f"{address}\n{user_agent[:500]}\n{page}"
    return salted_hmac(_QR_KEY_SALT, value, algorithm="sha256").hexdigest()

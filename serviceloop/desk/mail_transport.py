"""The IMAP way in: fetch unseen mail over TLS, apply each, mark it seen only after its commit.

Messages are fetched with BODY.PEEK[] (a plain RFC822 fetch would mark them seen at once): a mail
whose processing fails stays unseen and is tried again at the next poll; applying is idempotent by
Message-ID, so a mail applied but not yet marked seen (a crash in between) is not duplicated.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import ssl
from dataclasses import dataclass, field

from django.conf import settings

from serviceloop.desk.mail_parse import MailParseError
from serviceloop.desk.models import InboundMail
from serviceloop.desk.services.mail_in import mail_receive

logger = logging.getLogger(__name__)


@dataclass
class PollResult:
    fetched: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    failed: int = 0


def imap_configured() -> bool:
    return bool(settings.SERVICELOOP_IMAP_HOST and settings.SERVICELOOP_IMAP_USER)


def _context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.SERVICELOOP_IMAP_CA_FILE:
        context.load_verify_locations(cafile=settings.SERVICELOOP_IMAP_CA_FILE)
    return context


def _raw(data: list[object]) -> bytes | None:
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def poll_mailbox(*, limit: int = 200, ssl_context: ssl.SSLContext | None = None) -> PollResult:
    """One poll of the configured mailbox over TLS (IMAP4_SSL, certificate verified)."""
    result = PollResult()
    if not imap_configured():
        return result
    client = imaplib.IMAP4_SSL(
        settings.SERVICELOOP_IMAP_HOST,
        settings.SERVICELOOP_IMAP_PORT,
        ssl_context=ssl_context or _context(),
        timeout=30,
    )
    try:
        client.login(settings.SERVICELOOP_IMAP_USER, settings.SERVICELOOP_IMAP_PASSWORD)
        client.select(settings.SERVICELOOP_IMAP_FOLDER)
        _status, found = client.search(None, "UNSEEN")
        numbers = (found[0] or b"").split()[:limit]
        for number in numbers:
            _status, data = client.fetch(number.decode(), "(BODY.PEEK[])")
            raw = _raw(list(data or []))
            if raw is None:
                result.failed += 1
                continue
            result.fetched += 1
            try:
                applied = mail_receive(raw=raw, source=InboundMail.Source.IMAP)
                outcome = applied.outcome
            except MailParseError as error:
                logger.warning("IMAP message %s is not a mail: %s", number.decode(), error)
                outcome = "not_a_mail"
            except Exception:
                # Left unseen: tried again at the next poll.
                logger.exception("IMAP message %s could not be applied", number.decode())
                result.failed += 1
                continue
            # mail_receive committed (its own transaction): only now is the mail marked seen.
            client.store(number.decode(), "+FLAGS", "(\\Seen)")
            result.outcomes[outcome] = result.outcomes.get(outcome, 0) + 1
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()
    return result

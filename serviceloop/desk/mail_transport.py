"""The IMAP way in: fetch unseen mail over TLS, store each, mark it seen only after its commit.

Messages are fetched with BODY.PEEK[] (a plain RFC822 fetch would mark them seen at once): a mail
that could not be stored stays unseen and is tried again at the next poll. Storing only keeps the
raw mail (`mail_store`); the worker parses and applies it through `mail.received`, idempotent by
Message-ID, so a mail stored but not yet marked seen (a crash in between) is not duplicated. The
size is asked first (RFC822.SIZE): a mail over SERVICELOOP_MAIL_MAX_BYTES is recorded as rejected
without being downloaded. Every socket operation has SERVICELOOP_IMAP_TIMEOUT, and a poll stops
fetching after POLL_BUDGET_SECONDS (the rest waits for the next poll).
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import ssl
import time
from dataclasses import dataclass, field

from django.conf import settings

from serviceloop.core.errors import DomainError
from serviceloop.desk.models import InboundMail
from serviceloop.desk.services.mail_in import MailTooLarge, mail_refused, mail_store

logger = logging.getLogger(__name__)

POLL_BUDGET_SECONDS = 45
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)", re.IGNORECASE)


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


def _size(data: list[object]) -> int | None:
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        if isinstance(line, bytes) and (match := _SIZE.search(line)):
            return int(match.group(1))
    return None


def _store_one(client: imaplib.IMAP4, number: str) -> str | None:
    """Store (or record the refusal of) one message; its outcome, or None when it must stay unseen."""
    _status, sized = client.fetch(number, "(RFC822.SIZE)")
    size = _size(list(sized or []))
    if size is not None and size > int(settings.SERVICELOOP_MAIL_MAX_BYTES):
        refusal = MailTooLarge.for_size(size)
        mail_refused(source=InboundMail.Source.IMAP, size=size, reason=f"{refusal.code}: {refusal.message}")
        return InboundMail.Outcome.REJECTED
    _status, data = client.fetch(number, "(BODY.PEEK[])")
    raw = _raw(list(data or []))
    if raw is None:
        return None
    try:
        return mail_store(raw=raw, source=InboundMail.Source.IMAP).outcome
    except DomainError as error:  # over the size limit after all, or not a mail: recorded, never retried
        mail_refused(source=InboundMail.Source.IMAP, size=len(raw), reason=f"{error.code}: {error.message}")
        return InboundMail.Outcome.REJECTED


def poll_mailbox(*, limit: int = 200, ssl_context: ssl.SSLContext | None = None) -> PollResult:
    """One poll of the configured mailbox over TLS (IMAP4_SSL, certificate verified)."""
    result = PollResult()
    if not imap_configured():
        return result
    started = time.monotonic()
    client = imaplib.IMAP4_SSL(
        settings.SERVICELOOP_IMAP_HOST,
        settings.SERVICELOOP_IMAP_PORT,
        ssl_context=ssl_context or _context(),
        timeout=float(settings.SERVICELOOP_IMAP_TIMEOUT),
    )
    try:
        client.login(settings.SERVICELOOP_IMAP_USER, settings.SERVICELOOP_IMAP_PASSWORD)
        client.select(settings.SERVICELOOP_IMAP_FOLDER)
        _status, found = client.search(None, "UNSEEN")
        numbers = (found[0] or b"").split()[:limit]
        for number in numbers:
            if time.monotonic() - started > POLL_BUDGET_SECONDS:
                break  # the rest stays unseen for the next poll
            try:
                outcome = _store_one(client, number.decode())
            except (imaplib.IMAP4.error, OSError):
                raise  # the connection is gone: what is not marked seen is fetched again next time
            except Exception:
                # Left unseen: tried again at the next poll.
                logger.exception("IMAP message %s could not be stored", number.decode())
                result.failed += 1
                continue
            if outcome is None:
                result.failed += 1
                continue
            result.fetched += 1
            # The mail's row committed (its own transaction): only now is the mail marked seen.
            client.store(number.decode(), "+FLAGS", "(\\Seen)")
            result.outcomes[outcome] = result.outcomes.get(outcome, 0) + 1
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()
    return result

"""The result types of the mail parser: what the desk service receives for one inbound mail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .auth import AuthResults

# Our own outbound mail carries this header; seeing it inbound means a mail loop.
LOOP_HEADER = "X-Serviceloop-Loop"


class MailParseError(ValueError):
    """The input is not a mail at all (empty, binary, or text without a header block)."""


@dataclass(frozen=True)
class ParsedAttachment:
    """One file carried by the mail: a real attachment or an inline image."""

    filename: str
    content_type: str
    content: bytes
    content_id: str | None
    inline: bool

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class ParsedMail:
    """Everything the desk needs from one inbound mail, decoded and normalised."""

    from_email: str
    from_name: str
    to: list[str]
    cc: list[str]
    reply_to: str | None
    subject: str
    message_id: str | None
    in_reply_to: list[str]
    references: list[str]
    date: datetime | None
    is_auto_reply: bool
    is_bounce: bool
    auto_reason: str | None
    body_text: str
    full_text: str
    body_was_html: bool
    attachments: list[ParsedAttachment]
    ticket_references: list[str]
    # The receiving server's verdict on the sender (the trusted Authentication-Results; see auth.py).
    authentication: AuthResults = field(default_factory=AuthResults)

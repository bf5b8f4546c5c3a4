"""parse_message: raw bytes of one inbound mail in, a ParsedMail out."""

from __future__ import annotations

import dataclasses
import email.policy
from email.message import Message
from email.parser import BytesParser
from typing import Any, TypeVar

from .auth import authentication_results
from .body import collect, iter_parts, param
from .charsets import detect_charset, has_surrogates, is_permissive, without_surrogates
from .detect import find_ticket_references, judge
from .headers import POLICY_ERRORS, Headers, prepare
from .limits import MailLimits, check_limits
from .model import ParsedMail
from .trim import trim_reply

T = TypeVar("T")

# Charsets declared anywhere in the mail are the best guess for raw 8-bit headers; looking at
# more parts than this buys nothing.
_MAX_GUESS_PARTS = 200


def _charset_guesses(message: Message, items: list[tuple[str, str]]) -> tuple[str, ...]:
    guesses: list[str] = []
    for part in iter_parts(message, _MAX_GUESS_PARTS):
        charset = param(part, "charset")
        # Single-byte charsets decode anything, so they would hide a better multi-byte guess.
        if charset and not is_permissive(charset) and charset.lower() not in guesses:
            guesses.append(charset.lower())
    # Then what the raw 8-bit header text of the whole mail reads as: one mailer wrote all of it
    # in one charset, and a subject alone is often too short for the detector.
    detected = detect_charset(_raw_header_bytes(items))
    if detected is not None and detected not in guesses:
        guesses.append(detected)
    return tuple(guesses)


def _raw_header_bytes(items: list[tuple[str, str]]) -> bytes:
    values = [value.encode("utf-8", "surrogateescape") for _, value in items if has_surrogates(value)]
    return b"\n".join(value for value in values if not _is_utf8(value))


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _sender(headers: Headers) -> tuple[str, str]:
    # Without a From, Reply-To is where the author wants answers; Return-Path is the envelope
    # sender, often a bounce-handling address, so it comes last.
    for name in ("from", "sender", "reply-to", "return-path"):
        addresses = headers.addresses(name)
        if addresses:
            display_name, address = addresses[0]
            return address, display_name
    return "", ""


def _read(data: bytes) -> Message:
    """The parsed message, from the most to the least capable reading that works.

    The default policy parses Content-Type while reading the structure and raises on some broken
    ones; compat32 reads every header as plain text (the rest of this package uses only the API
    both share). Even compat32 gives up on some MIME parameters (a NUL in a boundary's charset)
    and on hostile nesting (RecursionError); the headers alone always parse, and the body is then
    read as one text.
    """
    try:
        return BytesParser(policy=email.policy.default).parsebytes(data)
    except (*POLICY_ERRORS, RecursionError):
        pass
    try:
        return BytesParser(policy=email.policy.compat32).parsebytes(data)
    except (*POLICY_ERRORS, RecursionError):
        return BytesParser(policy=email.policy.compat32).parsebytes(data, headersonly=True)


def parse_message(raw: bytes, *, limits: MailLimits | None = None, authserv_id: str = "") -> ParsedMail:
    """Parse one raw RFC 5322 mail. Raises MailParseError for input that is not a mail, and its
    subclass MailLimitError, before anything is built, for a mail beyond `limits`.

    `authserv_id` names the receiving server whose Authentication-Results is trusted (see auth.py).
    """
    data = prepare(bytes(raw))
    if limits is not None:
        check_limits(data, limits)
    message = _read(data)
    items = [(str(name), str(value)) for name, value in message.raw_items()]
    guesses = _charset_guesses(message, items)
    headers = Headers(items, guesses)
    found = collect(message, guesses)

    from_email, from_name = _sender(headers)
    subject = headers.text("subject")
    texts = [(text.strip("\n").rstrip(), was_html) for text, was_html in found.texts]
    texts = [(text, was_html) for text, was_html in texts if text.strip()]
    full_text = "\n\n".join(text for text, _ in texts)
    verdict = judge(headers, from_email, subject, found.report_types, found.part_types)
    reply_to = headers.addresses("reply-to")
    message_ids = headers.ids("message-id")
    mail = ParsedMail(
        from_email=from_email,
        from_name=from_name,
        to=_unique([address for _, address in headers.addresses("to")]),
        cc=_unique([address for _, address in headers.addresses("cc")]),
        reply_to=reply_to[0][1] if reply_to else None,
        subject=subject,
        message_id=message_ids[0] if message_ids else None,
        in_reply_to=headers.ids("in-reply-to"),
        references=headers.ids("references"),
        date=headers.date(),
        is_auto_reply=verdict.is_auto_reply,
        is_bounce=verdict.is_bounce,
        auto_reason=verdict.reason,
        body_text=trim_reply(full_text) if full_text else "",
        full_text=full_text,
        body_was_html=bool(texts) and all(was_html for _, was_html in texts),
        attachments=found.attachments,
        ticket_references=find_ticket_references(subject),
        authentication=authentication_results(headers.all("authentication-results"), authserv_id),
    )
    return _scrubbed(mail)


def _scrubbed(value: T) -> T:
    """Every text of the result without surrogates: bytes no charset explained (kept by the email
    package as surrogate escapes) become U+FFFD, so the result can be stored and printed as UTF-8."""
    if isinstance(value, str):
        return without_surrogates(value)  # type: ignore[return-value]
    if isinstance(value, list):
        return [_scrubbed(item) for item in value]  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _scrubbed(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        return dataclasses.replace(value, **changes)  # type: ignore[return-value]
    return value


def parsed_to_json(mail: ParsedMail) -> dict[str, Any]:
    """Every field as JSON-ready values; attachments without their bytes."""
    return {
        "from_email": mail.from_email,
        "from_name": mail.from_name,
        "to": list(mail.to),
        "cc": list(mail.cc),
        "reply_to": mail.reply_to,
        "subject": mail.subject,
        "message_id": mail.message_id,
        "in_reply_to": list(mail.in_reply_to),
        "references": list(mail.references),
        "date": mail.date.isoformat() if mail.date else None,
        "is_auto_reply": mail.is_auto_reply,
        "is_bounce": mail.is_bounce,
        "auto_reason": mail.auto_reason,
        "body_text": mail.body_text,
        "full_text": mail.full_text,
        "body_was_html": mail.body_was_html,
        "attachments": [
            {
                "filename": attachment.filename,
                "content_type": attachment.content_type,
                "size": attachment.size,
                "inline": attachment.inline,
            }
            for attachment in mail.attachments
        ],
        "ticket_references": list(mail.ticket_references),
        "authentication": {
            "authserv_id": mail.authentication.authserv_id,
            "dmarc": mail.authentication.dmarc,
            "dmarc_domain": mail.authentication.dmarc_domain,
            "dkim": mail.authentication.dkim,
            "spf": mail.authentication.spf,
        },
    }


# The header block decides whether input is a mail; a longer one than this is read only in the worker.
_HEAD_CHECK_BYTES = 64 * 1024


def check_is_mail(raw: bytes) -> None:
    """Raise MailParseError when raw is not a mail at all; reads only the start of the header block.

    Cheap enough for a web request (it builds nothing): the full parse happens in the worker.
    """
    prepare(bytes(raw[:_HEAD_CHECK_BYTES]))

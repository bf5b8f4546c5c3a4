"""The MIME tree: which parts are the text of the mail, which are attachments."""

from __future__ import annotations

import functools
import io
import mimetypes
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.generator import BytesGenerator
from email.message import Message
from email.policy import compat32
from email.utils import collapse_rfc2231_value
from typing import TypeVar

from .charsets import decode_bytes, decode_words, undo_surrogates
from .headers import POLICY_ERRORS, Headers
from .html_text import html_to_text
from .model import ParsedAttachment

T = TypeVar("T")

# Deeper nesting than this is an attack, not a mail; the parts below it are ignored.
_MAX_DEPTH = 60

_BODY_TYPES = frozenset({"text/plain", "text/html"})

# Extensions for generated file names; mimetypes has no entry for several mail-specific types.
_EXTENSIONS = {
    "text/plain": ".txt",
    "text/html": ".html",
    "text/csv": ".csv",
    "text/calendar": ".ics",
    "text/vcard": ".vcf",
    "text/x-vcard": ".vcf",
    "text/rfc822-headers": ".txt",
    "message/rfc822": ".eml",
    "message/global": ".eml",
    "message/delivery-status": ".txt",
    "message/disposition-notification": ".txt",
    "image/jpeg": ".jpg",
    "application/pgp-signature": ".asc",
    "application/pkcs7-signature": ".p7s",
    "application/x-pkcs7-signature": ".p7s",
    "application/ms-tnef": ".dat",
    "application/octet-stream": ".bin",
}

_UNSAFE_FILENAME_CHARS = re.compile(r'[<>:"|?*\x00-\x1f\x7f]')
_MAX_FILENAME = 200
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@functools.cache
def _mime_table() -> mimetypes.MimeTypes:
    # A private table built from Python's defaults only, so that names do not depend on the
    # machine's /etc/mime.types.
    return mimetypes.MimeTypes()


def _safe(call: Callable[[], T], default: T) -> T:
    """The email package's lazy header objects raise on broken headers; one bad header must not
    cost the whole mail."""
    try:
        return call()
    except POLICY_ERRORS:
        return default


@dataclass
class Collected:
    """What the walk over the MIME tree found."""

    texts: list[tuple[str, bool]] = field(default_factory=list)  # (text, came from HTML)
    attachments: list[ParsedAttachment] = field(default_factory=list)
    report_types: list[str] = field(default_factory=list)
    part_types: set[str] = field(default_factory=set)

    def merge_attachments(self, other: Collected) -> None:
        self.attachments.extend(other.attachments)
        self.report_types.extend(other.report_types)
        self.part_types |= other.part_types


@dataclass
class _Walk:
    guesses: tuple[str, ...]
    counter: list[int] = field(default_factory=lambda: [0])

    def next_number(self) -> int:
        self.counter[0] += 1
        return self.counter[0]


def collect(message: Message, guesses: tuple[str, ...]) -> Collected:
    """Walk the message: body texts in order, attachments, and report types seen."""
    found = Collected()
    _walk(message, found, _Walk(guesses), 0)
    return found


def content_type(part: Message) -> str:
    ctype = _safe(part.get_content_type, "")
    if not ctype:
        raw = str(part.get("content-type", "") or "")
        ctype = raw.split(";", 1)[0].strip().lower() or "text/plain"
    return ctype.lower()


def _disposition(part: Message) -> str | None:
    disposition = _safe(part.get_content_disposition, None)
    if disposition is None:
        raw = _raw_header(part, "content-disposition")
        disposition = raw.split(";", 1)[0].strip().lower() or None
    return disposition


def _raw_header(part: Message, name: str) -> str:
    for key, value in part.raw_items():
        if key.lower() == name:
            return str(value)
    return ""


def param(part: Message, name: str, header: str = "content-type") -> str | None:
    value = _safe(lambda: part.get_param(name, header=header), None)
    if isinstance(value, tuple):
        # An RFC 2231 value that the email package left split: (charset, language, text).
        return _safe(lambda: collapse_rfc2231_value(value), None)
    return value if isinstance(value, str) else None


def iter_parts(message: Message, limit: int) -> list[Message]:
    """The first parts of the tree, breadth first, without recursion (nesting can be hostile)."""
    parts: list[Message] = []
    queue = deque([message])
    while queue and len(parts) < limit:
        part = queue.popleft()
        parts.append(part)
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            queue.extend(child for child in payload if isinstance(child, Message))
    return parts


def _walk(part: Message, found: Collected, walk: _Walk, depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    ctype = content_type(part)
    found.part_types.add(ctype)
    if ctype.startswith("message/"):
        found.attachments.append(_attachment(part, ctype, walk))
        return
    if part.is_multipart():
        if ctype == "multipart/report":
            found.report_types.append((param(part, "report-type") or "").lower())
        payload = part.get_payload()
        children = [child for child in payload if isinstance(child, Message)] if isinstance(payload, list) else []
        if ctype == "multipart/alternative":
            _walk_alternative(children, found, walk, depth)
        else:
            for child in children:
                _walk(child, found, walk, depth + 1)
        return
    if ctype.startswith("multipart/"):
        # The boundary was missing or wrong, so the parts could not be told apart: what is there
        # is text a human may need to read, not a file.
        found.texts.append((_decode_text(part, walk), False))
        return
    if ctype in _BODY_TYPES and _disposition(part) != "attachment" and not _filename(part, walk):
        text = _decode_text(part, walk)
        is_html = ctype == "text/html"
        found.texts.append((html_to_text(text) if is_html else text, is_html))
        return
    found.attachments.append(_attachment(part, ctype, walk))


def _walk_alternative(children: list[Message], found: Collected, walk: _Walk, depth: int) -> None:
    """Pick one rendering for the text (plain preferred), but keep the attachments of all: an
    image pasted into the HTML rendering lives only there."""
    renderings: list[Collected] = []
    for child in children:
        rendering = Collected()
        _walk(child, rendering, walk, depth + 1)
        renderings.append(rendering)
        found.merge_attachments(rendering)
    with_plain = [r for r in renderings if any(t.strip() and not h for t, h in r.texts)]
    with_text = [r for r in renderings if any(t.strip() for t, _ in r.texts)]
    # RFC 2046 orders alternatives from plainest to richest, so the last one is the best HTML.
    chosen = with_plain[0] if with_plain else (with_text[-1] if with_text else None)
    if chosen is not None:
        found.texts.extend(chosen.texts)


def clean_text(text: str) -> str:
    """One line-ending convention, no control characters that would upset a database or a page."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_CHARS.sub("", text)


def _decode_text(part: Message, walk: _Walk) -> str:
    payload = _safe(lambda: part.get_payload(decode=True), None)
    if not isinstance(payload, bytes):
        return ""
    charset = param(part, "charset")
    return clean_text(decode_bytes(payload, charset, walk.guesses))


def _payload_bytes(part: Message) -> bytes:
    if not part.is_multipart():
        payload = _safe(lambda: part.get_payload(decode=True), None)
        return payload if isinstance(payload, bytes) else b""
    # message/* parts arrive parsed; write them back out as they came and drop the part's own
    # header block. compat32 writes stored header values unchanged, 8-bit bytes included.
    buffer = io.BytesIO()
    generator = BytesGenerator(buffer, mangle_from_=False, policy=compat32)
    try:
        generator.flatten(part)
    except (*POLICY_ERRORS, UnicodeError, RecursionError):
        return b""
    data = buffer.getvalue()
    if data.startswith(b"\n"):
        return data[1:]
    _, _, body = data.partition(b"\n\n")
    return body


def _filename(part: Message, walk: _Walk) -> str:
    name = _safe(part.get_filename, None)
    if name is None:
        # The default policy could not read the header; compat32 parsing of the raw value can.
        fallback = Message()
        for header in ("content-disposition", "content-type"):
            raw = _raw_header(part, header)
            if raw:
                fallback[header] = raw
        name = _safe(fallback.get_filename, None)
    if not name:
        return ""
    # Outlook puts RFC 2047 words inside the quoted parameter, which RFC 2047 forbids.
    return safe_filename(decode_words(undo_surrogates(str(name), walk.guesses), walk.guesses))


def safe_filename(name: str) -> str:
    """A file name without path parts, control or shell-special characters, or a leading dot."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_FILENAME_CHARS.sub("_", name)
    name = " ".join(name.split()).strip(". ")
    if len(name) > _MAX_FILENAME:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[: _MAX_FILENAME - len(extension) - 1] + "." + extension
        else:
            name = name[:_MAX_FILENAME]
    return name


def _extension(ctype: str) -> str:
    return _EXTENSIONS.get(ctype) or _mime_table().guess_extension(ctype) or ".bin"


def _generated_filename(part: Message, ctype: str, walk: _Walk) -> str:
    stem = ""
    if ctype in ("message/rfc822", "message/global") and part.is_multipart():
        inner = part.get_payload(0)
        if isinstance(inner, Message):
            stem = Headers(list(inner.raw_items()), walk.guesses).text("subject")
    if not safe_filename(stem):
        stem = " ".join(decode_words(_raw_header(part, "content-description"), walk.guesses).split())
    extension = _extension(ctype)
    stem = safe_filename(stem)
    if not stem:
        # Named after what it is, numbered in the mail's order: "image-2.png", "attachment-1.pdf".
        kind = "image" if ctype.startswith("image/") else "attachment"
        stem = f"{kind}-{walk.next_number()}"
    if stem.lower().endswith(extension):
        return stem
    return safe_filename(stem + extension)


def _content_id(part: Message) -> str | None:
    raw = " ".join(_raw_header(part, "content-id").split()).strip("<> ")
    return raw or None


def _attachment(part: Message, ctype: str, walk: _Walk) -> ParsedAttachment:
    content_id = _content_id(part)
    # "Inline" means "referenced from the HTML by cid:", not whatever the disposition claims:
    # Apple Mail marks every attachment inline, and those must still be listed as files.
    inline = content_id is not None and _disposition(part) != "attachment"
    return ParsedAttachment(
        filename=_filename(part, walk) or _generated_filename(part, ctype, walk),
        content_type=ctype,
        content=_payload_bytes(part),
        content_id=content_id,
        inline=inline,
    )

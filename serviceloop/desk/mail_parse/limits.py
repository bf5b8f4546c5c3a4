"""Limits on one mail's shape, checked by a single pass over the bytes before any tree is built.

The email package builds the whole MIME tree before anyone can count it: a mail of 200,000 tiny
parts (8.7 MB) took it 30 s and more memory than a worker has. `check_limits` reads the raw bytes
line by line, as the parser would, following the boundaries each multipart declares, and stops at
the first limit passed: the cost is one scan of the bytes, bounded by the size limit, and a hostile
mail is refused after the part that passed the limit, not after the last.

The scan follows the parser closely (header blocks end at the first blank line, a part starts at a
line `--boundary` of an open multipart and `--boundary--` closes it), but need not be exact: it
only has to count at least what the parser would build, and it counts every delimiter line of
every boundary still open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from .model import MailParseError

_BOUNDARY = re.compile(rb'boundary(\*)?\s*=\s*(?:"([^"]*)"|([^\s;"]+))', re.IGNORECASE)
_CONTENT_TYPE = re.compile(rb"content-type[ \t]*:", re.IGNORECASE)
# The parser reads the body of every message/* part as a message of its own (a delivery status as several).
_MESSAGE_TYPE = re.compile(rb"content-type[ \t]*:[ \t]*message/(?!delivery-status)", re.IGNORECASE)
_DIGEST_TYPE = re.compile(rb"content-type[ \t]*:[ \t]*multipart/digest", re.IGNORECASE)
# The parser reads a delivery status as a list of header blocks, one node of its tree each.
_STATUS_TYPE = re.compile(rb"content-type[ \t]*:[ \t]*message/delivery-status", re.IGNORECASE)
_HEADER_LINE = re.compile(rb"[!-9;-~]+[ \t]*:")


@dataclass(frozen=True)
class MailLimits:
    """The largest mail the desk reads: bytes, MIME parts, nesting levels, header fields per block."""

    max_bytes: int = 25 * 1024 * 1024
    max_parts: int = 500
    max_depth: int = 10
    max_headers: int = 1000


@dataclass(frozen=True)
class MailShape:
    """What the scan counted: MIME parts, the deepest nesting, the largest header block."""

    parts: int
    depth: int
    headers: int


class MailLimitError(MailParseError):
    """The mail is a mail, but larger or more complex than the desk reads (a limit was passed)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class _Block:
    """What one header block declared: its multipart boundary and whether it wraps a message."""

    headers: int = 0
    boundary: bytes | None = None
    wraps_message: bool = False
    typed: bool = False  # it has a Content-Type (a part of a digest without one is a message)
    digest: bool = False
    status: bool = False


def _header_block(lines: list[bytes], start: int, limits: MailLimits) -> tuple[_Block, int]:
    """Read the header block from lines[start]; returns what it declared and the first body line."""
    block = _Block()
    content_type: list[bytes] = []
    in_content_type = False
    index = start
    while index < len(lines):
        line = lines[index]
        index += 1
        stripped = line.rstrip(b"\r\n")
        if not stripped:
            break
        if line[:1] in (b" ", b"\t"):
            if in_content_type:
                content_type.append(stripped)
            continue
        in_content_type = False
        if _HEADER_LINE.match(line):
            block.headers += 1
            if block.headers > limits.max_headers:
                raise MailLimitError(
                    "too_many_headers", f"A header block of the mail has more than {limits.max_headers} header fields."
                )
            if _CONTENT_TYPE.match(line) and not content_type:
                # The parser reads the first Content-Type of a block; so does the scan.
                in_content_type = True
                content_type = [stripped]
                block.typed = True
                block.wraps_message = bool(_MESSAGE_TYPE.match(line))
                block.digest = bool(_DIGEST_TYPE.match(line))
                block.status = bool(_STATUS_TYPE.match(line))
    match = _BOUNDARY.search(b" ".join(content_type)) if content_type else None
    if match:
        value = match.group(2) if match.group(2) is not None else match.group(3)
        if match.group(1):  # RFC 2231: charset'language'percent-encoded value
            value = unquote_to_bytes(value.rsplit(b"'", 1)[-1])
        block.boundary = value
    return block, index


def check_limits(raw: bytes, limits: MailLimits) -> MailShape:
    """Raise MailLimitError at the first limit the mail passes; else return what was counted."""
    if len(raw) > limits.max_bytes:
        raise MailLimitError("too_large", f"The mail has {len(raw)} bytes; at most {limits.max_bytes} are read.")
    lines = raw.splitlines(keepends=True)
    # Open multiparts, innermost last: (boundary, nesting depth of its parts, whether it is a digest).
    open_: list[tuple[bytes, int, bool]] = []
    parts = 1
    block, index = _header_block(lines, 0, limits)
    depth = 0
    deepest, most_headers = 0, block.headers

    def opened(block: _Block, depth: int, index: int, in_digest: bool = False) -> int:
        """Push the multipart a header block declared; a wrapped message's own headers follow at once."""
        nonlocal deepest, most_headers, parts
        if in_digest and not block.typed:
            block.wraps_message = True  # RFC 2046 5.1.5: a digest's parts are messages by default
        while block.wraps_message and not block.boundary:
            # The parser builds the wrapping part and the message inside it: two nodes of its tree.
            parts = _counted(parts + 1, limits)
            depth = _deeper(depth, limits)
            block, index = _header_block(lines, index, limits)
            most_headers = max(most_headers, block.headers)
        if block.boundary:
            depth = _deeper(depth, limits)
            open_.append((block.boundary, depth, block.digest))
        deepest = max(deepest, depth)
        return index

    index = opened(block, depth, index)
    in_status = False
    while index < len(lines):
        line = lines[index]
        index += 1
        if in_status and not line.strip():
            parts = _counted(parts + 1, limits)
        if not open_ or not line.startswith(b"--"):
            continue
        marker = line[2:].rstrip()
        for level in range(len(open_) - 1, -1, -1):
            boundary, part_depth, digest = open_[level]
            if marker == boundary:
                del open_[level + 1 :]
                parts = _counted(parts + 1, limits)
                block, index = _header_block(lines, index, limits)
                most_headers = max(most_headers, block.headers)
                in_status = block.status
                if in_status:
                    parts = _counted(parts + 1, limits)
                    deepest = max(deepest, _deeper(part_depth, limits))
                index = opened(block, part_depth, index, digest)
                break
            if marker == boundary + b"--":
                del open_[level:]
                in_status = False
                break
    return MailShape(parts=parts, depth=deepest, headers=most_headers)


def _counted(parts: int, limits: MailLimits) -> int:
    if parts > limits.max_parts:
        raise MailLimitError("too_many_parts", f"The mail has more than {limits.max_parts} MIME parts.")
    return parts


def _deeper(depth: int, limits: MailLimits) -> int:
    depth += 1
    if depth > limits.max_depth:
        raise MailLimitError("too_deep", f"The mail nests MIME parts more than {limits.max_depth} levels deep.")
    return depth

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

from .model import MailParseError

_BOUNDARY = re.compile(rb'boundary\s*=\s*(?:"([^"]*)"|([^\s;"]+))', re.IGNORECASE)
_CONTENT_TYPE = re.compile(rb"content-type[ \t]*:", re.IGNORECASE)
_MESSAGE_TYPE = re.compile(rb"content-type[ \t]*:[ \t]*message/(?:rfc822|global)", re.IGNORECASE)
_HEADER_LINE = re.compile(rb"[!-9;-~]+[ \t]*:")


@dataclass(frozen=True)
class MailLimits:
    """The largest mail the desk reads: bytes, MIME parts, nesting levels, header fields per block."""

    max_bytes: int = 25 * 1024 * 1024
    max_parts: int = 500
    max_depth: int = 10
    max_headers: int = 1000


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
                block.wraps_message = bool(_MESSAGE_TYPE.match(line))
    match = _BOUNDARY.search(b" ".join(content_type)) if content_type else None
    if match:
        block.boundary = match.group(1) if match.group(1) is not None else match.group(2)
    return block, index


def check_limits(raw: bytes, limits: MailLimits) -> None:
    """Raise MailLimitError at the first limit the mail passes; return when it is within all of them."""
    if len(raw) > limits.max_bytes:
        raise MailLimitError("too_large", f"The mail has {len(raw)} bytes; at most {limits.max_bytes} are read.")
    lines = raw.splitlines(keepends=True)
    # Open multiparts, innermost last: (delimiter line without the dashes, nesting depth of its parts).
    open_: list[tuple[bytes, int]] = []
    parts = 1
    block, index = _header_block(lines, 0, limits)
    depth = 0

    def opened(block: _Block, depth: int, index: int) -> int:
        """Push the multipart a header block declared; a wrapped message's own headers follow at once."""
        while block.wraps_message and not block.boundary:
            depth = _deeper(depth, limits)
            block, index = _header_block(lines, index, limits)
        if block.boundary:
            open_.append((block.boundary, _deeper(depth, limits)))
        return index

    index = opened(block, depth, index)
    while index < len(lines):
        line = lines[index]
        index += 1
        if not open_ or not line.startswith(b"--"):
            continue
        marker = line[2:].rstrip()
        for level in range(len(open_) - 1, -1, -1):
            boundary, part_depth = open_[level]
            if marker == boundary:
                del open_[level + 1 :]
                parts += 1
                if parts > limits.max_parts:
                    raise MailLimitError("too_many_parts", f"The mail has more than {limits.max_parts} MIME parts.")
                block, index = _header_block(lines, index, limits)
                index = opened(block, part_depth, index)
                break
            if marker == boundary + b"--":
                del open_[level:]
                break


def _deeper(depth: int, limits: MailLimits) -> int:
    depth += 1
    if depth > limits.max_depth:
        raise MailLimitError("too_deep", f"The mail nests MIME parts more than {limits.max_depth} levels deep.")
    return depth

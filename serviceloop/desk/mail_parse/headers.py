"""The header block: telling a mail from other input, repairing it, and reading header values."""

from __future__ import annotations

import email.policy
import email.utils
import re
from datetime import UTC, datetime
from email.errors import HeaderParseError

from .charsets import decode_words, undo_surrogates
from .model import MailParseError

# A header line is "Name: value"; names are printable ASCII without the colon (RFC 5322 2.2).
# Whitespace before the colon is obsolete syntax (RFC 5322 4.5) that old mailers still send.
_HEADER_LINE = re.compile(rb"([!-9;-~]+)([ \t]*):")
_BLANK_LINE = re.compile(rb"\n\r?\n")

# Seeing one of these before the first blank line is what makes input a mail rather than text.
MAIL_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "subject",
        "date",
        "message-id",
        "received",
        "mime-version",
        "return-path",
        "reply-to",
        "sender",
        "delivered-to",
        "content-type",
        "in-reply-to",
        "references",
        "x-original-to",
        "envelope-to",
        "dkim-signature",
    }
)

# Gateways sometimes prepend a banner line (e.g. "---- Original email message ----"); more
# text than this before the first header line means the input is prose, not a mail.
_MAX_LEADING_JUNK = 5


def _classify(line: bytes, index: int) -> str:
    if index == 0 and line.startswith(b"From "):
        return "unixfrom"
    if line[:1] in (b" ", b"\t"):
        return "continuation"
    if _HEADER_LINE.match(line):
        return "header"
    return "other"


def _header_name(line: bytes) -> str:
    match = _HEADER_LINE.match(line)
    return match.group(1).decode("ascii").lower() if match else ""


def _line_ending(line: bytes) -> bytes:
    return b"\r\n" if line.endswith(b"\r\n") else b"\n"


def prepare(raw: bytes) -> bytes:
    """Check that raw is a mail and repair its header block so that the email package reads it.

    Repairs: banner lines before the first header are dropped, continuation lines that lost their
    leading whitespace are re-indented (only while a known header still follows), and "Name :" is
    written "Name:". Raises MailParseError when no known mail header comes before the first blank
    line.
    """
    if not raw.strip():
        raise MailParseError("The input is empty.")
    raw = raw.lstrip(b"\r\n")
    blank = _BLANK_LINE.search(raw)
    split_at = blank.start() + 1 if blank else len(raw)
    head, rest = raw[:split_at], raw[split_at:]
    lines = head.splitlines(keepends=True)
    kinds = [_classify(line, index) for index, line in enumerate(lines)]
    names = [_header_name(line) if kind == "header" else "" for line, kind in zip(lines, kinds, strict=True)]
    known = [index for index, name in enumerate(names) if name in MAIL_HEADERS]
    if not known:
        raise MailParseError(
            "The input has no mail header block: no From, To, Subject, Date, Message-ID, "
            "Received or MIME-Version line comes before the first blank line."
        )
    first_header = next(index for index, kind in enumerate(kinds) if kind == "header")
    leading = {index for index in range(first_header) if kinds[index] != "unixfrom"}
    if len(leading) > _MAX_LEADING_JUNK:
        raise MailParseError("The input starts with text, not with a mail header block.")
    last_known = known[-1]
    out: list[bytes] = []
    for index, (line, kind) in enumerate(zip(lines, kinds, strict=True)):
        if index in leading:
            continue
        if kind == "other" and index > last_known:
            # The sender forgot the blank line: the body starts here.
            out.append(_line_ending(line))
            out.extend(lines[index:])
            break
        if kind == "other":
            # A folded line that lost its indentation; a known header still follows.
            out.append(b" " + line)
        elif kind == "header":
            out.append(_tidy_header_name(line))
        else:
            out.append(line)
    return b"".join(out) + rest


def _tidy_header_name(line: bytes) -> bytes:
    match = _HEADER_LINE.match(line)
    if match is None or not match.group(2):
        return line
    return match.group(1) + b":" + line[match.end() :]


_FOLD = re.compile(r"\r?\n(?=[ \t])")


def unfold(value: str) -> str:
    """One logical line: folding removed (RFC 5322 2.2.3), stray line breaks made spaces."""
    return _FOLD.sub("", value).replace("\r", " ").replace("\n", " ")


class Headers:
    """Raw header values of one message by lower-cased name, read once, decoded on demand.

    The email package's default policy parses headers lazily and raises on some malformed ones,
    so values are taken raw and decoded here, where a broken header costs only itself.
    """

    def __init__(self, items: list[tuple[str, str]], guesses: tuple[str, ...]) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in items:
            self._values.setdefault(name.strip().lower(), []).append(unfold(value))
        self.guesses = guesses

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._values

    def all(self, name: str) -> list[str]:
        return self._values.get(name.lower(), [])

    def first(self, name: str) -> str:
        values = self.all(name)
        return values[0].strip() if values else ""

    def text(self, name: str) -> str:
        """The first value, RFC 2047 decoded, with whitespace runs made single spaces."""
        return " ".join(decode_words(self.first(name), self.guesses).split())

    def addresses(self, name: str) -> list[tuple[str, str]]:
        """(display name, lower-cased address) for every valid mailbox in every such header."""
        found: list[tuple[str, str]] = []
        for value in self.all(name):
            found.extend(_addresses(undo_surrogates(value, self.guesses), self.guesses))
        return found

    def ids(self, name: str) -> list[str]:
        """Message ids without <>, in order, each once."""
        found: dict[str, None] = {}
        for value in self.all(name):
            found.update(dict.fromkeys(_message_ids(value)))
        return list(found)

    def date(self) -> datetime | None:
        return parse_date(self.first("date"))


def _valid_address(address: str) -> bool:
    local, at, domain = address.rpartition("@")
    return (
        bool(at and local and domain)
        and not any(c in address for c in "<>,;")
        and (not any(char.isspace() for char in domain))
    )


# What the default policy's header parser raises on input it cannot handle (some are bugs).
POLICY_ERRORS = (HeaderParseError, ValueError, IndexError, AttributeError, TypeError, LookupError)


def _addresses(value: str, guesses: tuple[str, ...]) -> list[tuple[str, str]]:
    bare = _bare_mailboxes(value, guesses)
    if bare:
        return bare
    pairs: list[tuple[str, str]] = []
    try:
        header = email.policy.default.header_factory("to", value)
        pairs = [(str(mailbox.display_name), str(mailbox.addr_spec)) for mailbox in getattr(header, "addresses", ())]
    except POLICY_ERRORS:
        pairs = []
    valid = [(name, addr) for name, addr in pairs if _valid_address(addr)]
    if not valid:
        # compat32's parser is older and more forgiving; display names need decoding by hand.
        pairs = email.utils.getaddresses([value])
        valid = [(decode_words(name, guesses), addr) for name, addr in pairs if _valid_address(addr)]
    return [(" ".join(name.split()).strip("\"' "), addr.lower()) for name, addr in valid]


# An address written without angle brackets: no quotes, brackets or separators in it.
# It must stand as a whole word: "ben@acme.example@evil.com" is no address at all (not ben@acme.example).
_BARE_ADDRESS = re.compile(
    r"(?<![^\s(])[^\s\"<>()\[\],;:@]+@[^\s\"<>()\[\],;:@]+\.[^\s\"<>()\[\],;:@]*[^\s\"<>()\[\],;:@.](?![^\s)])"
)
_QUOTED_LOCAL_PART = re.compile(r'"\s*@')
_GROUP_NAME = re.compile(r'^\s*[^"(:,]*:\s*')


def _bare_mailboxes(value: str, guesses: tuple[str, ...]) -> list[tuple[str, str]]:
    """Mailboxes written without angle brackets, as some mailers do: "Ben Yilmaz ben@acme.example",
    '"Ben" ben@acme.example', "ben@acme.example (Ben Yilmaz)". RFC 5322 parsers read the words
    before the address as part of it ('"ben yilmaz ben"@acme.example'), so these are read here.

    Empty for a value with angle brackets or a quoted local part: the email package reads those.
    """
    if "<" in value or _QUOTED_LOCAL_PART.search(value):
        return []
    value = _GROUP_NAME.sub("", value, count=1).rstrip("; ")
    found: list[tuple[str, str]] = []
    pending = ""  # "Yilmaz, Ben ben@…": words without an address belong to the next mailbox's name
    for piece in _split_outside_quotes(value):
        addresses = _BARE_ADDRESS.findall(piece)
        if len(addresses) != 1:
            if addresses:
                return []  # "a@x b@y": no telling which words go with which address
            pending = f"{pending}, {piece}" if pending.strip() else piece
            continue
        address = addresses[0]
        words = piece.replace(address, " ", 1)
        if "@" in words:
            return []  # another "@" beside the address: no telling which part is the mailbox
        name = _display_words(f"{pending}, {words}" if pending.strip() and words.strip() else pending + words)
        found.append((decode_words(name, guesses), address.lower()))
        pending = ""
    return [(" ".join(name.split()), address) for name, address in found if _valid_address(address)]


def _display_words(text: str) -> str:
    # A comment in parentheses is the display name of old mailers ("ben@x (Ben Yilmaz)").
    text = text.replace("(", " ").replace(")", " ")
    name = " ".join(word.strip("\"'") for word in text.split() if word.strip("\"'")).strip(", ")
    return name if any(char.isalnum() for char in name) else ""


def _split_outside_quotes(value: str) -> list[str]:
    pieces: list[str] = []
    current: list[str] = []
    quoted, depth = False, 0
    for char in value:
        if char == '"' and depth == 0:
            quoted = not quoted
        elif char == "(" and not quoted:
            depth += 1
        elif char == ")" and not quoted and depth:
            depth -= 1
        elif char == "," and not quoted and depth == 0:
            pieces.append("".join(current))
            current = []
            continue
        current.append(char)
    pieces.append("".join(current))
    return [piece for piece in pieces if piece.strip()]


_ID = re.compile(r"<([^<>\s]+)>")


def _message_ids(value: str) -> list[str]:
    ids = _ID.findall(value)
    if not ids:
        # Some mailers omit the angle brackets ("Message-Id: 2018...@mail.example").
        ids = [token.strip("<>") for token in value.split() if "@" in token]
    return [message_id for message_id in ids if message_id]


def parse_date(value: str) -> datetime | None:
    """An aware UTC datetime, or None for a missing or impossible date."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        # "-0000" means "UTC, local zone unknown" (RFC 5322 3.3).
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None

"""Turning bytes of unknown or wrongly declared charset into text, and RFC 2047 encoded words."""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections.abc import Iterable

# Labels that mailers use for a superset, or that Python does not know. Decoding with the superset
# is what mail clients do: "gb2312" mail is nearly always GBK, "iso-8859-1" often holds cp1252 quotes.
_ALIASES: dict[str, str] = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "iso_8859-1": "cp1252",
    "us-ascii": "ascii",
    "ascii": "ascii",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-874": "cp874",
    "tis-620": "cp874",
    "big5": "big5hkscs",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
}

# Codecs that accept almost any byte sequence, so a successful decode proves nothing.
_PERMISSIVE = frozenset({"cp1252", "latin-1", "iso8859-1", "ascii"})

# ISO-2022-JP text is 7-bit and often sent without a charset; its escape sequences give it away.
_ISO2022JP_ESCAPES = (b"\x1b$B", b"\x1b$@", b"\x1b(J", b"\x1b(B")


def codec_for(label: str | None) -> str | None:
    """The Python codec name for a declared charset label, or None if unusable."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    # RFC 2231 allows a language suffix on the charset ("utf-8*en").
    name = name.split("*", 1)[0]
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def decode_bytes(data: bytes, declared: str | None = None, extra: Iterable[str] = ()) -> str:
    """Decode text bytes: declared charset, then the extra guesses, utf-8, cp1252, latin-1.

    Never raises: latin-1 maps every byte, so the last step always succeeds.
    """
    declared_codec = codec_for(declared)
    if declared_codec in (None, "ascii") and any(escape in data for escape in _ISO2022JP_ESCAPES):
        declared_codec = "iso2022_jp"
    tried: list[str] = []
    for label in (declared_codec, *extra, "utf-8", "cp1252"):
        codec = codec_for(label)
        if codec is None or codec in tried:
            continue
        tried.append(codec)
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("latin-1")


def is_permissive(label: str) -> bool:
    """True for single-byte codecs that decode anything (useless as a guess)."""
    codec = codec_for(label)
    return codec is None or codec in _PERMISSIVE or codec.startswith(("iso8859", "cp125"))


def has_surrogates(text: str) -> bool:
    """True when text carries raw 8-bit bytes that the email package kept as surrogate escapes."""
    return any("\udc80" <= char <= "\udcff" for char in text)


def undo_surrogates(text: str, guesses: Iterable[str] = ()) -> str:
    """Decode raw 8-bit bytes in a header (sent without RFC 2047) with the best guessed charset."""
    if not has_surrogates(text):
        return text
    data = text.encode("utf-8", "surrogateescape")
    return decode_bytes(data, None, guesses)


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_Q_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")


def _word_bytes(encoding: str, payload: str) -> bytes | None:
    raw = payload.encode("utf-8", "surrogateescape")
    if encoding in "bB":
        # Broken mailers drop the padding; add it back rather than give up.
        raw = raw.replace(b" ", b"") + b"=" * (-len(raw.replace(b" ", b"")) % 4)
        try:
            return base64.b64decode(raw)
        except (binascii.Error, ValueError):
            return None
    raw = raw.replace(b"_", b" ")
    return _Q_HEX.sub(lambda match: bytes([int(match.group(1), 16)]), raw)


def decode_words(value: str, guesses: Iterable[str] = ()) -> str:
    """Decode RFC 2047 encoded words in a header value, tolerating what real mailers send.

    Adjacent words of one charset are joined as bytes before decoding, because mailers split
    multi-byte characters across words; whitespace between encoded words is dropped (RFC 2047 6.2).
    """
    guesses = tuple(guesses)
    value = undo_surrogates(value, guesses)
    if "=?" not in value:
        return value
    out: list[str] = []
    pending = bytearray()
    pending_charset: str | None = None
    position = 0
    after_word = False

    def flush() -> None:
        nonlocal pending_charset
        if pending:
            out.append(decode_bytes(bytes(pending), pending_charset, guesses))
            pending.clear()
        pending_charset = None

    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        charset, encoding, payload = match.groups()
        decoded = _word_bytes(encoding, payload)
        if decoded is None:
            flush()
            out.append(value[position : match.end()])
            position = match.end()
            after_word = False
            continue
        if between and not (after_word and between.isspace()):
            flush()
            out.append(between)
        if pending_charset is not None and charset.lower() != pending_charset.lower():
            flush()
        pending_charset = charset
        pending.extend(decoded)
        position = match.end()
        after_word = True
    flush()
    out.append(value[position:])
    return "".join(out)

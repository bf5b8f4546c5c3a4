"""Turning bytes of unknown or wrongly declared charset into text, and RFC 2047 encoded words."""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections.abc import Iterable

from charset_normalizer import from_bytes
from charset_normalizer.md import mess_ratio
from charset_normalizer.utils import is_multi_byte_encoding

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
    """Decode text bytes whose charset label may be missing or wrong. Never raises.

    The declared charset wins when it decodes cleanly and looks right: a multi-byte charset or
    UTF-8 that decodes is evidence enough, but a single-byte one decodes anything, so its text must
    also not look like mojibake (charset-normalizer's mess measure). Otherwise: UTF-8, the guesses
    (charsets declared elsewhere in the mail), windows-1252, then the detector; failing all, the
    declared charset's text if it decoded at all, else the declared charset (or UTF-8) with the
    broken bytes replaced when they are few, else windows-1252.
    """
    declared_codec = codec_for(declared)
    if data.isascii():
        return _decode_7bit(data, declared_codec)
    declared_text = _strict(data, declared_codec)
    if declared_text is not None and not (is_permissive(declared_codec or "") and looks_wrong(declared_text)):
        return declared_text
    for label in ("utf-8", *extra):
        codec = codec_for(label)
        if codec is None or codec == declared_codec:
            continue
        text = _strict(data, codec)
        if text is not None and (codec == "utf-8" or not looks_wrong(text)):
            return text
    western = _windows_1252(data)
    if declared_text is None and not looks_wrong(western):
        return western
    # The detector reads samples of a long text; its codec must read all of it.
    detected = _strict(data, detect_charset(data))
    if detected is not None:
        return detected
    if declared_text is not None:
        return declared_text
    # Mostly text of the declared charset (or UTF-8) with a few broken bytes: those become U+FFFD.
    # Otherwise windows-1252, which reads every byte: short accented text often looks odd to the
    # mess measure ("ÄÖÜ"), and is still far likelier Western than anything else.
    fallback = declared_codec if declared_codec is not None and declared_codec != "ascii" else "utf-8"
    replaced = data.decode(fallback, errors="replace")
    broken = replaced.count("\ufffd")
    return replaced if sum(1 for char in replaced if char > "\x7f") > 2 * broken else western


def _decode_7bit(data: bytes, declared_codec: str | None) -> str:
    if declared_codec in (None, "ascii") and any(escape in data for escape in _ISO2022JP_ESCAPES):
        declared_codec = "iso2022_jp"
    # Only the 7-bit encodings (ISO-2022-*, UTF-7) change ASCII bytes; a wrong one is not worth keeping.
    return _strict(data, declared_codec) or data.decode("ascii")


def _strict(data: bytes, codec: str | None) -> str | None:
    if codec is None:
        return None
    if codec == "cp1252":
        return _windows_1252(data)
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


_C1_ESCAPED = re.compile("[\udc80-\udc9f]")


def _windows_1252(data: bytes) -> str:
    # As browsers read "iso-8859-1" and "windows-1252" (WHATWG): the five bytes cp1252 leaves
    # undefined are the C1 controls of latin-1, so the decode never fails.
    text = data.decode("cp1252", errors="surrogateescape")
    return _C1_ESCAPED.sub(lambda match: chr(ord(match.group()) - 0xDC00), text)


# charset-normalizer's own threshold: a text whose mess ratio passes it is not the right reading.
_MESS_LIMIT = 0.2
# Mojibake is spread through a text: its first characters tell as well as all of them.
_MESS_SAMPLE = 8192


def looks_wrong(text: str) -> bool:
    """True when a decoded text reads as mojibake (accents in runs, controls, mixed scripts)."""
    sample = text[:_MESS_SAMPLE]
    return not sample.isascii() and mess_ratio(sample, _MESS_LIMIT) >= _MESS_LIMIT


# UTF-16 and -32 decode most even-length byte strings; undeclared, mail is never in them.
_NEVER_DETECTED = ["utf_16", "utf_16_be", "utf_16_le", "utf_32", "utf_32_be", "utf_32_le"]
# Below this many bytes a single-byte charset found by the detector is a coin toss ("Café" reads
# as cp1006 as well as cp1252); a multi-byte one is evidence at any length.
_MIN_SINGLE_BYTE_EVIDENCE = 200
_JAPANESE = ("cp932", "euc_jp")


def detect_charset(data: bytes) -> str | None:
    """The codec charset-normalizer finds for bytes of unknown charset, or None when unsure."""
    if data.isascii():
        return None
    best = from_bytes(data, cp_exclusion=_NEVER_DETECTED).best()
    if best is None:
        return None
    codec = codec_for(best.encoding)
    if codec is None:
        return None
    text = str(best)
    # Short Japanese is often read as Chinese (EUC-JP and GB2312 share their byte ranges), but
    # kana are written only in Japanese: the reading with the most of them is the Japanese one.
    for japanese in _JAPANESE:
        reading = _strict(data, japanese)
        if reading is not None and _kana(reading) > _kana(text) and not looks_wrong(reading):
            codec, text = japanese, reading
    if not is_multi_byte_encoding(codec) and len(data) < _MIN_SINGLE_BYTE_EVIDENCE:
        return None
    return None if looks_wrong(text) or _half_width_kana(text) > _kana(text) else codec


_KANA = re.compile("[\u3041-\u30fe]")
# What Latin accents read as Shift_JIS become ("µs" is "ｵs"); Japanese mail hardly uses them.
_HALF_WIDTH_KANA = re.compile("[\uff61-\uff9f]")


def _kana(text: str) -> int:
    return len(_KANA.findall(text))


def _half_width_kana(text: str) -> int:
    return len(_HALF_WIDTH_KANA.findall(text))


def is_permissive(label: str) -> bool:
    """True for single-byte codecs that decode anything (useless as a guess)."""
    codec = codec_for(label)
    return codec is None or codec in _PERMISSIVE or codec.startswith(("iso8859", "cp125"))


def has_surrogates(text: str) -> bool:
    """True when text carries raw 8-bit bytes that the email package kept as surrogate escapes."""
    return any("\udc80" <= char <= "\udcff" for char in text)


_SURROGATE = re.compile("[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """Text that encodes as UTF-8: surrogate-escaped bytes read as UTF-8, anything left as U+FFFD."""
    if _SURROGATE.search(text) is None:
        return text
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte (a broken UTF-7 word)
        data = text.encode("utf-8", "surrogatepass")
    return data.decode("utf-8", "replace")


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

"""Mask personal contact data in free text before it is stored beside feedback or shown in lists.

Only e-mail addresses and phone numbers are masked; everything else an IT comment is made of stays
readable. Phone numbers are recognised by shape, and references look like phone numbers, so the
rules are deliberately conservative. A digit sequence (digits with single spaces, dashes, dots or
parenthesised groups between them) of 7–15 digits is a phone number when it:

* starts with ``+`` (international: ``+44 20 7946 0958``, ``+1 (555) 123-4567``), or
* starts with a trunk ``0`` (national in most of Europe, the UK, Australia: ``020 7946 0958``,
  ``07700900123``, ``(0161) 496 0000``), or
* has the North American shape ``(555) 123-4567``, ``555-123-4567``, ``555.123.4567``,
  ``1-555-123-4567``, or the 7-digit local ``555-1234``.

Left alone, with a test each: dates (``2024-05-02``, ``12.03.2024``), times (``14:30``), ticket and
incident references (``SL-104233``, ``INC0098123``, ``#5821334``), order numbers without a leading
0 or + (``PO 4500012345``), version numbers (``10.0.19045.3693``), IPv4 addresses (``10.0.0.12``:
an IP address is the subject of many IT tickets, and is not contact data; masking it would be a
separate, explicit decision), and money (``£1 234 567``, ``1 250 000 EUR``). Dots are accepted as
separators only in the North American shape or after ``+``, which keeps decimals, versions and
IPs out.
"""

from __future__ import annotations

import re

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"

_EMAIL = re.compile(
    r"(?<![\w.%+-])"  # not the tail of a longer token
    # Local part, then domain labels of letters/digits (any script) with inner hyphens.
    r"\w[\w.%+'-]*@(?:[^\W_](?:[^\W_]|-)*\.)+[^\W\d_]{2,}"
    r"(?![\w-])"
)

_SEPARATOR = r"(?:[ \t]?[-.][ \t]?|[ \t])"
_PAREN_GROUP = r"\(\d{1,5}\)"
_PHONE_CANDIDATE = re.compile(
    # Not glued to a word, a reference ("SL-104233", "#58213"), a decimal or the minutes of a time.
    r"(?<![\w#/.,+\-])(?<!\d:)"
    rf"(?:\+[ \t]?)?(?:{_PAREN_GROUP}[ \t]?)?\d+"
    rf"(?:{_SEPARATOR}(?:{_PAREN_GROUP}[ \t]?)?\d+)*"
    r"(?!\w|[.,/:]\d)"
)

_NORTH_AMERICAN = re.compile(r"(?:1[ .-])?(?:\(\d{3}\)[ ]?|\d{3}[ .-])\d{3}[ .-]\d{4}|\d{3}[ -]\d{4}")
_DATE = re.compile(r"\d{4}[-.]\d{1,2}[-.]\d{1,2}|\d{1,2}[-.]\d{1,2}[-.]\d{2,4}")
_CURRENCY = r"(?:[£$€¥₹]|(?:GBP|USD|EUR|CHF|JPY|AUD|CAD|INR)\b|(?:pounds|dollars|euros)\b)"
_CURRENCY_BEFORE = re.compile(rf"{_CURRENCY}\s?$", re.IGNORECASE)
_CURRENCY_AFTER = re.compile(rf"^\s?(?:{_CURRENCY}|%)", re.IGNORECASE)
# Characters of context either side that the currency checks look at.
_CONTEXT = 9


def mask_personal_data(text: str) -> str:
    """``text`` with e-mail addresses replaced by "[email]" and phone numbers by "[phone]"."""
    text = _EMAIL.sub(EMAIL_MASK, text)
    return _PHONE_CANDIDATE.sub(_phone_or_original, text)


def _phone_or_original(match: re.Match[str]) -> str:
    before = match.string[max(0, match.start() - _CONTEXT) : match.start()]
    after = match.string[match.end() : match.end() + _CONTEXT]
    return _mask_phone_numbers_in(match.group(0), before, after)


def _mask_phone_numbers_in(candidate: str, before: str, after: str) -> str:
    if _is_phone_number(candidate, before, after):
        return PHONE_MASK
    # A run of digit groups can join a phone number to its neighbours ("2024-05-02 0161 496 0000",
    # "ticket 12345 020 7946 0958"); the whole run is then no phone number, but a part of it may be.
    # Try the parts between spaces, longest first, then the leftmost, and look again either side.
    chunks = [(chunk.start(), chunk.end()) for chunk in re.finditer(r"\S+", candidate)]
    for length in range(len(chunks) - 1, 0, -1):
        for first in range(len(chunks) - length + 1):
            start, end = chunks[first][0], chunks[first + length - 1][1]
            part = candidate[start:end]
            part_before = (before + candidate[:start])[-_CONTEXT:]
            part_after = (candidate[end:] + after)[:_CONTEXT]
            if _PHONE_CANDIDATE.fullmatch(part) and _is_phone_number(part, part_before, part_after):
                return (
                    _mask_phone_numbers_in(candidate[:start], before, part + part_after)
                    + PHONE_MASK
                    + _mask_phone_numbers_in(candidate[end:], part_before + part, after)
                )
    return candidate


def _is_phone_number(candidate: str, before: str, after: str) -> bool:
    digits = sum(char.isdigit() for char in candidate)
    if not 7 <= digits <= 15:
        return False
    if _DATE.fullmatch(candidate):
        return False
    if _CURRENCY_BEFORE.search(before) or _CURRENCY_AFTER.search(after):
        return False
    if candidate.startswith("+"):
        return True
    if _NORTH_AMERICAN.fullmatch(candidate):
        return True
    if "." in candidate:
        return False
    return candidate.lstrip("(").startswith("0")

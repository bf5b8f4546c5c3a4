"""Cutting a reply down to what the sender wrote now: no quoted history, no signature."""

from __future__ import annotations

import re

# "On <date>, <name> wrote:" and its translations. Bounded repeats keep the match linear.
_ATTRIBUTION = re.compile(
    r"\s*(?:"
    r"On\b.{0,300}\bwrote\s*:"  # Gmail, Apple Mail, Thunderbird
    r"|Am\b.{0,300}\bschrieb\b.{0,300}:"  # German: "Am 07.05.2012 08:10, schrieb X:"
    r"|.{0,300}\bschrieb am\b.{0,300}:"  # German: "X schrieb am 07.05.2012:"
    r"|Le\b.{0,300}\ba\s+écrit\s*:"  # French
    r"|El\b.{0,300}\bescribió\s*:"  # Spanish
    r"|Op\b.{0,300}\bschreef\b.{0,300}:"  # Dutch
    r"|Il\b.{0,300}\bha\s+scritto\s*:"  # Italian
    r")\s*",
    re.IGNORECASE,
)
# Gmail wraps a long attribution onto a second line ("... John Doe <\njohn@example.com> wrote:").
_ATTRIBUTION_START = re.compile(r"\s*(?:On|Am|Le|El|Op|Il)\s", re.IGNORECASE)

_ORIGINAL_MESSAGE = re.compile(
    r"\s*-{2,}\s*(?:Original Message|Original-Nachricht|Ursprüngliche Nachricht"
    r"|Message d'origine|Message original|Mensaje original|Messaggio originale"
    r"|Oorspronkelijk bericht)\s*-{2,}\s*",
    re.IGNORECASE,
)
# Outlook's header block of the quoted mail: "From: ..." followed by "Sent: ..." within a few lines.
_BLOCK_FROM = re.compile(r"\s*\*?(?:From|Von|De|Van|Da)\s*:\*?\s*\S", re.IGNORECASE)
_BLOCK_SENT = re.compile(
    r"\s*\*?(?:Sent|Date|Gesendet|Datum|Envoyé|Enviado|Fecha|Verzonden|Inviato|Data)\s*:\*?\s",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"\s*_{10,}\s*")
# A forwarded mail is the content of the new ticket, so its header block is not history.
_FORWARDED = re.compile(
    r".*(?:Forwarded message|Begin forwarded message|Weitergeleitete Nachricht"
    r"|Message transféré|Mensaje reenviado)",
    re.IGNORECASE,
)
_MOBILE_SIGNATURE = re.compile(
    r"\s*(?:Sent from my \S.{0,40}|Sent from (?:Mail|Outlook|Yahoo Mail)\b.{0,40}"
    r"|Get Outlook for \S.{0,30}|Von meinem \S.{0,40} gesendet|Gesendet von meinem \S.{0,40}"
    r"|Envoyé de mon \S.{0,40}|Enviado desde mi \S.{0,40}|Inviato da(?:l mio)? \S.{0,40})\s*",
    re.IGNORECASE,
)
# After "--" (without the RFC 3676 trailing space) a signature is short; more text is content.
_MAX_LOOSE_SIGNATURE_LINES = 15
_LOOKAHEAD = 4
_MAX_ATTRIBUTION = 700


def _is_attribution(lines: list[str], index: int) -> int:
    """How many lines the attribution starting at index spans (0: none)."""
    line = lines[index]
    # Every attribution ends with a colon and is short; the cheap test keeps long mails fast.
    if len(line) < _MAX_ATTRIBUTION and line.rstrip().endswith(":") and _ATTRIBUTION.fullmatch(line):
        return 1
    if index + 1 < len(lines) and _ATTRIBUTION_START.match(line):
        joined = line + " " + lines[index + 1]
        if len(joined) < _MAX_ATTRIBUTION and joined.rstrip().endswith(":"):
            return 2 if _ATTRIBUTION.fullmatch(joined) else 0
    return 0


def _next_content(lines: list[str], index: int) -> str:
    while index < len(lines):
        if lines[index].strip():
            return lines[index]
        index += 1
    return ""


def _is_outlook_block(lines: list[str], index: int) -> bool:
    if not _BLOCK_FROM.match(lines[index]):
        return False
    window = lines[index + 1 : index + 1 + _LOOKAHEAD]
    if not any(_BLOCK_SENT.match(line) for line in window):
        return False
    before = [line for line in lines[max(0, index - 3) : index] if line.strip()]
    return not any(_FORWARDED.match(line) for line in before)


def _cut_point(lines: list[str]) -> int:
    """Index of the first line of quoted history that is not marked with ">" (Outlook style)."""
    for index, line in enumerate(lines):
        if _ORIGINAL_MESSAGE.fullmatch(line) or _MOBILE_SIGNATURE.fullmatch(line):
            return index
        if _is_outlook_block(lines, index):
            previous = index - 1
            while previous >= 0 and not lines[previous].strip():
                previous -= 1
            if previous >= 0 and _UNDERSCORES.fullmatch(lines[previous]):
                return previous
            return index
        span = _is_attribution(lines, index)
        if span and not _next_content(lines, index + span).startswith(">"):
            # An attribution without ">" lines below: the quote follows unmarked (HTML clients).
            return index
    return len(lines)


def _drop_quotes(lines: list[str]) -> list[str]:
    kept: list[str] = []
    index = 0
    while index < len(lines):
        span = _is_attribution(lines, index)
        if span and _next_content(lines, index + span).startswith(">"):
            index += span
            continue
        if not lines[index].startswith(">"):
            kept.append(lines[index])
        index += 1
    return kept


def _drop_signature(lines: list[str]) -> list[str]:
    remaining = sum(1 for line in lines if line.strip())  # non-blank lines from index on
    for index, line in enumerate(lines):
        if line.strip():
            remaining -= 1
        if line == "-- ":
            return lines[:index]
        if line.rstrip() == "--" and remaining <= _MAX_LOOSE_SIGNATURE_LINES:
            return lines[:index]
    return lines


def _tidy(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        line = line.rstrip()
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    return "\n".join(out).strip("\n")


def trim_reply(text: str) -> str:
    """The new text of a reply: quoted history and signature removed.

    If nothing would be left (a mail that is all quote), the whole text is returned: a ticket
    must never lose what the customer sent.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = lines[: _cut_point(lines)]
    lines = _drop_signature(_drop_quotes(lines))
    trimmed = _tidy(lines)
    return trimmed if trimmed else _tidy(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))

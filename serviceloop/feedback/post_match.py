"""Which services a post is about, by the services' rules: handles, hashtags and keywords (pure).

- a **handle** rule ``acmecloud`` (or ``@acmecloud``) matches a post that mentions ``@acmecloud``
  or that was written by ``acmecloud``;
- a **hashtag** rule ``acmedown`` (or ``#acmedown``) matches ``#acmedown`` as a whole tag;
- a **keyword** rule matches the word or phrase as whole words (``vpn`` is not in ``vpns2``).

Rules are case-insensitive unless marked case-sensitive. Compile the rules once per batch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

HANDLE, HASHTAG, KEYWORD = "handle", "hashtag", "keyword"


@dataclass(frozen=True)
class Rule:
    service_id: int
    kind: str
    pattern: str
    case_sensitive: bool = False


def normalise_pattern(kind: str, pattern: str) -> str:
    """The pattern as stored: handles without "@", hashtags without "#", whitespace collapsed."""
    pattern = " ".join(pattern.split())
    if kind == HANDLE:
        return pattern.removeprefix("@")
    if kind == HASHTAG:
        return pattern.removeprefix("#")
    return pattern


def pattern_problem(kind: str, pattern: str) -> str | None:
    """Why a pattern cannot be a rule of this kind, or None."""
    if not pattern:
        return "A rule needs a pattern."
    if kind in (HANDLE, HASHTAG) and (" " in pattern or "@" in pattern or "#" in pattern):
        return "A handle or hashtag is one word, without spaces."
    return None


def _regex(rule: Rule) -> re.Pattern[str]:
    words = r"\s+".join(re.escape(word) for word in rule.pattern.split())
    if rule.kind == HANDLE:
        body = rf"(?<![\w@])@{words}(?![\w@])"
    elif rule.kind == HASHTAG:
        body = rf"(?<![\w#])#{words}(?!\w)"
    else:
        body = rf"(?<!\w){words}(?!\w)"
    return re.compile(body, 0 if rule.case_sensitive else re.IGNORECASE)


class Matcher:
    """Rules compiled once; `services_for` answers the matching service ids of one post."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self._rules = [(rule, _regex(rule)) for rule in rules]

    def services_for(self, text: str, author_handle: str = "") -> set[int]:
        author = author_handle.removeprefix("@")
        found: set[int] = set()
        for rule, regex in self._rules:
            if rule.service_id in found:
                continue
            if regex.search(text):
                found.add(rule.service_id)
            elif rule.kind == HANDLE and author:
                same = author == rule.pattern if rule.case_sensitive else author.lower() == rule.pattern.lower()
                if same:
                    found.add(rule.service_id)
        return found

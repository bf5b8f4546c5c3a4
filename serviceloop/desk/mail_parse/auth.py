"""The receiving server's verdict on the sender (RFC 8601 Authentication-Results: DMARC, DKIM, SPF).

Any sender can write an Authentication-Results header into the mail it sends; only the one the
receiving server added is evidence. Servers add theirs at the top, above everything that came with
the mail, so the trusted instance is the topmost one; with an authserv-id configured (the receiving
server's name, e.g. `mx.example.com`), the topmost instance carrying that id, and none when no
instance carries it. Lower instances are never read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"^\s*(dmarc|dkim|spf)\s*=\s*([A-Za-z]+)", re.IGNORECASE)
_HEADER_FROM = re.compile(r"\bheader\.from\s*=\s*\"?([^\s;\"]+)", re.IGNORECASE)
# RFC 8601 results; anything else is recorded as "unknown" rather than trusted as written.
_RESULTS = frozenset(
    {"pass", "fail", "none", "neutral", "softfail", "temperror", "permerror", "policy", "hardfail", "bestguesspass"}
)


@dataclass(frozen=True)
class AuthResults:
    """The verdicts of the trusted Authentication-Results header ("" where it says nothing)."""

    header: str = ""
    authserv_id: str = ""
    dmarc: str = ""
    # The domain the DMARC verdict is about (its header.from property), "" when the server named none.
    dmarc_domain: str = ""
    dkim: str = ""
    spf: str = ""


def _strip_comments(value: str) -> str:
    previous = None
    while previous != value:  # nested comments: innermost first
        previous, value = value, _COMMENT.sub(" ", value)
    return value


def _authserv_id(value: str) -> str:
    first = value.split(";", 1)[0].strip().split()
    return first[0].lower() if first else ""


def trusted_instance(values: list[str], authserv_id: str = "") -> str | None:
    """The header value to trust among all instances in mail order (topmost first), or None."""
    if not authserv_id:
        return values[0] if values else None
    wanted = authserv_id.strip().lower()
    for value in values:
        if _authserv_id(_strip_comments(value)) == wanted:
            return value
    return None


def authentication_results(values: list[str], authserv_id: str = "") -> AuthResults:
    """The verdicts of the trusted instance among `values` (every Authentication-Results, topmost first)."""
    value = trusted_instance(values, authserv_id)
    if value is None:
        return AuthResults()
    text = _strip_comments(value)
    verdicts: dict[str, list[str]] = {"dmarc": [], "dkim": [], "spf": []}
    dmarc_domain = ""
    for resinfo in text.split(";")[1:]:
        match = _RESULT.match(resinfo)
        if match:
            result = match.group(2).lower()
            method = match.group(1).lower()
            verdicts[method].append(result if result in _RESULTS else "unknown")
            domain = _HEADER_FROM.search(resinfo)
            if method == "dmarc" and domain and (result == "pass" or not dmarc_domain):
                dmarc_domain = domain.group(1).lower().rstrip(".")[:255]

    def verdict(method: str) -> str:
        found = verdicts[method]
        # Several DKIM signatures: one that verifies is enough (DMARC itself reads it so).
        return "pass" if "pass" in found else (found[0] if found else "")

    return AuthResults(
        header=" ".join(value.split())[:1000],
        authserv_id=_authserv_id(text)[:200],
        dmarc=verdict("dmarc"),
        dmarc_domain=dmarc_domain,
        dkim=verdict("dkim"),
        spf=verdict("spf"),
    )

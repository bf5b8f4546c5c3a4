"""Survey fatigue rules (DOMAIN §3) as a pure function: a person's recent invitations in, a decision out.

No database here, so every rule is tested without one (tests/test_throttle_rules.py). The windows
count the person's invitations across every service: fatigue belongs to the person, not to the
service; the policy that applies is the one of the service asking.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

TRANSACTIONAL = "transactional"
RELATIONSHIP = "relationship"


@dataclass(frozen=True)
class Policy:
    """DOMAIN §3 defaults; each service may change them (feedback.models.ThrottlePolicy)."""

    transactional_short_limit: int = 1
    transactional_short_days: int = 7
    transactional_long_limit: int = 3
    transactional_long_days: int = 30
    relationship_limit: int = 1
    relationship_days: int = 90
    min_gap_hours: int = 24
    sample_rate: int = 100


@dataclass(frozen=True)
class PastInvitation:
    kind: str  # TRANSACTIONAL or RELATIONSHIP
    sent_at: datetime


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str | None = None  # a SuppressedInvitation.Reason value when not allowed
    detail: str = ""


ALLOW = Decision(allowed=True)


def sample_bucket(key: str) -> int:
    """0..99, the same for the same key on every machine (not Python's salted hash)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % 100


def decide(
    *,
    kind: str,
    now: datetime,
    recent: Sequence[PastInvitation],
    policy: Policy = Policy(),
    opted_out: bool = False,
    sample_key: str = "",
) -> Decision:
    """May we invite this person now? Opt-out first, then the 24-hour gap, the windows, then sampling."""
    if opted_out:
        return Decision(False, "opted_out", "The person asked for no survey invitations.")
    gap = timedelta(hours=policy.min_gap_hours)
    latest = max((past.sent_at for past in recent), default=None)
    if policy.min_gap_hours and latest is not None and now - latest < gap:
        return Decision(False, "throttled", f"Invited less than {policy.min_gap_hours} hours ago.")
    if kind == RELATIONSHIP:
        windows = [(policy.relationship_limit, policy.relationship_days)]
    else:
        windows = [
            (policy.transactional_short_limit, policy.transactional_short_days),
            (policy.transactional_long_limit, policy.transactional_long_days),
        ]
    for limit, days in windows:
        since = now - timedelta(days=days)
        count = sum(1 for past in recent if past.kind == kind and past.sent_at > since)
        if count >= limit:
            label = "relationship" if kind == RELATIONSHIP else "transactional"
            return Decision(
                False, "throttled", f"Already {count} {label} invitation(s) in {days} days (limit {limit})."
            )
    if policy.sample_rate < 100 and sample_bucket(sample_key) >= policy.sample_rate:
        return Decision(False, "sampled_out", f"Not in the {policy.sample_rate}% sample.")
    return ALLOW


def lookback_days(policy: Policy) -> int:
    """How far back the caller must load invitations for `decide` to see every rule's window."""
    return max(
        policy.transactional_short_days,
        policy.transactional_long_days,
        policy.relationship_days,
        (policy.min_gap_hours + 23) // 24,
    )

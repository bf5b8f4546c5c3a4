"""Trust states: the evidence log of a pair replayed by the engine, stored with its version."""

from __future__ import annotations


def states_refresh_stale() -> int:
    """Recompute the states not computed for today; how many."""
    return 0

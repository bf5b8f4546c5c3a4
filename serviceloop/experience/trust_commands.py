"""`serviceloop trust ...`: simulate the model on a file, recompute the stored states, parameters."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    """Adds `serviceloop trust` (filled in by the trust room's commands)."""

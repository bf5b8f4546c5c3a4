"""The shared context of the demo loader; each app adds its part in its own `demo.py`."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

DEMO_PASSWORD = "serviceloop-demo"  # nosec B105  # the demo data set's published password (README), never a real login


@dataclass
class DemoContext:
    """Seeded randomness, a fixed 'now', and what earlier floors created, for later floors to use."""

    seed: int
    now: datetime
    progress: bool = False
    rng: random.Random = field(init=False)
    objects: dict[str, Any] = field(default_factory=dict)
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (role, email, password)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)  # nosec B311  # a seeded generator for reproducible demo data, not secrets

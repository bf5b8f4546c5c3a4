"""Trust's API, mounted at /api/experience/trust."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["trust"])

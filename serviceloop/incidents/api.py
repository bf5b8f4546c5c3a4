"""The incidents API, mounted at /api/incidents/: each room adds its own router here."""

from __future__ import annotations

from ninja import Router

from serviceloop.incidents.api_reviews import router as reviews_router

router = Router(tags=["incidents"])
router.add_router("", reviews_router)

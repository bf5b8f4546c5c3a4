"""The incidents app's API, mounted at /api/incidents/: each room adds its router here."""

from __future__ import annotations

from ninja import Router

from serviceloop.incidents.api_incidents import incidents_router

router = Router(tags=["incidents"])
router.add_router("", incidents_router)

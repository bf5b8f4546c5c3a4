"""The incidents API, mounted at /api/incidents/: each part of the app adds its router here."""

from __future__ import annotations

from ninja import Router

from serviceloop.incidents.api_maintenance import router as maintenance_router

router = Router(tags=["incidents"])
router.add_router("/maintenance", maintenance_router)

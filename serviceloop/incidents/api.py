"""The incidents app's API, mounted at /api/incidents/: each room adds its router here."""

from __future__ import annotations

from ninja import Router

from serviceloop.incidents.api_incidents import incidents_router
from serviceloop.incidents.api_maintenance import router as maintenance_router
from serviceloop.incidents.api_reviews import router as reviews_router
from serviceloop.incidents.api_subscriptions import subscriptions_router

router = Router(tags=["incidents"])
router.add_router("", incidents_router)
router.add_router("/subscriptions", subscriptions_router)
router.add_router("/maintenance", maintenance_router)
router.add_router("", reviews_router)

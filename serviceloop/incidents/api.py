"""The incidents API, mounted at /api/incidents/: each room adds its router here."""

from ninja import Router

from serviceloop.incidents.api_subscriptions import subscriptions_router

router = Router(tags=["incidents"])
router.add_router("/subscriptions", subscriptions_router)

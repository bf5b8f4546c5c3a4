"""The feedback API: surveys and responses (api/surveys.py), channels (api/channels.py)."""

from ninja import Router

from serviceloop.feedback.api.channels import router as channels_router
from serviceloop.feedback.api.surveys import router as surveys_router

router = Router()
router.add_router("", surveys_router)
router.add_router("", channels_router)

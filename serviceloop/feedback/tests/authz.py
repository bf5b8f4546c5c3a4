"""Authorisation rows for feedback: surveys/responses and channels keep their own tables."""

from serviceloop.core.authz_matrix import World
from serviceloop.feedback.tests import authz_channels, authz_surveys


def build(world: World) -> None:
    authz_surveys.build(world)
    authz_channels.build(world)


PAGES = [*authz_surveys.PAGES, *authz_channels.PAGES]
ENDPOINTS = [*authz_surveys.ENDPOINTS, *authz_channels.ENDPOINTS]

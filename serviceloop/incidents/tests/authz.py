"""Authorisation rows of the incidents app: each part keeps its own module, gathered here."""

from __future__ import annotations

from serviceloop.core.authz_matrix import World
from serviceloop.incidents.tests import authz_maint

PAGES = [*authz_maint.PAGES]
ENDPOINTS = [*authz_maint.ENDPOINTS]


def build(world: World) -> None:
    authz_maint.build(world)

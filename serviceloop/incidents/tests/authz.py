"""Authorisation rows of the incidents app (see serviceloop/core/authz_matrix.py); each room keeps its own."""

from __future__ import annotations

from serviceloop.core.authz_matrix import World
from serviceloop.incidents.tests import authz_review

PAGES = [*authz_review.PAGES]
ENDPOINTS = [*authz_review.ENDPOINTS]


def build(world: World) -> None:
    authz_review.build(world)

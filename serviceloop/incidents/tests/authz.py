"""Authorisation rows for incidents: each room keeps its own table."""

from serviceloop.core.authz_matrix import World
from serviceloop.incidents.tests import authz_subs


def build(world: World) -> None:
    authz_subs.build(world)


PAGES = [*authz_subs.PAGES]
ENDPOINTS = [*authz_subs.ENDPOINTS]

"""Authorisation rows for the feedback surveys pages and API (merged by tests/authz.py)."""

from serviceloop.core.authz_matrix import Endpoint, Page, World


def build(world: World) -> None:
    pass


PAGES: list[Page] = []
ENDPOINTS: list[Endpoint] = []

"""Authorisation rows for the incidents app (see serviceloop/core/authz_matrix.py): each room's rows
live in authz_<room>.py and are gathered here, one line each."""

from __future__ import annotations

from serviceloop.core.authz_matrix import Page, World
from serviceloop.incidents.tests.authz_pages import PAGE_ROWS, build_pages


def build(world: World) -> None:
    build_pages(world)


PAGES: list[Page] = [*PAGE_ROWS]

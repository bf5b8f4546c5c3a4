"""Authorisation rows for the incidents app (see serviceloop/core/authz_matrix.py): each area keeps
its rows in its own authz_<area>.py with `build(world)`, `PAGES` and `ENDPOINTS`; this module runs
every `build` in order and joins the rows."""

from __future__ import annotations

from serviceloop.core.authz_matrix import Endpoint, Page, World
from serviceloop.incidents.tests import authz_comms, authz_maint, authz_review, authz_status, authz_subs

AREAS = [authz_comms, authz_status, authz_subs, authz_maint, authz_review]


def build(world: World) -> None:
    for area in AREAS:
        area.build(world)


PAGES: list[Page] = [row for area in AREAS for row in area.PAGES]
ENDPOINTS: list[Endpoint] = [row for area in AREAS for row in area.ENDPOINTS]

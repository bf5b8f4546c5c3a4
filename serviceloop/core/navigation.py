"""The main navigation, assembled from each app's `navigation.py` so no app edits another's menu.

An app lists its entries in `ITEMS`; the context processor shows each to the audience it names:
"staff" (every staff login), "administrator" (administrators only), "customer", or "all". An entry
may carry `count`: a function of the viewer giving a number shown beside the label (0: none shown),
e.g. open alerts; keep it one indexed query, it runs on every page.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from django.apps import apps

Audience = Literal["staff", "administrator", "customer", "all"]


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    audience: Audience = "staff"
    order: int = 100
    count: Callable[[Any], int] | None = None


def audiences_of(user: object) -> set[str]:
    """The audiences a viewer belongs to; an anonymous visitor belongs to none."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    audiences = {"all", "staff" if getattr(user, "is_staff_member", False) else "customer"}
    if getattr(user, "is_administrator", False):
        audiences.add("administrator")
    return audiences


def declared(name: str) -> list[object]:
    """Every app's `navigation.<name>` list (ITEMS, OBJECT_LINKS, OBJECT_PANELS), apps in order."""
    found: list[object] = []
    for config in apps.get_app_configs():
        if not config.name.startswith("serviceloop."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.navigation")
        except ModuleNotFoundError as error:
            if error.name != f"{config.name}.navigation":
                raise
            continue
        found.extend(getattr(module, name, []))
    return found


@cache
def nav_items() -> tuple[NavItem, ...]:
    # Read once per process: the list is static configuration, not state.
    items = [item for item in declared("ITEMS") if isinstance(item, NavItem)]
    return tuple(sorted(items, key=lambda item: (item.order, item.label)))


# Core's own pages: the audit trail for staff, the outbox's health for administrators.
ITEMS = [
    NavItem("Event log", "core:event_log", audience="staff", order=800),
    NavItem("Operations", "core:operations", audience="administrator", order=850),
    NavItem("Admin", "admin:index", audience="administrator", order=900),
]

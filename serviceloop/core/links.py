"""Links to an object's pages in higher apps, so a lower app's page links upward without importing it.

A service page (catalogue, floor 2) links to the service's tickets (desk) and feedback (feedback): each
higher app lists its links in `OBJECT_LINKS` of its `navigation.py`, and the lower page renders
`{% object_links service %}`. Each link names the model it is for, the route, how the object fills the
route (path arguments or query parameters, from the object's attributes) and the audience.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlencode

from django.apps import apps
from django.urls import NoReverseMatch, reverse

from serviceloop.core.navigation import Audience, audiences_of


@dataclass(frozen=True)
class ObjectLink:
    model: str  # "app_label.modelname", lower case
    label: str
    url_name: str
    args: tuple[str, ...] = ()  # attributes of the object passed as path arguments
    query: dict[str, str] = field(default_factory=dict)  # query parameter → attribute of the object
    constants: dict[str, str] = field(default_factory=dict)  # fixed query parameters
    audience: Audience = "staff"
    order: int = 100


@cache
def _all_links() -> tuple[ObjectLink, ...]:
    # Static configuration read once per process, like the navigation.
    links: list[ObjectLink] = []
    for config in apps.get_app_configs():
        if not config.name.startswith("serviceloop."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.navigation")
        except ModuleNotFoundError as error:
            if error.name != f"{config.name}.navigation":
                raise
            continue
        links.extend(getattr(module, "OBJECT_LINKS", []))
    return tuple(sorted(links, key=lambda link: (link.order, link.label)))


def object_links(obj: Any, user: Any) -> list[dict[str, str]]:
    """The links other apps offer for this object, for this viewer: [{"label", "url"}]."""
    model = f"{obj._meta.app_label}.{obj._meta.model_name}"
    audiences = audiences_of(user)
    entries = []
    for link in _all_links():
        if link.model != model or link.audience not in audiences:
            continue
        try:
            url = reverse(link.url_name, args=[getattr(obj, name) for name in link.args])
        except NoReverseMatch:
            continue
        params = {**link.constants, **{key: str(getattr(obj, name)) for key, name in link.query.items()}}
        entries.append({"label": link.label, "url": f"{url}?{urlencode(params)}" if params else url})
    return entries

"""Every schema of the API has a name of its own.

ninja names an OpenAPI component after its class, and two classes of one name silently share one
component: the event log's answers were documented with the desk's ticket-history schema, and
every tool reading the contract validated them against the wrong one.
"""

from __future__ import annotations

from collections import defaultdict

from ninja import Schema

import serviceloop.api  # noqa: F401  (mounts every app's router, importing every schema)


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def test_no_two_api_schemas_share_a_name() -> None:
    by_name: dict[str, set[str]] = defaultdict(set)
    for cls in _subclasses(Schema):
        if cls.__module__.startswith("serviceloop."):
            by_name[cls.__name__].add(cls.__module__)
    shared = {name: sorted(modules) for name, modules in by_name.items() if len(modules) > 1}
    assert shared == {}

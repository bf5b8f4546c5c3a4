"""Catalogue rows for tests: state only the fields the test cares about."""

from __future__ import annotations

from typing import Any

from serviceloop.accounts.models import User
from serviceloop.catalogue.models import Offering, Service, ValueItem
from serviceloop.catalogue.services import offering_create, service_create, value_item_create


def make_service(by: User, name: str = "Email & collaboration", **fields: Any) -> Service:
    fields.setdefault("service_manager", by)
    fields.setdefault("lifecycle", "live")
    return service_create(by=by, name=name, **fields)


def make_offering(by: User, service: Service | None = None, name: str = "Mailbox", **fields: Any) -> Offering:
    return offering_create(service=service or make_service(by), by=by, name=name, **fields)


def make_value_item(by: User, offering: Offering, kind: str = "outcome", **fields: Any) -> ValueItem:
    fields.setdefault("description", f"A {kind} line")
    return value_item_create(offering=offering, by=by, kind=kind, **fields)

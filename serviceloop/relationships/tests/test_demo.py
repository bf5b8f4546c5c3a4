"""The demo data set is complete and deterministic (seeded)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from serviceloop.accounts import demo as accounts_demo
from serviceloop.accounts.models import User
from serviceloop.catalogue import demo as catalogue_demo
from serviceloop.catalogue.models import Service, ValueItem
from serviceloop.core.demo import DemoContext
from serviceloop.relationships import demo as relationships_demo
from serviceloop.relationships.models import Person, Relationship, RelationshipRole

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _load(seed: int = 42) -> DemoContext:
    ctx = DemoContext(seed=seed, now=NOW)
    for module in (accounts_demo, catalogue_demo, relationships_demo):
        module.load(ctx)
    return ctx


def _digest() -> str:
    rows: list[Any] = [
        list(
            Person.objects.order_by("organisation__slug", "email").values_list(
                "organisation__slug", "name", "email", "time_zone", "survey_opt_out"
            )
        ),
        list(
            Relationship.objects.order_by("organisation__slug", "offering__slug").values_list(
                "organisation__slug", "offering__slug", "status", "started_on", "ended_on"
            )
        ),
        list(
            RelationshipRole.objects.order_by("person__email", "relationship__offering__slug", "role").values_list(
                "person__email", "relationship__offering__slug", "role"
            )
        ),
    ]
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_demo_has_the_promised_breadth(db: Any) -> None:
    ctx = _load()
    live = Service.objects.filter(lifecycle="live")
    assert live.count() >= 6
    for offering in ctx.objects["offerings"]:
        kinds = set(offering.value_items.values_list("kind", flat=True))
        assert kinds == set(ValueItem.Kind.values), offering
        assert (
            offering.value_items.filter(financial=True).exists()
            and offering.value_items.filter(financial=False).exists()
        )
        assert offering.components.exists()
    assert len(ctx.objects["organisations"]) >= 10
    assert Person.objects.count() >= 100
    starts = set(Relationship.objects.values_list("started_on", flat=True))
    assert len(starts) > 20 and (NOW.date() - min(starts)).days <= 731
    assert (
        Relationship.objects.filter(status="ended").exists() and Relationship.objects.filter(status="paused").exists()
    )
    assert Person.objects.filter(survey_opt_out=True).exists()
    # Every organisation has a customer login, linked to a person of it.
    for organisation in ctx.objects["organisations"]:
        login = User.objects.get(email=f"customer@{organisation.domain}")
        assert login.person.organisation == organisation
    # Some people hold several roles in one relationship.
    assert any(
        RelationshipRole.objects.filter(relationship=r, person=role.person).count() > 1
        for r in ctx.objects["relationships"]
        for role in r.roles.all()
    )


def test_same_seed_gives_the_same_data(db: Any) -> None:
    with transaction.atomic():
        _load()
        first = _digest()
        transaction.set_rollback(True)
    _load()
    assert _digest() == first

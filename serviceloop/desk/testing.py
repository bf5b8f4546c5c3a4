"""Desk fixtures (registered from the root conftest.py): a service organisation A consumes and Carol's contact record."""

from __future__ import annotations

import pytest

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.desk.tests.factories import grant, make_offering, make_person, make_relationship, make_service
from serviceloop.relationships.models import Person, Relationship


@pytest.fixture
def service(sam: User) -> Service:
    return make_service("Email & collaboration", manager=sam)


@pytest.fixture
def offering(service: Service) -> Offering:
    return make_offering(service, "Mailbox")


@pytest.fixture
def relationship_a(org_a: Organisation, offering: Offering) -> Relationship:
    return make_relationship(org_a, offering)


@pytest.fixture
def carol_person(carol: User, org_a: Organisation, relationship_a: Relationship) -> Person:
    """Carol's contact record: a plain user of the relationship (sees her own tickets only)."""
    person = make_person(org_a, email=carol.email, user=carol, name="Carol Customer")
    grant(relationship_a, person, "user")
    return person


@pytest.fixture
def dave(org_a: Organisation, relationship_a: Relationship) -> Person:
    """Another person of organisation A, without a login."""
    return make_person(org_a, email="dave@acme.example", name="Dave Acme")


@pytest.fixture
def bob_person(bob: User, org_b: Organisation) -> Person:
    return make_person(org_b, email=bob.email, user=bob, name="Bob Borealis")

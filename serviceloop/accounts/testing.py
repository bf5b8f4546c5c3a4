"""Named people for tests (registered from the root conftest.py), like healthchecks' Alice and Bob.

- ada: administrator · sam: service manager · alex: agent
- carol: customer user of organisation A (Acme) · bob: customer user of organisation B (Borealis)

`at_once(...)` runs calls in threads released together by a barrier: the race tests' tool.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.services import api_token_create, organisation_create, user_create

PASSWORD = "correct-horse-battery-staple"


def make_organisation(name: str = "Acme Logistics", **fields: Any) -> Organisation:
    return organisation_create(name=name, **fields)


def make_user(email: str, role: str = User.Role.AGENT, organisation: Organisation | None = None, **fields: Any) -> User:
    return user_create(email=email, role=role, password=PASSWORD, organisation=organisation, validate=False, **fields)


def api_client_for(user: User) -> Client:
    """A test client that authenticates with a real API token of `user`."""
    issued = api_token_create(user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")


def at_once(*calls: Callable[[], Any], timeout: float = 60.0) -> list[Any]:
    """Run `calls` in threads that start together (a barrier); their results in order.

    Each thread has its own database connection, so the test needs `transactional_db`; an exception
    in a thread is returned as its result, for the test to assert on.
    """
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout)
            results[index] = call()
        except Exception as error:  # handed back to the test, which asserts on it
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results


@pytest.fixture
def org_a(db: Any) -> Organisation:
    return make_organisation("Acme Logistics", domain="acme.example")


@pytest.fixture
def org_b(db: Any) -> Organisation:
    return make_organisation("Borealis Health", domain="borealis.example")


@pytest.fixture
def ada(db: Any) -> User:
    return make_user("ada@provider.example", User.Role.ADMINISTRATOR, name="Ada Admin")


@pytest.fixture
def sam(db: Any) -> User:
    return make_user("sam@provider.example", User.Role.SERVICE_MANAGER, name="Sam Manager")


@pytest.fixture
def alex(db: Any) -> User:
    return make_user("alex@provider.example", User.Role.AGENT, name="Alex Agent")


@pytest.fixture
def carol(org_a: Organisation) -> User:
    return make_user("carol@acme.example", User.Role.CUSTOMER, organisation=org_a, name="Carol Customer")


@pytest.fixture
def bob(org_b: Organisation) -> User:
    return make_user("bob@borealis.example", User.Role.CUSTOMER, organisation=org_b, name="Bob Borealis")

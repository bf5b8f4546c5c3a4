"""Schema fuzzing of the whole API from its own OpenAPI document (schemathesis).

Signed in as an administrator (who may call everything), a bounded number of generated requests per
operation: no 5xx, every status is one the operation declares, every body matches its schema.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from serviceloop.accounts.models import User
from serviceloop.accounts.services import api_token_create
from serviceloop.accounts.testing import make_user

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", WSGIHandler())
EXAMPLES = int(os.environ.get("SERVICELOOP_FUZZ_EXAMPLES", "25"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(autouse=True)
def _keep_the_test_connection(db: Any) -> Any:
    # A bare WSGIHandler closes old database connections around each request, which would close
    # the connection that holds the test's transaction; Django's test Client disconnects it too.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(db: Any) -> str:
    admin = make_user("fuzz-admin@provider.example", User.Role.ADMINISTRATOR)
    return api_token_create(user=admin, name="fuzz").secret


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
    derandomize=True,
)
def test_api_operation_conforms_to_its_schema(case: Any, admin_token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_token}"}, checks=CHECKS)

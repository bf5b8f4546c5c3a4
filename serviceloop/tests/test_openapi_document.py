"""The API contract as tools read it: one key per status, a valid OpenAPI 3 document, docs that render."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from openapi_spec_validator import validate

from serviceloop.accounts.testing import PASSWORD


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    duplicated = sorted({key for key in keys if keys.count(key) > 1})
    if duplicated:
        raise AssertionError(f"duplicate keys in the OpenAPI document: {duplicated}")
    return dict(pairs)


@pytest.fixture
def document(db: Any) -> dict[str, Any]:
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    # Python's json keeps the last of two equal keys silently; YAML and Swagger UI refuse them.
    return json.loads(response.content, object_pairs_hook=_no_duplicates)  # type: ignore[no-any-return]


def test_the_openapi_document_has_one_key_per_status(document: dict[str, Any]) -> None:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert all(isinstance(status, str) for status in operation["responses"]), (path, method)


def test_the_openapi_document_is_valid_openapi_3(document: dict[str, Any]) -> None:
    validate(document)


def test_every_write_documents_the_idempotency_key(document: dict[str, Any]) -> None:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method.upper() in {"POST", "PUT", "PATCH", "DELETE"}:
                names = [parameter["name"] for parameter in operation.get("parameters", [])]
                assert names.count("Idempotency-Key") == 1, (path, method)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_api_docs_render_the_operations_without_an_error(live_server: Any, page: Any, alex: Any) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", alex.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login" not in url)
    page.goto(f"{live_server.url}/api/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=20000)
    assert page.locator(".opblock").count() > 50
    assert page.locator(".errors-wrapper").count() == 0
    assert "Parser error" not in page.content()

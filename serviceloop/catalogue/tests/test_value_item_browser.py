"""A value item's estimate typed in a real browser: a number the form cannot store is refused with
a message next to the field, never stored as "no estimate" (issue 11: `-1e999` was, because the
browser emptied its number box before sending)."""

from __future__ import annotations

from typing import Any

import pytest

from serviceloop.accounts.testing import PASSWORD
from serviceloop.catalogue.models import ValueItem
from serviceloop.catalogue.tests.factories import make_offering

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("typed", ["-1e999", "Infinity"])
def test_an_estimate_the_form_cannot_store_is_refused_next_to_the_field(
    live_server: Any, page: Any, sam: Any, typed: str
) -> None:
    offering = make_offering(sam)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", sam.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login" not in url)
    page.goto(f"{live_server.url}/catalogue/offerings/{offering.public_id}/value/new/")
    page.select_option("#id_kind", "outcome")
    page.fill("#id_description", "Time saved per booking")
    page.fill("#id_estimate", typed)
    page.click("button:has-text('Add value item')")
    error = page.locator(".field.has-error:has(#id_estimate) .error")
    error.first.wait_for()
    assert error.first.inner_text().strip()
    assert page.input_value("#id_estimate") == typed
    assert not ValueItem.objects.exists()

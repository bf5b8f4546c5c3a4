"""The demo's home dashboard and a service page, read in a browser, say what the metrics API says.

The demo (`serviceloop demo`, what `make run` loads) is loaded into the live server's database; a
manager signs in as a new user would, reads the portfolio row of every service and the headline of
the service desk's page, and each figure shown is the API's for the same scope and period.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from serviceloop.core.demo import DEMO_PASSWORD
from serviceloop.demo import load_demo
from serviceloop.experience.charts import format_value
from serviceloop.experience.forms import default_period
from serviceloop.experience.portfolio import DEFAULT_PERIOD, period_ending, today

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MANAGER = "manager@serviceloop.demo"


def _api(page: Any, base: str, **params: str) -> dict[str, dict[str, Any]]:
    """{service public id or "": {metric: figure}} from GET /api/experience/metrics."""
    query = "&".join(f"{key}={value}" for key, value in params.items())
    answer = page.request.get(f"{base}/api/experience/metrics?{query}")
    assert answer.ok, answer.text()
    return {
        group["key"].get("service") or "": {figure["metric"]: figure for figure in group["figures"]}
        for group in answer.json()["groups"]
    }


def _shown(figure: dict[str, Any]) -> str:
    return format_value(figure["value"], figure["unit"])


def test_the_demo_dashboard_and_a_service_page_agree_with_the_api(live_server: Any, page: Any) -> None:
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        load_demo(seed=42)
    base = live_server.url
    page.goto(f"{base}/accounts/login/?next=/")
    page.get_by_label("Email").fill(MANAGER)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
    assert page.get_by_role("heading", name="Portfolio", exact=True).is_visible()

    # The portfolio: every live service's happiness, its n, lost time per answer and in total.
    period = period_ending(today(), DEFAULT_PERIOD)
    expected = _api(
        page,
        base,
        group_by="service",
        metrics="happiness,lost_time_mean,lost_time_total",
        **{"from": period.since.isoformat(), "to": period.until.isoformat()},
    )
    rows = page.locator("table.portfolio > tbody > tr")
    assert rows.count() >= 5
    compared = 0
    for index in range(rows.count()):
        row = rows.nth(index)
        figures = expected.get(row.get_attribute("data-service") or "")
        if figures is None:  # a service without an answer in the period: nothing to compare
            continue
        happiness = figures["happiness"]
        assert row.locator('[data-figure="n"]').inner_text().strip() == str(happiness["n"])
        if happiness["value"] is not None:
            assert row.locator('[data-figure="score"]').inner_text().strip() == _shown(happiness)
        for name in ("lost_time_mean", "lost_time_total"):
            assert row.locator(f'[data-figure="{name}"]').inner_text().strip() == _shown(figures[name])
        compared += 1
    assert compared >= 5

    # The service desk's page (the demo's service that improved after its new portal).
    page.locator("table.portfolio a", has_text="Service desk").first.click()
    page.wait_for_url("**/experience/services/*/")
    assert page.get_by_role("heading", name="Experience of Service desk").is_visible()
    public_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    since, until = default_period()
    ((_key, figures),) = _api(
        page,
        base,
        service=public_id,
        metrics="happiness,lost_time_mean,response_rate,fcr",
        **{"from": since.isoformat(), "to": until.isoformat()},
    ).items()
    for name in ("happiness", "lost_time_mean", "response_rate", "fcr"):
        card = page.locator(f'.headline [data-metric="{name}"]')
        figure = figures[name]
        assert figure["value"] is not None, name  # the demo has enough answers and tickets for each
        assert card.locator(".kpi").inner_text().strip() == _shown(figure), name
        assert f"n {figure['n']}" in card.inner_text(), name

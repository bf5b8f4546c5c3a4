"""The public status page, its incident pages, history and monthly uptime, seen by an anonymous visitor."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client

from serviceloop.accounts.models import User
from serviceloop.core.testing import Travel
from serviceloop.incidents import status
from serviceloop.incidents.models import Component, ComponentStatus
from serviceloop.incidents.tests.factories_status import (
    make_change,
    make_component,
    make_group,
    make_incident,
    make_maintenance,
    make_step,
    make_update,
    publish_review,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class _Bars(HTMLParser):
    """The day bars: (class, title, accessible text) of each <li> in an <ol class="bars">."""

    def __init__(self) -> None:
        super().__init__()
        self.lists: list[list[dict[str, str]]] = []
        self._in_bar = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {k: v or "" for k, v in attrs}
        if tag == "ol" and named.get("class") == "bars":
            self.lists.append([])
        elif tag == "li" and self.lists and "title" in named and not self._in_bar:
            self.lists[-1].append({"class": named.get("class", ""), "title": named["title"], "text": ""})
            self._in_bar = True

    def handle_data(self, data: str) -> None:
        if self._in_bar:
            self.lists[-1][-1]["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "li":
            self._in_bar = False


def page(path: str = "/status/", client: Client | None = None) -> str:
    response = (client or Client()).get(path)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.fixture
def mail(sam: User, travel: Travel) -> Component:
    travel.to(NOW - timedelta(days=200))
    component = make_component(sam, "Mail")
    travel.to(NOW)
    return component


def test_a_quiet_page_says_all_is_well(mail: Component) -> None:
    html = page()
    assert "All Systems Operational" in html
    assert "Mail" in html and "✓" in html and "Operational" in html
    assert html.count("No incidents reported.") == 14
    assert 'href="/status/subscribe/"' in html
    assert 'href="/status/history.atom"' in html and 'href="/status/history.rss"' in html


def test_an_empty_page_says_so(db: Any) -> None:
    assert "No services are published on this page yet." in page()


def test_ninety_day_bars_name_each_day_its_uptime_and_incidents(mail: Component) -> None:
    incident = make_incident("Mail is down", services={mail.service: ComponentStatus.MAJOR}, status="resolved")
    day_before = NOW - timedelta(days=1)
    start = datetime.combine(day_before.date(), datetime.min.time(), tzinfo=UTC) + timedelta(hours=6)
    make_change(incident, mail.service, ComponentStatus.MAJOR, start, start + timedelta(hours=2, minutes=24))
    parser = _Bars()
    parser.feed(page())
    [bars] = parser.lists
    assert len(bars) == 90
    yesterday = bars[-2]
    # 2 h 24 min of 24 h down: 90%.
    assert yesterday["class"] == "major_outage"
    assert yesterday["title"] == "19 Nov 2026: 90.00% uptime; Mail is down"
    assert yesterday["text"] == yesterday["title"]
    assert bars[-1]["title"] == "20 Nov 2026: 100.00% uptime; no incidents"
    assert bars[-3]["class"] == "operational"


def test_days_before_the_component_started_are_grey(sam: User, travel: Travel) -> None:
    travel.to(NOW)
    make_component(sam, "Chat", start_date=date(2026, 11, 18))
    parser = _Bars()
    parser.feed(page())
    [bars] = parser.lists
    assert [b["class"] for b in bars[-4:]] == ["nodata", "operational", "operational", "operational"]
    assert bars[-4]["title"] == "17 Nov 2026: no data"


def test_open_incidents_show_their_public_updates_newest_first_and_the_published_plan(mail: Component) -> None:
    incident = make_incident("Mail is down", services={mail.service: ComponentStatus.MAJOR}, severity="sev1")
    make_update(incident, "First we looked.", display_at=NOW - timedelta(minutes=30))
    make_update(incident, "Then we found it.", display_at=NOW - timedelta(minutes=5))
    make_step(incident, "Restore the mail store", customer_facing=True, eta=NOW + timedelta(hours=1))
    make_step(incident, "Page the storage vendor", customer_facing=False)
    html = page()
    assert "Major System Outage" in html and "Current incidents" in html
    assert html.index("Then we found it.") < html.index("First we looked.")
    assert "Restore the mail store" not in html  # the plan is not published yet
    incident.plan_published_at = NOW
    incident.save()
    html = page()
    assert "Restore the mail store" in html
    assert "Page the storage vendor" not in html


def test_maintenance_in_progress_and_to_come(mail: Component) -> None:
    make_maintenance("Network switch swap", services=[mail.service], status="in_progress", starts=NOW)
    make_maintenance("Database upgrade", services=[mail.service], starts=NOW + timedelta(days=3))
    html = page()
    assert html.index("Maintenance in progress") < html.index("Network switch swap")
    assert html.index("Scheduled maintenance") < html.index("Database upgrade")
    assert "⚙" in html and "Under maintenance" in html and "Service Under Maintenance" in html


def test_components_are_grouped_and_quiet_ones_may_hide(sam: User, travel: Travel) -> None:
    travel.to(NOW)
    network = make_group("Network")
    make_component(sam, "Wi-Fi", group=network)
    vpn = make_component(sam, "VPN", group=network, only_show_if_degraded=True)
    html = page()
    assert "<h3>Network</h3>" in html and "Wi-Fi" in html and "VPN" not in html
    make_incident(services={vpn.service: ComponentStatus.DEGRADED})
    html = page()
    assert "VPN" in html and "Degraded performance" in html


def test_past_incidents_of_the_last_fourteen_days(mail: Component, travel: Travel) -> None:
    travel.to(NOW - timedelta(days=3))
    make_incident("Calendar sync failed", services={mail.service: ComponentStatus.PARTIAL}, status="resolved")
    travel.to(NOW - timedelta(days=20))
    make_incident("Old trouble", status="resolved")
    travel.to(NOW)
    html = page()
    assert "Calendar sync failed" in html and "Old trouble" not in html
    assert html.count("No incidents reported.") == 13


def test_the_incident_page_has_the_timeline_and_the_published_summary(mail: Component) -> None:
    incident = make_incident("Mail is down", services={mail.service: ComponentStatus.MAJOR}, status="resolved")
    make_update(incident, "We are on it.", display_at=NOW - timedelta(hours=1))
    make_update(incident, "Resolved.", display_at=NOW)
    html = page(f"/status/incidents/{incident.public_id}/")
    assert "We are on it." in html and "Resolved." in html and "What happened" not in html
    publish_review(incident, "A disk filled up; we now alert at 80%.")
    html = page(f"/status/incidents/{incident.public_id}/")
    assert "A disk filled up; we now alert at 80%." in html
    assert "Postmortem" in page()


def test_an_unknown_incident_is_not_found(db: Any) -> None:
    assert Client().get("/status/incidents/nope/").status_code == 404


def test_history_goes_month_by_month(mail: Component, travel: Travel) -> None:
    travel.to(datetime(2026, 10, 5, 9, tzinfo=UTC))
    make_incident("October outage", status="resolved")
    travel.to(NOW)
    make_incident("November outage", status="resolved")
    html = page("/status/history/")
    assert "November 2026" in html and "November outage" in html and "October outage" not in html
    assert 'href="?month=2026-10"' in html and "Later month" not in html
    html = page("/status/history/?month=2026-10")
    assert "October outage" in html and "November outage" not in html
    assert 'href="?month=2026-11"' in html
    assert "No incidents or maintenance in September 2026" in page("/status/history/?month=2026-09")
    assert Client().get("/status/history/?month=soon").status_code == 404
    assert Client().get("/status/history/?month=2027-01").status_code == 404


def test_the_monthly_uptime_view(mail: Component) -> None:
    incident = make_incident(services={mail.service: ComponentStatus.MAJOR}, status="resolved")
    make_change(incident, mail.service, ComponentStatus.MAJOR, datetime(2026, 11, 2, tzinfo=UTC),
                datetime(2026, 11, 2, 6, tzinfo=UTC))  # fmt: skip
    html = page("/status/uptime/")
    # November up to the 20th 12:00 is 468 hours; 6 of them down.
    expected = f"{100 * (468 - 6) / 468:.2f}%"
    assert expected in html and "below target" in html
    assert re.search(r"Oct 2026", html) and "100.00%" in html


def test_an_anonymous_visitor_may_cache_the_page_a_signed_in_one_may_not(mail: Component, carol: User) -> None:
    response = Client().get("/status/")
    assert "public" in response["Cache-Control"] and response["ETag"]
    assert Client().get("/status/", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    signed_in = Client()
    signed_in.force_login(carol)
    response = signed_in.get("/status/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store, private"
    assert "carol" not in response.content.decode().lower()


def test_the_pages_need_no_inline_script_or_style(mail: Component) -> None:
    make_incident(services={mail.service: ComponentStatus.MAJOR})
    for path in ("/status/", "/status/history/", "/status/uptime/"):
        html = page(path)
        assert "<script" not in html and "style=" not in html and "<style" not in html
        # Works offline: every asset is our own.
        assert not re.search(r'(src|href)="https?://', html.replace(f'href="{status.page_url()}', ""))

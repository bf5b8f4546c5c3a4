"""The Atom and RSS feeds: valid documents (parsed as XML, required elements present), one entry per
public update, newest first."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from django.test import Client

from serviceloop.accounts.models import User
from serviceloop.core.testing import Travel
from serviceloop.incidents.models import Audience, Component, ComponentStatus, Incident
from serviceloop.incidents.tests.factories_status import make_component, make_incident, make_maintenance, make_update

ATOM = "{http://www.w3.org/2005/Atom}"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def updates(sam: User, travel: Travel) -> Incident:
    travel.to(NOW)
    mail: Component = make_component(sam, "Mail")
    incident = make_incident("Mail is down", services={mail.service: ComponentStatus.MAJOR})
    make_update(incident, "We are investigating.", display_at=NOW - timedelta(minutes=30))
    make_update(incident, "Found the cause.", status="identified", display_at=NOW - timedelta(minutes=10))
    make_update(incident, "Bridge notes", audiences=[Audience.INTERNAL])
    window = make_maintenance("Switch swap", services=[mail.service])
    make_update(window, "Swap planned for tomorrow.", display_at=NOW - timedelta(minutes=20))
    return incident


def fetch(path: str) -> tuple[ET.Element, str]:
    response = Client().get(path)
    assert response.status_code == 200
    assert "public" in response["Cache-Control"]
    return ET.fromstring(response.content), response["Content-Type"]  # noqa: S314  # nosec B314: our own output


def test_the_atom_feed_is_valid_and_has_one_entry_per_public_update(updates: Incident) -> None:
    feed, content_type = fetch("/status/history.atom")
    assert content_type.startswith("application/atom+xml")
    assert feed.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated", "link", "author"):
        assert feed.find(f"{ATOM}{name}") is not None, name
    entries = feed.findall(f"{ATOM}entry")
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    assert titles == ["Mail is down: Identified", "Switch swap: Scheduled", "Mail is down: Investigating"]
    for entry in entries:
        for name in ("id", "title", "updated", "link", "author"):
            assert entry.find(f"{ATOM}{name}") is not None, name
        assert entry.find(f"{ATOM}author/{ATOM}name") is not None
        link = entry.find(f"{ATOM}link")
        assert link is not None and re.search(r"^http://testserver/status/incidents/\w+/#u-\w+$", link.get("href", ""))
        datetime.fromisoformat(entry.findtext(f"{ATOM}updated") or "")
    assert "Bridge notes" not in ET.tostring(feed, encoding="unicode")


def test_the_rss_feed_is_valid_rss_2(updates: Incident) -> None:
    rss, content_type = fetch("/status/history.rss")
    assert content_type.startswith("application/rss+xml")
    assert rss.tag == "rss" and rss.get("version") == "2.0"
    channel = rss.find("channel")
    assert channel is not None
    for name in ("title", "link", "description"):
        assert channel.findtext(name), name
    items = channel.findall("item")
    assert len(items) == 3
    guids = [item.findtext("guid") for item in items]
    assert len(set(guids)) == 3 and all(g and g.startswith("http") for g in guids)
    dates = [parsedate_to_datetime(item.findtext("pubDate") or "") for item in items]
    assert dates == sorted(dates, reverse=True) and dates[0] == NOW - timedelta(minutes=10)
    assert items[0].findtext("description") == "Found the cause."
    found = updates.updates.get(body="Found the cause.")
    assert items[0].findtext("link", "").endswith(f"/status/incidents/{updates.public_id}/#u-{found.public_id}")


def test_the_feeds_answer_only_get(db: None) -> None:
    assert Client().post("/status/history.atom").status_code == 405
    assert Client().get("/status/history.rss").status_code == 200

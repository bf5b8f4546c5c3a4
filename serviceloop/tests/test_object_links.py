"""Pages of lower apps link to the pages higher apps keep about the same object (core.links)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from serviceloop.accounts.testing import api_client_for
from serviceloop.desk.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def _get(user: Any, url: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def _related(html: str) -> dict[str, str]:
    nav = html.split('aria-label="Related pages">')[1].split("</nav>")[0]
    return {label: href.replace("&amp;", "&") for href, label in re.findall(r'<a href="([^"]+)">([^<]+)</a>', nav)}


def test_a_service_page_links_to_its_tickets_feedback_posts_and_qr_code(
    alex: Any, service: Any, carol_person: Any
) -> None:
    mine = make_ticket(carol_person, service, subject="About this service")
    links = _related(_get(alex, reverse("catalogue:service_detail", args=[service.public_id])))
    assert links["Feedback"] == reverse("feedback:service_stream", args=[service.public_id])
    assert links["Posts"] == reverse("feedback:service_posts", args=[service.public_id])
    assert links["QR code"] == reverse("feedback:service_qr", args=[service.public_id])
    for label, href in links.items():
        html = _get(alex, href)
        if label == "Tickets":
            assert mine.subject in html


def test_an_organisation_page_links_to_its_tickets_only(
    alex: Any, service: Any, offering: Any, carol_person: Any, bob_person: Any, org_a: Any, org_b: Any
) -> None:
    from serviceloop.desk.tests.factories import make_relationship

    make_relationship(org_b, offering)
    ours = make_ticket(carol_person, service, subject="Acme printer jam")
    theirs = make_ticket(bob_person, service, subject="Borealis laptop fan")
    links = _related(_get(alex, reverse("relationships:organisation_detail", args=[org_a.public_id])))
    queue = _get(alex, links["Tickets"])
    assert ours.subject in queue and theirs.subject not in queue


def test_customers_are_not_offered_staff_pages(carol: Any, org_a: Any) -> None:
    client = Client()
    client.force_login(carol)
    response = client.get(reverse("relationships:organisation_detail", args=[org_a.public_id]))
    if response.status_code == 200:
        assert "Related pages" not in response.content.decode()


def test_a_person_page_links_to_the_tickets_they_requested(
    alex: Any, service: Any, carol_person: Any, dave: Any
) -> None:
    hers = make_ticket(carol_person, service, subject="Carol asks about VPN")
    his = make_ticket(dave, service, subject="Dave asks about printers")
    links = _related(_get(alex, reverse("relationships:person_detail", args=[carol_person.public_id])))
    queue = _get(alex, links["Tickets"])
    assert hers.subject in queue and his.subject not in queue
    assert "Requested by" in queue and "show everyone" in queue
    api = api_client_for(alex).get("/api/desk/tickets", {"requester": carol_person.public_id}).json()
    assert [t["subject"] for t in api["items"]] == [hers.subject]

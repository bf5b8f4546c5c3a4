"""The feedback start page counts each service's responses per channel, and every channel's total."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

from serviceloop.catalogue.tests.factories import make_service
from serviceloop.feedback.models import Channel
from serviceloop.feedback.services.responses import response_record


def _cells(html: str, service_name: str) -> list[str]:
    row = re.search(rf"<tr><td><a [^>]*>{re.escape(service_name)}</a></td>(.*?)</tr>", html, re.S)
    assert row, service_name
    return re.findall(r'<td class="num[^"]*">(\d+)</td>', row.group(1))


def test_feedback_home_breaks_responses_down_by_channel(alex, sam) -> None:
    rides = make_service(by=sam, name="Ride booking")
    payroll = make_service(by=sam, name="Payroll")
    for channel in (Channel.EMAIL, Channel.EMAIL, Channel.WIDGET, Channel.QR, Channel.INGEST):
        response_record(service=rides, channel=channel, happiness=9)
    response_record(service=payroll, channel=Channel.WIDGET, csat=2)
    client = Client()
    client.force_login(alex)
    html = client.get(reverse("feedback:home")).content.decode()
    order = [str(label) for _, label in Channel.choices]
    headers = re.findall(r'<th class="num">([^<]+)</th>', html)
    assert headers == ["Responses", *order, "Active surveys"]
    by_channel = dict(zip(order, [int(n) for n in _cells(html, "Ride booking")[1:-1]], strict=True))
    assert by_channel == {"Email": 2, "Widget": 1, "QR code": 1, "Portal": 0, "API": 0, "Ingest": 1}
    assert _cells(html, "Ride booking")[0] == "5"
    totals = dict(re.findall(r'<td class="num" data-channel="([^"]+)">(\d+)</td>', html))
    assert totals == {"Email": "2", "Widget": "2", "QR code": "1", "Portal": "0", "API": "0", "Ingest": "1"}


def test_feedback_home_without_services_says_so_and_shows_no_totals(alex) -> None:
    client = Client()
    client.force_login(alex)
    html = client.get(reverse("feedback:home")).content.decode()
    assert "No services yet." in html
    assert "channel-totals" not in html

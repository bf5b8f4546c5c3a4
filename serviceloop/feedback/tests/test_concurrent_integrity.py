"""The integrity guards hold when the requests come at the same time, as a scanner's or a replayer's do."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from serviceloop.accounts.testing import at_once
from serviceloop.core import clock
from serviceloop.feedback import links
from serviceloop.feedback.models import Invitation, LinkClick, Response
from serviceloop.feedback.services.link_clicks import link_clicks_settle
from serviceloop.feedback.tests import factories_channels
from serviceloop.feedback.tests.survey_factories import make_person, make_service, make_ticket, resolve

pytestmark = pytest.mark.django_db(transaction=True)

HOST = "https://intranet.acme.example"


def _path(url: str) -> str:
    return url.removeprefix("http://testserver")


def test_a_scanner_fetching_every_button_at_once_records_nothing(sam: Any, org_a: Any, travel: Any) -> None:
    invitation = Invitation.objects.get(ticket=resolve(make_ticket(make_service("Payroll", sam), make_person(org_a))))
    answers = at_once(
        *(lambda s=score: Client().get(_path(links.answer_url(invitation.public_id, s))) for score in range(11))
    )
    assert [getattr(a, "status_code", a) for a in answers] == [200] * 11, answers
    assert sum(b'id="needs-confirmation"' in a.content for a in answers) >= 10
    travel.to(clock.now())
    travel.by(minutes=5)
    link_clicks_settle()
    assert not Response.objects.exists()
    assert set(LinkClick.objects.values_list("state", flat=True)) == {LinkClick.State.HELD}


def test_a_widget_ticket_replayed_at_once_stores_one_answer(sam: Any) -> None:
    site = factories_channels.make_widget_site(factories_channels.make_service(manager=sam), origins=[HOST])
    url = reverse("feedback:widget_frame", args=[site.key])
    page = Client().get(url, HTTP_REFERER=f"{HOST}/help").content.decode()
    match = re.search(r'name="ticket" value="([^"]+)"', page)
    assert match
    ticket = match.group(1)
    answers = at_once(
        *(lambda: Client().post(url, {"score": "9", "ticket": ticket}, HTTP_ORIGIN=HOST) for _ in range(8))
    )
    assert sorted(getattr(a, "status_code", a) for a in answers) == [200] + [409] * 7, answers
    assert Response.objects.count() == 1


def test_one_client_answering_the_qr_page_at_once_stores_one_answer(sam: Any) -> None:
    service = factories_channels.make_service(manager=sam)
    url = reverse("feedback:qr_public", args=[service.public_id])
    answers = at_once(*(lambda: Client().post(url, {"score": "0"}) for _ in range(8)))
    assert sorted(getattr(a, "status_code", a) for a in answers) == [200] + [409] * 7, answers
    assert Response.objects.count() == 1

"""The ticket page says whether a survey invitation went out for the ticket, what came of it, or why none did."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from serviceloop.feedback.models import Invitation, Response
from serviceloop.feedback.tests.survey_factories import make_person, make_service, make_ticket, resolve

pytestmark = pytest.mark.django_db


def _page(user: Any, ticket: Any) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("desk:ticket", args=[ticket.public_id]))
    assert response.status_code == 200
    return response.content.decode().split('id="survey-h"')[1].split("</section>")[0]


def test_an_open_ticket_says_when_the_invitation_will_go(sam: Any, alex: Any, org_a: Any) -> None:
    ticket = make_ticket(make_service("Payroll", sam), make_person(org_a))
    assert "An invitation goes out when the ticket is resolved" in _page(alex, ticket)


def test_a_resolved_ticket_shows_the_invitation_and_the_answer(sam: Any, alex: Any, org_a: Any) -> None:
    ticket = resolve(make_ticket(make_service("Payroll", sam), make_person(org_a)))
    invitation = Invitation.objects.get(ticket=ticket)
    panel = _page(alex, ticket)
    assert "Invitation sent to" in panel and "No answer yet" in panel
    Response.objects.create(
        service=ticket.service,
        organisation=ticket.organisation,
        person=invitation.person,
        ticket=ticket,
        invitation=invitation,
        survey_version=invitation.survey_version,
        channel="email",
        responded_at=invitation.sent_at,
        happiness=9,
        comment="Quick and kind",
    )
    panel = _page(alex, ticket)
    assert "answered" in panel and "score 9" in panel and "Quick and kind" in panel


def test_a_suppressed_invitation_says_why(sam: Any, alex: Any, org_a: Any) -> None:
    service = make_service("Payroll", sam)
    person = make_person(org_a)
    resolve(make_ticket(service, person))
    second = resolve(make_ticket(service, person))  # the same person again within the day: throttled
    assert not Invitation.objects.filter(ticket=second).exists()
    panel = _page(alex, second)
    assert "not sent" in panel and "Throttled" in panel and "hours ago" in panel


def test_customers_never_see_the_panel(sam: Any, carol: Any, org_a: Any) -> None:
    from serviceloop.core.links import object_panels

    ticket = resolve(make_ticket(make_service("Payroll", sam), make_person(org_a)))
    assert object_panels(ticket, carol) == ""

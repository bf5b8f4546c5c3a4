"""The signed links of the invitation email and the follow-up page, used without signing in."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from serviceloop.core.testing import subscribed
from serviceloop.feedback import links
from serviceloop.feedback.models import Invitation, Response
from serviceloop.feedback.tests.survey_factories import make_person, make_service, make_ticket, resolve


@pytest.fixture
def invitation(sam: Any, org_a: Any) -> Invitation:
    ticket = resolve(make_ticket(make_service("Payroll", sam), make_person(org_a)))
    return Invitation.objects.get(ticket=ticket)


def path_of(url: str) -> str:
    return url.removeprefix("http://testserver")


def test_a_click_records_the_score_without_signing_in(invitation: Invitation) -> None:
    page = Client().get(path_of(links.answer_url(invitation.public_id, 9)))
    assert page.status_code == 200
    assert b'id="recorded-score">9<' in page.content
    response = Response.objects.get(invitation=invitation)
    assert (response.happiness, response.channel, response.ticket, response.organisation) == (
        9,
        "email",
        invitation.ticket,
        invitation.organisation,
    )
    invitation.refresh_from_db()
    assert invitation.responded_at is not None


def test_a_later_click_changes_the_answer_of_the_same_response(invitation: Invitation) -> None:
    client = Client()
    client.get(path_of(links.answer_url(invitation.public_id, 3)))
    client.get(path_of(links.answer_url(invitation.public_id, 8)))
    assert list(Response.objects.values_list("happiness", flat=True)) == [8]


def test_the_same_click_twice_records_once(invitation: Invitation, django_capture_on_commit_callbacks: Any) -> None:
    with subscribed("response.recorded") as seen, django_capture_on_commit_callbacks(execute=True):
        Client().get(path_of(links.answer_url(invitation.public_id, 9)))
        Client().get(path_of(links.answer_url(invitation.public_id, 9)))
    assert Response.objects.count() == 1
    assert [event.data["response_id"] for event in seen] == [Response.objects.get().pk]


def test_a_link_scanner_probing_with_head_records_nothing(invitation: Invitation) -> None:
    probe = Client().head(path_of(links.answer_url(invitation.public_id, 0)))
    assert probe.status_code == 200
    assert not Response.objects.exists()


def test_a_tampered_link_shows_a_friendly_page(invitation: Invitation) -> None:
    token = links.token_for(invitation.public_id, 9)
    page = Client().get(reverse("feedback:survey_answer", kwargs={"token": token[:-3] + "abc"}))
    assert page.status_code == 400
    assert b"not valid" in page.content
    assert not Response.objects.exists()


def test_an_expired_token_is_refused_with_410(invitation: Invitation) -> None:
    class EarlierSigner(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time()) - 15 * 86400)

    token = EarlierSigner(salt=links.SALT).sign_object({"i": invitation.public_id, "s": 9}, compress=True)
    page = Client().get(reverse("feedback:survey_answer", kwargs={"token": token}))
    assert page.status_code == 410
    assert b"expired" in page.content
    assert not Response.objects.exists()


def test_an_invitation_past_its_expiry_is_refused(invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk).update(
        sent_at=timezone.now() - timedelta(days=30), expires_at=timezone.now() - timedelta(days=1)
    )
    page = Client().get(path_of(links.page_url(invitation.public_id)))
    assert page.status_code == 410


def test_a_token_names_only_the_invitation(invitation: Invitation) -> None:
    token = links.token_for(invitation.public_id, 7)
    assert signing.loads(token, salt=links.SALT) == {"i": invitation.public_id, "s": 7}
    assert invitation.person.email not in token


def test_follow_up_page_saves_every_answer_without_javascript(invitation: Invitation) -> None:
    client = Client()
    client.get(path_of(links.answer_url(invitation.public_id, 4)))
    page = client.post(
        path_of(links.page_url(invitation.public_id)),
        {"lost_time_bucket": "1to2h", "drivers": ["communication", "speed"], "comment": "Nobody told us anything."},
    )
    assert page.status_code == 200
    assert b"your answers are saved" in page.content
    response = Response.objects.get()
    assert (response.happiness, response.lost_time_bucket, response.lost_time_minutes) == (4, "1to2h", 90)
    assert response.drivers == ["communication", "speed"]
    assert response.comment == "Nobody told us anything."


def test_follow_up_page_offers_drivers_that_fit_the_score(invitation: Invitation) -> None:
    client = Client()
    client.get(path_of(links.answer_url(invitation.public_id, 10)))
    happy = client.get(path_of(links.page_url(invitation.public_id))).content.decode()
    client.get(path_of(links.answer_url(invitation.public_id, 2)))
    unhappy = client.get(path_of(links.page_url(invitation.public_id))).content.decode()
    assert "What went well?" in happy and 'value="cost"' not in happy
    assert "What should we improve?" in unhappy and 'value="cost"' in unhappy


def test_one_field_is_saved_as_soon_as_it_is_answered(invitation: Invitation) -> None:
    url = reverse(
        "feedback:survey_field", kwargs={"token": links.token_for(invitation.public_id), "field": "lost_time_bucket"}
    )
    saved = Client().post(url, {"lost_time_bucket": "gt1day"})
    assert saved.status_code == 200 and b"Saved" in saved.content
    assert Response.objects.get(invitation=invitation).lost_time_minutes == 600


def test_a_bad_field_value_is_refused_with_its_message(invitation: Invitation) -> None:
    url = reverse(
        "feedback:survey_field", kwargs={"token": links.token_for(invitation.public_id), "field": "lost_time_bucket"}
    )
    refused = Client().post(url, {"lost_time_bucket": "forever"})
    assert refused.status_code == 422
    assert b"valid choice" in refused.content


def test_the_follow_up_page_requires_the_csrf_token_of_the_page(invitation: Invitation) -> None:
    client = Client(enforce_csrf_checks=True)
    refused = client.post(path_of(links.page_url(invitation.public_id)), {"comment": "hello"})
    assert refused.status_code == 403


def test_a_person_can_opt_out_from_the_page(invitation: Invitation) -> None:
    url = path_of(links.opt_out_url(invitation.public_id))
    assert b"No more surveys?" in Client().get(url).content
    done = Client().post(url)
    assert b"You will get no more surveys" in done.content
    invitation.person.refresh_from_db()
    assert invitation.person.survey_opt_out and invitation.person.survey_opted_out_at is not None


def test_one_click_unsubscribe_from_a_mail_client_needs_no_csrf_token(invitation: Invitation) -> None:
    client = Client(enforce_csrf_checks=True)
    done = client.post(path_of(links.opt_out_url(invitation.public_id)), {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    invitation.person.refresh_from_db()
    assert invitation.person.survey_opt_out

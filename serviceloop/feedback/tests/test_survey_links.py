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

from serviceloop.core.models import Event
from serviceloop.feedback import links
from serviceloop.feedback.models import Invitation, LinkClick, Response
from serviceloop.feedback.tasks import count_link_clicks, housekeeping
from serviceloop.feedback.tests.survey_factories import make_person, make_service, make_ticket, resolve


@pytest.fixture
def invitation(sam: Any, org_a: Any) -> Invitation:
    ticket = resolve(make_ticket(make_service("Payroll", sam), make_person(org_a)))
    return Invitation.objects.get(ticket=ticket)


def path_of(url: str) -> str:
    return url.removeprefix("http://testserver")


def events_recorded() -> int:
    return Event.objects.filter(name="response.recorded").count()


def test_a_click_records_the_score_without_signing_in(invitation: Invitation, travel: Any) -> None:
    clicked = travel.to(timezone.now())
    page = Client().get(path_of(links.answer_url(invitation.public_id, 9)))
    assert page.status_code == 200
    assert b'id="recorded-score">9<' in page.content
    assert b"needs-confirmation" not in page.content
    # Provisional for the scanner window, then it counts with nothing more from the person.
    travel.by(seconds=11)
    assert count_link_clicks() == 1
    response = Response.objects.get(invitation=invitation)
    assert (response.happiness, response.channel, response.ticket, response.organisation) == (
        9,
        "email",
        invitation.ticket,
        invitation.organisation,
    )
    assert response.responded_at == clicked
    invitation.refresh_from_db()
    assert invitation.responded_at == clicked
    assert events_recorded() == 1


def test_a_click_counts_at_once_when_the_person_goes_on_to_answer_on_the_page(invitation: Invitation) -> None:
    client = Client(enforce_csrf_checks=True)
    page = client.get(path_of(links.answer_url(invitation.public_id, 4)))
    csrf = client.cookies["csrftoken"].value
    url = reverse("feedback:survey_field", kwargs={"token": links.token_for(invitation.public_id), "field": "comment"})
    client.post(url, {"comment": "Took a while."}, HTTP_X_CSRFTOKEN=csrf)
    assert page.status_code == 200
    response = Response.objects.get(invitation=invitation)
    assert (response.happiness, response.comment) == (4, "Took a while.")


def test_a_link_scanner_fetching_every_button_records_nothing(invitation: Invitation, travel: Any) -> None:
    travel.to(timezone.now())
    pages = []
    for score in range(11):
        # Scanners fetch from several addresses at once: no cookie, no shared client.
        pages.append(Client().get(path_of(links.answer_url(invitation.public_id, score))))
        travel.by(seconds=0.2)
    assert all(page.status_code == 200 for page in pages)
    assert all(b'id="needs-confirmation"' in page.content for page in pages[1:])
    travel.by(hours=1)
    count_link_clicks()
    assert not Response.objects.exists()
    assert events_recorded() == 0
    invitation.refresh_from_db()
    assert (invitation.responded_at, invitation.first_clicked_at) == (None, None)
    assert set(LinkClick.objects.values_list("state", flat=True)) == {LinkClick.State.HELD}


def test_the_first_click_is_dropped_when_another_button_follows_within_the_window(
    invitation: Invitation, travel: Any
) -> None:
    travel.to(timezone.now())
    first = Client().get(path_of(links.answer_url(invitation.public_id, 0)))
    assert b'id="recorded-score">0<' in first.content  # the first fetch cannot know a second will come
    travel.by(seconds=3)
    second = Client().get(path_of(links.answer_url(invitation.public_id, 10)))
    assert b'id="score-to-confirm">10<' in second.content
    travel.by(minutes=5)
    count_link_clicks()
    assert not Response.objects.exists()


def test_a_person_confirms_an_answer_the_scanner_held(invitation: Invitation, travel: Any) -> None:
    travel.to(timezone.now())
    for score in (0, 1, 2, 7):
        Client().get(path_of(links.answer_url(invitation.public_id, score)))
    person = Client(enforce_csrf_checks=True)
    page = person.get(path_of(links.answer_url(invitation.public_id, 7)))
    assert b"Please confirm your answer" in page.content and b"Confirm 7" in page.content
    confirm = reverse("feedback:survey_confirm", kwargs={"token": links.token_for(invitation.public_id)})
    done = person.post(confirm, {"score": "7", "csrfmiddlewaretoken": person.cookies["csrftoken"].value})
    assert done.status_code == 200
    assert b'id="recorded-score">7<' in done.content
    assert Response.objects.get(invitation=invitation).happiness == 7
    assert events_recorded() == 1
    travel.by(minutes=1)
    count_link_clicks()
    assert list(Response.objects.values_list("happiness", flat=True)) == [7]
    assert events_recorded() == 1


def test_a_confirmation_needs_the_csrf_token_of_the_page(invitation: Invitation) -> None:
    confirm = reverse("feedback:survey_confirm", kwargs={"token": links.token_for(invitation.public_id)})
    refused = Client(enforce_csrf_checks=True).post(confirm, {"score": "7"})
    assert refused.status_code == 403
    assert not Response.objects.exists()


def test_a_confirmation_outside_the_scale_is_refused_with_its_message(invitation: Invitation) -> None:
    confirm = reverse("feedback:survey_confirm", kwargs={"token": links.token_for(invitation.public_id)})
    refused = Client().post(confirm, {"score": "11"})
    assert refused.status_code == 422
    assert b"Choose a score from 0 to 10" in refused.content
    assert not Response.objects.exists()


def test_a_later_click_changes_the_answer_of_the_same_response(invitation: Invitation, travel: Any) -> None:
    travel.to(timezone.now())
    client = Client()
    client.get(path_of(links.answer_url(invitation.public_id, 3)))
    travel.by(minutes=2)
    client.get(path_of(links.answer_url(invitation.public_id, 8)))
    travel.by(seconds=11)
    count_link_clicks()
    assert list(Response.objects.values_list("happiness", flat=True)) == [8]
    assert events_recorded() == 2


def test_a_score_chosen_on_the_page_changes_the_answer_at_once(invitation: Invitation) -> None:
    client = Client()
    client.get(path_of(links.answer_url(invitation.public_id, 3)))
    confirm = reverse("feedback:survey_confirm", kwargs={"token": links.token_for(invitation.public_id)})
    client.post(confirm, {"score": "8"})
    assert list(Response.objects.values_list("happiness", flat=True)) == [8]
    assert LinkClick.objects.get(score=3).state == LinkClick.State.SUPERSEDED


def test_the_same_click_twice_records_once(invitation: Invitation, travel: Any) -> None:
    travel.to(timezone.now())
    Client().get(path_of(links.answer_url(invitation.public_id, 9)))
    Client().get(path_of(links.answer_url(invitation.public_id, 9)))
    travel.by(seconds=11)
    count_link_clicks()
    count_link_clicks()
    assert Response.objects.count() == 1
    assert [event.data["response_id"] for event in Event.objects.filter(name="response.recorded")] == [
        Response.objects.get().pk
    ]


def test_a_link_scanner_probing_with_head_records_nothing(invitation: Invitation) -> None:
    probe = Client().head(path_of(links.answer_url(invitation.public_id, 0)))
    assert probe.status_code == 200
    assert not LinkClick.objects.exists()


@pytest.mark.parametrize(
    "header", [{"HTTP_PURPOSE": "prefetch"}, {"HTTP_SEC_PURPOSE": "prefetch;prerender"}, {"HTTP_X_PURPOSE": "preview"}]
)
def test_a_prefetch_records_nothing(invitation: Invitation, travel: Any, header: dict[str, str]) -> None:
    page = Client().get(path_of(links.answer_url(invitation.public_id, 0)), **header)  # type: ignore[arg-type]
    assert page.status_code == 200
    travel.by(minutes=1)
    count_link_clicks()
    assert not LinkClick.objects.exists() and not Response.objects.exists()


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


def test_follow_up_page_offers_drivers_that_fit_the_score(invitation: Invitation, travel: Any) -> None:
    travel.to(timezone.now())
    client = Client()
    client.get(path_of(links.answer_url(invitation.public_id, 10)))
    happy = client.get(path_of(links.page_url(invitation.public_id))).content.decode()
    travel.by(minutes=1)
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


def test_the_scanner_window_is_a_setting(invitation: Invitation, travel: Any, settings: Any) -> None:
    settings.SERVICELOOP_SURVEY_SCANNER_SECONDS = 60
    travel.to(timezone.now())
    Client().get(path_of(links.answer_url(invitation.public_id, 2)))
    travel.by(seconds=30)
    held = Client().get(path_of(links.answer_url(invitation.public_id, 9)))
    assert b'id="needs-confirmation"' in held.content
    travel.by(minutes=5)
    count_link_clicks()
    assert not Response.objects.exists()


def test_the_sweep_is_on_the_schedule(settings: Any) -> None:
    tasks = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks["serviceloop.feedback.tasks.count_link_clicks"] == 10.0
    assert tasks["serviceloop.feedback.tasks.housekeeping"] == 3600.0


def test_housekeeping_forgets_clicks_once_no_link_can_use_them(invitation: Invitation, travel: Any) -> None:
    travel.to(timezone.now())
    Client().get(path_of(links.answer_url(invitation.public_id, 6)))
    travel.by(seconds=11)
    count_link_clicks()
    travel.by(days=16)
    assert housekeeping()["link_clicks"] == 1
    assert Response.objects.get().happiness == 6


@pytest.mark.parametrize("score", ["²", "٣", "9" * 5000, "-1", " 9"])
def test_a_confirmed_score_that_is_no_plain_number_is_refused_not_a_500(invitation: Invitation, score: str) -> None:
    confirm = reverse("feedback:survey_confirm", kwargs={"token": links.token_for(invitation.public_id)})
    response = Client(raise_request_exception=False).post(confirm, {"score": score})
    assert response.status_code == 422
    assert not Response.objects.exists()

"""One mail on resolution: the desk's resolution notice carries the survey's one-click buttons.

Through the real parts: the ticket is resolved on the API or the page, the events are delivered as
the worker does after commit, the outbox sends to a real SMTP server on loopback, and the mail is
read as received: its links are clicked and its reply goes back into the desk.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from serviceloop.catalogue.models import Service
from serviceloop.core import links as core_links
from serviceloop.core.events import event_dispatch
from serviceloop.core.links import MailBlock, MailPart
from serviceloop.core.models import Event, OutgoingMail
from serviceloop.desk.models import Message, Ticket
from serviceloop.desk.services.mail_in import mail_receive
from serviceloop.desk.tests.factories import make_ticket
from serviceloop.feedback.models import Invitation, Response, SuppressedInvitation
from serviceloop.feedback.tasks import count_link_clicks
from serviceloop.feedback.tests.survey_factories import past_invitation
from serviceloop.relationships.models import Person

pytestmark = pytest.mark.django_db

RESOLUTION = "Replaced the toner cartridge; the printer prints again."


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Any:
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def ticket(carol_person: Person, service: Service, alex: Any) -> Ticket:
    # Created outside `commit()`: its acknowledgement is never sent, so the sink holds only what
    # the resolution sends.
    return make_ticket(carol_person, service, by=alex)


def _resolve_on_the_api(ticket: Ticket, alex: Any, commit: Any) -> None:
    from serviceloop.accounts.testing import api_client_for

    client = api_client_for(alex)
    with commit():
        answer = client.post(
            f"/api/desk/tickets/{ticket.public_id}/status",
            {"status": "resolved", "resolution": RESOLUTION},
            content_type="application/json",
        )
    assert answer.status_code == 200, answer.content


def _the_one_mail(smtp_server: Any) -> Any:
    [mail] = smtp_server.wait_for(1)
    assert OutgoingMail.objects.count() == 1
    assert len(smtp_server.messages) == 1
    return mail


def _link(text: str, score: int) -> str:
    match = re.search(rf"^{score}: (http://testserver/\S+)", text, re.MULTILINE)
    assert match, text
    return match.group(1).removeprefix("http://testserver")


def test_resolving_on_the_api_sends_one_mail_with_the_resolution_and_the_survey(
    ticket: Ticket, alex: Any, smtp_server: Any, commit: Any
) -> None:
    _resolve_on_the_api(ticket, alex, commit)
    mail = _the_one_mail(smtp_server)
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert mail["To"] == "carol@acme.example"
    assert mail["Subject"] == f"[{ticket.reference}] {ticket.subject}"
    assert RESOLUTION in text and RESOLUTION in html
    assert "is resolved" in text
    assert all(f'data-score="{n}"' in html for n in range(11))
    assert "10: http://testserver/feedback/r/" in text
    assert mail["List-Unsubscribe"].strip().startswith("<http://testserver/feedback/s/")
    invitation = Invitation.objects.get(ticket=ticket)
    assert invitation.person.email == "carol@acme.example"
    assert not SuppressedInvitation.objects.exists()


def test_the_one_mail_is_threaded_on_the_ticket_and_its_reply_lands_there(
    ticket: Ticket, alex: Any, smtp_server: Any, commit: Any
) -> None:
    _resolve_on_the_api(ticket, alex, commit)
    mail = _the_one_mail(smtp_server)
    assert mail["Message-ID"].startswith(f"<{ticket.reference}.e")
    assert f"<{ticket.reference}@serviceloop.localhost>" in mail["References"].split()
    assert mail["Reply-To"] == "desk@serviceloop.localhost"
    answer = (
        f"From: carol@acme.example\r\nTo: {mail['Reply-To']}\r\nSubject: Re: {mail['Subject']}\r\n"
        f"Message-ID: <r1@acme.example>\r\nIn-Reply-To: {mail['Message-ID']}\r\n"
        f"References: {mail['References']} {mail['Message-ID']}\r\n\r\nStill jammed on tray 2.\r\n"
    ).encode()
    result = mail_receive(raw=answer, source="webhook")
    assert result.ticket == ticket
    assert Message.objects.filter(ticket=ticket, body="Still jammed on tray 2.").exists()


def test_a_click_on_a_button_of_the_one_mail_records_the_answer(
    ticket: Ticket, alex: Any, smtp_server: Any, commit: Any, travel: Any
) -> None:
    _resolve_on_the_api(ticket, alex, commit)
    text = _the_one_mail(smtp_server).get_body(("plain",)).get_content()
    clicked = travel.to(timezone.now())
    page = Client().get(_link(text, 9))
    assert page.status_code == 200
    assert b'id="recorded-score">9<' in page.content
    travel.by(seconds=11)
    assert count_link_clicks() == 1
    response = Response.objects.get(invitation__ticket=ticket)
    assert (response.happiness, response.channel, response.ticket, response.responded_at) == (
        9,
        "email",
        ticket,
        clicked,
    )


def test_resolving_on_the_ticket_page_sends_one_mail_too(
    ticket: Ticket, alex: Any, smtp_server: Any, commit: Any
) -> None:
    client = Client()
    client.force_login(alex)
    with commit():
        page = client.post(
            reverse("desk:ticket_status", kwargs={"public_id": ticket.public_id}),
            {"status": "resolved", "resolution": RESOLUTION},
        )
    assert page.status_code == 302
    text = _the_one_mail(smtp_server).get_body(("plain",)).get_content()
    assert RESOLUTION in text and "0: http://testserver/feedback/r/" in text


def test_delivering_the_resolution_events_again_sends_nothing_more(
    ticket: Ticket, alex: Any, smtp_server: Any, commit: Any
) -> None:
    _resolve_on_the_api(ticket, alex, commit)
    _the_one_mail(smtp_server)
    for event in Event.objects.filter(name__in=("ticket.resolved", "ticket.history_recorded")):
        with commit():
            assert event_dispatch(event_id=event.pk)
    assert OutgoingMail.objects.count() == 1
    assert Invitation.objects.filter(ticket=ticket).count() == 1
    assert not SuppressedInvitation.objects.exists()


_failed: list[Any] = []


def fails_once_part(obj: Any) -> MailBlock | None:
    """A mail part that raises the first time it is asked (a fault while the notice is written)."""
    if not _failed:
        _failed.append(obj)
        raise RuntimeError("a fault while the notice was being written")
    return None


def test_a_notice_that_failed_after_the_survey_was_recorded_is_retried_as_one_mail_and_one_invitation(
    ticket: Ticket, alex: Any, smtp_server: Any, commit: Any, travel: Any, monkeypatch: Any
) -> None:
    # A part after feedback's that fails once: the notice's delivery rolls back with the invitation
    # feedback recorded in it, and the retry records and mails each once.
    _failed.clear()
    parts = (*core_links._all_mail_parts(), MailPart("desk.ticket_resolved", f"{__name__}.fails_once_part", 999))
    monkeypatch.setattr(core_links, "_all_mail_parts", lambda: parts)
    travel.to(timezone.now())
    _resolve_on_the_api(ticket, alex, commit)
    assert _failed and OutgoingMail.objects.count() == 0
    assert not Invitation.objects.exists() and not SuppressedInvitation.objects.exists()
    travel.by(minutes=1)
    notice = Event.objects.get(name="ticket.history_recorded", data__kind="resolved")
    with commit():
        assert event_dispatch(event_id=notice.pk)
    assert len(_failed) == 1
    text = _the_one_mail(smtp_server).get_body(("plain",)).get_content()
    assert RESOLUTION in text and "/feedback/r/" in text
    assert Invitation.objects.filter(ticket=ticket).count() == 1


def test_a_suppressed_invitation_leaves_the_notice_alone_without_links(
    ticket: Ticket, carol_person: Person, service: Service, alex: Any, smtp_server: Any, commit: Any
) -> None:
    past_invitation(carol_person, service, timezone.now() - timedelta(days=2))
    _resolve_on_the_api(ticket, alex, commit)
    mail = _the_one_mail(smtp_server)
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert RESOLUTION in text
    assert "/feedback/" not in text and "/feedback/" not in html and "data-score" not in html
    assert mail["List-Unsubscribe"] is None
    row = SuppressedInvitation.objects.get(ticket=ticket)
    assert row.reason == SuppressedInvitation.Reason.THROTTLED
    assert not Invitation.objects.filter(ticket=ticket).exists()


def test_an_opted_out_requester_gets_the_notice_alone(
    ticket: Ticket, carol_person: Person, alex: Any, smtp_server: Any, commit: Any
) -> None:
    Person.objects.filter(pk=carol_person.pk).update(survey_opt_out=True)
    _resolve_on_the_api(ticket, alex, commit)
    assert "/feedback/" not in _the_one_mail(smtp_server).get_body(("plain",)).get_content()
    assert SuppressedInvitation.objects.get(ticket=ticket).reason == SuppressedInvitation.Reason.OPTED_OUT


def test_without_a_resolution_notice_the_invitation_goes_alone(
    ticket: Ticket, alex: Any, smtp_server: Any, commit: Any, settings: Any
) -> None:
    settings.SERVICELOOP_MAIL_NOTIFY = False  # the desk tells requesters nothing by mail
    _resolve_on_the_api(ticket, alex, commit)
    mail = _the_one_mail(smtp_server)
    assert mail["Subject"] == f"How did we do? {ticket.service.name} [{ticket.reference}]"
    assert "10: http://testserver/feedback/r/" in mail.get_body(("plain",)).get_content()
    assert Invitation.objects.filter(ticket=ticket).count() == 1


def test_resolving_again_after_a_reopen_mails_the_notice_without_a_second_survey(
    ticket: Ticket, alex: Any, smtp_server: Any, commit: Any
) -> None:
    from serviceloop.desk.services import ticket_reopen, ticket_resolve

    _resolve_on_the_api(ticket, alex, commit)
    ticket_reopen(ticket=ticket, by_user=alex, reason="Back again")
    with commit():
        ticket_resolve(ticket=ticket, by=alex, resolution="Replaced the fuser.")
    mails = [m for m in smtp_server.wait_for(2) if "Replaced the fuser." in m.get_body(("plain",)).get_content()]
    [second] = mails
    assert "/feedback/" not in second.get_body(("plain",)).get_content()
    assert Invitation.objects.filter(ticket=ticket).count() == 1
    assert SuppressedInvitation.objects.get(ticket=ticket).reason == SuppressedInvitation.Reason.DUPLICATE


def test_a_long_resolution_arrives_whole_not_cut_where_the_history_cuts_it(
    ticket: Ticket, alex: Any, smtp_server: Any, commit: Any
) -> None:
    from serviceloop.accounts.testing import api_client_for

    resolution = " ".join(f"Step {n}: checked the spooler and the driver on floor {n}." for n in range(60))
    assert len(resolution) > 2000
    with commit():
        answer = api_client_for(alex).post(
            f"/api/desk/tickets/{ticket.public_id}/status",
            {"status": "resolved", "resolution": resolution},
            content_type="application/json",
        )
    assert answer.status_code == 200, answer.content
    text = " ".join(_the_one_mail(smtp_server).get_body(("plain",)).get_content().split())
    assert "Step 59: checked the spooler and the driver on floor 59." in text

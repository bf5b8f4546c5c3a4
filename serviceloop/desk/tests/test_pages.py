"""The portal and the staff pages, used like a person would."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from serviceloop.desk.models import Ticket
from serviceloop.desk.services import NewAttachment, ticket_reply, ticket_resolve
from serviceloop.desk.tests.factories import make_ticket


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_customer_is_sent_from_home_to_the_portal(carol: Any) -> None:
    assert client_for(carol).get("/")["Location"] == reverse("desk:portal")


def test_customer_opens_a_ticket_from_the_portal_with_files(carol: Any, offering: Any, relationship_a: Any) -> None:
    response = client_for(carol).post(
        reverse("desk:portal_new"),
        {
            "offering": offering.pk,
            "type": "request",
            "subject": "New mailbox for Ann",
            "body": "Starts Monday.",
            "impact": "low",
            "urgency": "medium",
            "attachments": [SimpleUploadedFile("form.pdf", b"%PDF-1.4", "application/pdf")],
        },
    )
    ticket = Ticket.objects.get()
    assert response["Location"] == reverse("desk:portal_ticket", args=[ticket.public_id])
    assert (ticket.channel, ticket.type, ticket.offering, ticket.requester.user) == (
        "portal",
        "request",
        offering,
        carol,
    )
    assert ticket.attachments.get().content_type == "application/pdf"


def test_new_ticket_form_offers_only_services_the_organisation_consumes(
    carol: Any, offering: Any, relationship_a: Any
) -> None:
    from serviceloop.desk.tests.factories import make_offering

    other = make_offering(name="Someone else's offering")
    page = client_for(carol).get(reverse("desk:portal_new")).content.decode()
    assert offering.name in page and other.name not in page


def test_portal_form_shows_the_error_next_to_the_field(
    carol: Any, offering: Any, relationship_a: Any, settings: Any
) -> None:
    settings.SERVICELOOP_ATTACHMENT_MAX_BYTES = 3
    response = client_for(carol).post(
        reverse("desk:portal_new"),
        {
            "offering": offering.pk,
            "type": "incident",
            "subject": "x",
            "body": "y",
            "impact": "low",
            "urgency": "low",
            "attachments": [SimpleUploadedFile("big.txt", b"too big", "text/plain")],
        },
    )
    assert response.status_code == 200 and "larger than the limit" in response.content.decode()
    assert not Ticket.objects.exists()


def test_portal_ticket_shows_public_replies_but_never_internal_notes(
    carol: Any, carol_person: Any, service: Any, alex: Any
) -> None:
    ticket = make_ticket(carol_person, service)
    ticket_reply(ticket=ticket, body="We are on it", by_user=alex, channel="staff")
    ticket_reply(ticket=ticket, body="Secret escalation", by_user=alex, channel="staff", internal=True)
    page = client_for(carol).get(reverse("desk:portal_ticket", args=[ticket.public_id])).content.decode()
    assert "We are on it" in page and "Secret escalation" not in page


def test_customer_replies_and_reopens_from_the_portal(carol: Any, carol_person: Any, service: Any, alex: Any) -> None:
    ticket = make_ticket(carol_person, service)
    client = client_for(carol)
    client.post(reverse("desk:portal_reply", args=[ticket.public_id]), {"body": "Any news?"})
    assert ticket.messages.filter(body="Any news?", author_person=carol_person).exists()
    ticket_resolve(ticket=ticket, by=alex, resolution="Fixed")
    page = client.get(reverse("desk:portal_ticket", args=[ticket.public_id])).content.decode()
    assert "Reopen" in page
    client.post(reverse("desk:portal_reopen", args=[ticket.public_id]), {"reason": "Not fixed"})
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.reopen_count == 1


def test_empty_portal_reply_is_refused_with_a_message(carol: Any, carol_person: Any, service: Any) -> None:
    ticket = make_ticket(carol_person, service)
    response = client_for(carol).post(reverse("desk:portal_reply", args=[ticket.public_id]), {"body": " "})
    assert response.status_code == 422 and "required" in response.content.decode()


def test_other_organisations_ticket_and_attachment_are_404_for_customers(
    bob: Any, carol_person: Any, service: Any
) -> None:
    ticket = make_ticket(carol_person, service, attachments=[NewAttachment(filename="a.txt", content=b"secret")])
    client = client_for(bob)
    assert client.get(reverse("desk:portal_ticket", args=[ticket.public_id])).status_code == 404
    assert client.post(reverse("desk:portal_reply", args=[ticket.public_id]), {"body": "x"}).status_code == 404
    assert client.get(reverse("desk:attachment", args=[ticket.attachments.get().public_id])).status_code == 404
    assert "a.txt" not in client.get(reverse("desk:portal") + "?status=all&q=printer").content.decode()


def test_attachment_is_served_to_those_who_may_see_it(carol: Any, carol_person: Any, service: Any, alex: Any) -> None:
    ticket = make_ticket(carol_person, service, attachments=[NewAttachment(filename="a.txt", content=b"hello")])
    url = reverse("desk:attachment", args=[ticket.attachments.get().public_id])
    response = client_for(carol).get(url)
    assert b"".join(response.streaming_content) == b"hello"  # type: ignore[attr-defined]
    assert "attachment" in response["Content-Disposition"]
    assert Client().get(url).status_code == 302


def test_stored_path_is_not_guessable(carol_person: Any, service: Any) -> None:
    ticket = make_ticket(
        carol_person, service, attachments=[NewAttachment(filename="../../etc/notes.txt", content=b"x")]
    )
    stored = ticket.attachments.get()
    assert stored.filename == "notes.txt" and ".." not in stored.file.name and len(stored.file.name.split("/")[2]) >= 24


def test_staff_queue_filters_and_documents_the_keys(alex: Any, carol_person: Any, dave: Any, service: Any) -> None:
    mine = make_ticket(carol_person, service, subject="Assigned to Alex")
    from serviceloop.desk.services import ticket_assign

    ticket_assign(ticket=mine, by=alex, assignee=alex)
    make_ticket(dave, service, subject="Nobody has this")
    client = client_for(alex)
    page = client.get(reverse("desk:queue") + "?queue=mine").content.decode()
    assert "Assigned to Alex" in page and "Nobody has this" not in page
    page = client.get(reverse("desk:queue") + "?queue=unassigned").content.decode()
    assert "Nobody has this" in page and "Assigned to Alex" not in page
    assert "<kbd>j</kbd>" in page and "<kbd>/</kbd>" in page


def test_queue_sorts_by_time_left(alex: Any, carol_person: Any, service: Any) -> None:
    from serviceloop.desk.tests.factories import make_target

    make_target(service, priority="p1", resolution_minutes=60)
    make_target(service, priority="p4", resolution_minutes=6000)
    slow = make_ticket(carol_person, service, subject="Slow one", impact="low", urgency="low")
    urgent = make_ticket(carol_person, service, subject="Urgent one", impact="high", urgency="high")
    assert slow.priority == "p4" and urgent.priority == "p1"
    page = client_for(alex).get(reverse("desk:queue") + "?sort=due").content.decode()
    assert page.index("Urgent one") < page.index("Slow one")


def test_queue_page_does_not_query_per_row(
    alex: Any, carol_person: Any, service: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(20):
        make_ticket(carol_person, service)
    client = client_for(alex)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("desk:queue")).status_code == 200


def test_bulk_state_change_from_the_queue(alex: Any, carol_person: Any, service: Any) -> None:
    tickets = [make_ticket(carol_person, service) for _ in range(2)]
    response = client_for(alex).post(
        reverse("desk:bulk"),
        {"tickets": [t.public_id for t in tickets], "action": "status", "status": "waiting_third_party"},
    )
    assert response.status_code == 302
    assert set(Ticket.objects.values_list("status", flat=True)) == {"waiting_third_party"}


def test_staff_ticket_page_shows_clocks_notes_and_history(alex: Any, carol_person: Any, service: Any) -> None:
    from serviceloop.desk.tests.factories import make_target

    make_target(service)
    ticket = make_ticket(carol_person, service)
    client = client_for(alex)
    client.post(reverse("desk:ticket_reply", args=[ticket.public_id]), {"body": "Ask the vendor", "internal": "on"})
    client.post(reverse("desk:ticket_status", args=[ticket.public_id]), {"status": "waiting_customer"})
    page = client.get(reverse("desk:ticket", args=[ticket.public_id])).content.decode()
    assert "SLA clocks" in page and "paused" in page and "Ask the vendor" in page and "internal note" in page
    assert "Waiting on customer" in page and "SLA clock paused" in page


def test_invalid_state_change_on_the_staff_page_shows_the_message(alex: Any, carol_person: Any, service: Any) -> None:
    from serviceloop.desk.services import ticket_close

    ticket = ticket_close(ticket=make_ticket(carol_person, service), by=alex)
    response = client_for(alex).post(reverse("desk:ticket_status", args=[ticket.public_id]), {"status": "open"})
    assert response.status_code == 422 and "cannot become open" in response.content.decode()


def test_customers_cannot_open_staff_pages(carol: Any, carol_person: Any, service: Any) -> None:
    ticket = make_ticket(carol_person, service)
    client = client_for(carol)
    assert client.get(reverse("desk:queue")).status_code == 403
    assert client.get(reverse("desk:ticket", args=[ticket.public_id])).status_code == 403


def test_clocks_are_labelled_and_breaches_said_in_words(
    alex: Any, carol_person: Any, service: Any, travel: Any
) -> None:
    """Two unlabelled '−7 d 17 h' clocks were shown; each clock now says what it is and what happened."""
    import re

    from serviceloop.desk.tests.factories import make_target

    make_target(service, first_response_minutes=60, resolution_minutes=120)
    ticket = make_ticket(carol_person, service, subject="Printer on fire")
    client = client_for(alex)
    page = client.get(reverse("desk:ticket", args=[ticket.public_id])).content.decode()
    assert "First response" in page and "Resolution" in page
    assert "of business time left" in page
    travel.by(days=10)
    page = client.get(reverse("desk:ticket", args=[ticket.public_id])).content.decode()
    assert "of business time ago" in page and "breached" in page
    assert "Time paused while waiting on the customer" in page
    clocks_table = page.split("Time left (business hours)")[1].split("</table>")[0]
    assert not re.search(r">\s*-\d", clocks_table)  # no bare negative durations
    queue = client.get(reverse("desk:queue")).content.decode()
    assert "Resolution due" in queue
    assert "breached 9 d" in queue or "breached 10 d" in queue
    assert 'title="Resolution due ' in queue


def test_the_ticket_page_links_to_everything_it_names(alex: Any, carol_person: Any, service: Any) -> None:
    ticket = make_ticket(carol_person, service)
    page = client_for(alex).get(reverse("desk:ticket", args=[ticket.public_id])).content.decode()
    for href in (
        reverse("desk:queue"),
        reverse("relationships:organisation_detail", args=[ticket.organisation.public_id]),
        reverse("relationships:person_detail", args=[ticket.requester.public_id]),
        reverse("catalogue:service_detail", args=[ticket.service.public_id]),
    ):
        assert f'href="{href}"' in page, href
        assert client_for(alex).get(href).status_code == 200, href


def test_staff_open_a_ticket_for_someone_who_called(alex: Any, carol_person: Any, service: Any, dave: Any) -> None:
    client = client_for(alex)
    person_page = client.get(reverse("relationships:person_detail", args=[dave.public_id])).content.decode()
    new_url = reverse("desk:ticket_new") + f"?requester={dave.public_id}"
    assert f'href="{new_url}"' in person_page
    form = client.get(new_url).content.decode()
    assert 'value="dave@acme.example"' in form and "New ticket for Dave Acme" in form
    response = client.post(
        new_url,
        {
            "requester": "DAVE@acme.example",
            "person": dave.public_id,
            "service": service.pk,
            "type": "request",
            "subject": "Needs a new badge",
            "body": "Dave phoned: his badge stopped working.",
            "urgency": "medium",
            "impact": "low",
            "attachments": SimpleUploadedFile("note.txt", b"called at 9:05", content_type="text/plain"),
        },
    )
    ticket = Ticket.objects.get(subject="Needs a new badge")
    assert response.status_code == 302 and response["Location"] == reverse("desk:ticket", args=[ticket.public_id])
    assert (ticket.requester, ticket.organisation, ticket.channel) == (dave, dave.organisation, "staff")
    assert ticket.messages.get().attachments.count() == 1
    assert ticket.events.filter(by=alex).exists()  # the history names who opened it


def test_a_new_ticket_for_an_unknown_email_is_refused_next_to_the_field(alex: Any, service: Any) -> None:
    response = client_for(alex).post(
        reverse("desk:ticket_new"),
        {
            "requester": "stranger@nowhere.example",
            "service": service.pk,
            "type": "incident",
            "subject": "x",
            "body": "y",
            "urgency": "low",
            "impact": "low",
        },
    )
    assert response.status_code == 422
    assert "No contact has this email" in response.content.decode()
    assert not Ticket.objects.exists()


def test_customers_cannot_open_the_staff_form(carol: Any) -> None:
    assert client_for(carol).get(reverse("desk:ticket_new")).status_code == 403


def test_the_history_says_states_and_priorities_in_words(alex: Any, carol_person: Any, service: Any) -> None:
    ticket = make_ticket(carol_person, service, impact="high", urgency="high")
    client = client_for(alex)
    client.post(reverse("desk:ticket_status", args=[ticket.public_id]), {"status": "waiting_customer"})
    page = client.get(reverse("desk:ticket", args=[ticket.public_id])).content.decode()
    history = page.split('class="timeline"')[1].split("</ol>")[0]
    assert "Created</strong>: priority P1 critical" in history
    assert "→ Waiting on customer" in history
    assert "waiting_customer" not in history and "→ p1" not in history

"""Done means (issue 4, email): portal ticket → agent answers → the customer's mail carries the answer →
the customer answers by email through the webhook → the answer is on the ticket → the agent resolves it."""

from __future__ import annotations

import urllib.request
from typing import Any

import pytest

from serviceloop.accounts.testing import PASSWORD
from serviceloop.desk.models import InboundMail, Ticket
from serviceloop.relationships.models import Person


def sign_in(page: Any, base: str, email: str, next_path: str) -> None:
    page.goto(f"{base}/accounts/login/?next={next_path}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.browser
def test_a_ticket_answered_by_email_round_trips_through_smtp_and_the_webhook(
    live_server: Any, page: Any, browser: Any, smtp_server: Any, settings: Any, carol_person: Person, alex: Any
) -> None:
    settings.SITE_URL = live_server.url
    settings.SERVICELOOP_MAIL_WEBHOOK_SECRET = "webhook-secret"

    # The customer opens a ticket in the portal.
    sign_in(page, live_server.url, "carol@acme.example", "/desk/portal/new/")
    page.get_by_label("Subject").fill("Shared mailbox not syncing")
    page.get_by_label("Description").fill("Since Monday the finance mailbox shows no new mail.")
    page.get_by_role("button", name="Open ticket").click()
    page.get_by_text("Shared mailbox not syncing").first.wait_for()
    ticket = Ticket.objects.get()
    [ack] = smtp_server.wait_for(1)
    assert ack["Subject"] == f"[{ticket.reference}] We have received your request"

    # An agent answers it from the desk.
    agent = browser.new_page()
    sign_in(agent, live_server.url, "alex@provider.example", f"/desk/tickets/{ticket.public_id}/")
    agent.get_by_label("Your reply").fill("Please remove and re-add the mailbox in Outlook.")
    agent.get_by_role("button", name="Add", exact=True).click()
    agent.get_by_text("Please remove and re-add the mailbox").first.wait_for()

    # The customer's mail carries the answer.
    reply = smtp_server.wait_for(2)[1]
    assert reply["To"] == "carol@acme.example"
    assert "Please remove and re-add the mailbox in Outlook." in reply.get_body(("plain",)).get_content()

    # The customer answers by email, through the webhook, as a mail client would.
    answer = (
        f"From: Carol Customer <carol@acme.example>\r\nTo: {reply['Reply-To']}\r\n"
        f"Subject: Re: {reply['Subject']}\r\nMessage-ID: <carol-answer-1@acme.example>\r\n"
        f"In-Reply-To: {reply['Message-ID']}\r\nReferences: {reply['References']} {reply['Message-ID']}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "That fixed it, thank you!\r\n\r\nOn Tuesday the desk wrote:\r\n> Please remove and re-add the mailbox.\r\n"
    ).encode()
    request = urllib.request.Request(
        f"{live_server.url}/api/desk/mail/inbound",
        data=answer,
        method="POST",
        headers={"Content-Type": "message/rfc822", "X-Serviceloop-Mail-Secret": "webhook-secret"},
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        assert response.status == 202  # stored; the (eager) worker applied it at the commit
    assert InboundMail.objects.get().outcome == "replied"
    assert ticket.messages.filter(body="That fixed it, thank you!", channel="email").exists()

    # The agent sees the answer on the same ticket and resolves it.
    agent.reload()
    agent.get_by_text("That fixed it, thank you!").wait_for()
    agent.get_by_label("Status").select_option("resolved")
    agent.get_by_label("Resolution").fill("Mailbox re-added in Outlook.")
    agent.get_by_role("button", name="Change state").click()
    agent.get_by_text("State changed.").wait_for()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolution) == ("resolved", "Mailbox re-added in Outlook.")
    resolved = [
        m for m in smtp_server.wait_for(3) if "Mailbox re-added in Outlook." in m.get_body(("plain",)).get_content()
    ]
    assert len(resolved) == 1 and resolved[0]["To"] == "carol@acme.example"

"""Subscribers hear of public updates and maintenance: the right people, once, threaded.

Incidents and updates are written with the ORM and their events recorded as the incidents services
record them; the events are delivered as the worker does after commit, and mail arrives at a real
SMTP server on loopback.
"""

from __future__ import annotations

from typing import Any

import pytest

from serviceloop.core.events import event_dispatch
from serviceloop.core.models import EventDelivery, OutgoingMail
from serviceloop.incidents import events
from serviceloop.incidents.models import Incident
from serviceloop.incidents.tests.factories_subs import (
    make_component,
    make_email_subscription,
    make_incident,
    make_maintenance,
    post_update,
    record_maintenance,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Any:
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def mail() -> Any:
    return make_component("Email").service


@pytest.fixture
def vpn() -> Any:
    return make_component("VPN").service


def _text(message: Any) -> str:
    return str(message.get_body(("plain",)).get_content())


def test_a_public_update_mails_the_followers_of_its_services_and_of_everything(
    mail: Any, vpn: Any, smtp_server: Any, commit: Any
) -> None:
    make_email_subscription("all@example.org")
    make_email_subscription("mail@example.org", mail)
    make_email_subscription("vpn@example.org", vpn)
    make_email_subscription("unconfirmed@example.org", confirmed=False)
    left = make_email_subscription("left@example.org")
    left.unsubscribed_at = left.created_at
    left.save()
    incident = make_incident(mail)
    with commit():
        post_update(incident, "Mail is delayed by about 20 minutes.")
    messages = smtp_server.wait_for(2)
    assert sorted(str(m["To"]) for m in messages) == ["all@example.org", "mail@example.org"]
    message = smtp_server.to("mail@example.org")[0]
    text = _text(message)
    assert "Mail is delayed by about 20 minutes." in text
    assert "Investigating" in text and incident.reference in str(message["Subject"])
    assert f"http://testserver/status/incidents/{incident.public_id}/" in text
    assert "/status/subscribe/unsubscribe/" in text and "/status/subscribe/manage/" in text
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.parametrize(
    "change",
    [
        {"audiences": ["internal", "customers"]},
        {"deliver_notifications": False},
        {"visibility": Incident.Visibility.CUSTOMERS},
    ],
    ids=["not-for-the-public", "notifications-off", "incident-not-public"],
)
def test_updates_not_for_the_public_page_mail_nobody(mail: Any, change: dict[str, Any], commit: Any) -> None:
    make_email_subscription("all@example.org")
    incident = make_incident(mail, visibility=change.pop("visibility", Incident.Visibility.PUBLIC))
    with commit():
        post_update(incident, **change)
    assert not OutgoingMail.objects.exists()


def test_a_redelivered_event_mails_nobody_twice(mail: Any, commit: Any) -> None:
    make_email_subscription("all@example.org")
    incident = make_incident(mail)
    with commit():
        _, event = post_update(incident)
    assert OutgoingMail.objects.count() == 1
    # The worker died after the mail was queued but before it marked the delivery: it runs again.
    EventDelivery.objects.filter(event=event).update(status=EventDelivery.Status.PENDING)
    type(event).objects.filter(pk=event.pk).update(completed_at=None)
    event_dispatch(event_id=event.pk)
    assert OutgoingMail.objects.count() == 1


def test_later_updates_thread_under_the_first(mail: Any, smtp_server: Any, commit: Any) -> None:
    make_email_subscription("all@example.org")
    incident = make_incident(mail)
    with commit():
        post_update(incident, "Looking into it.")
    with commit():
        post_update(incident, "Found it: a full disk.", status=Incident.Status.IDENTIFIED)
    first, second = smtp_server.wait_for(2)
    assert "In-Reply-To" not in first
    assert str(second["In-Reply-To"]).strip() == str(first["Message-ID"]).strip()
    assert str(second["References"]).strip() == str(first["Message-ID"]).strip()
    assert "Identified" in str(second["Subject"])


@pytest.mark.parametrize(
    ("event_name", "heading"),
    [
        (events.MAINTENANCE_SCHEDULED, "Scheduled maintenance"),
        (events.MAINTENANCE_NOTICE, "Reminder: maintenance starts soon"),
        (events.MAINTENANCE_STARTED, "Maintenance in progress"),
        (events.MAINTENANCE_COMPLETED, "Maintenance completed"),
    ],
)
def test_each_maintenance_event_mails_the_followers(
    mail: Any, vpn: Any, event_name: str, heading: str, smtp_server: Any, commit: Any
) -> None:
    make_email_subscription("mail@example.org", mail)
    make_email_subscription("vpn@example.org", vpn)
    maintenance = make_maintenance(mail)
    with commit():
        record_maintenance(maintenance, event_name)
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "mail@example.org"
    assert str(message["Subject"]).startswith(f"{heading}: Mail server upgrade")
    text = _text(message)
    assert f"{maintenance.scheduled_for:%Y-%m-%d %H:%M}" in text
    assert "Email" in text


def test_maintenance_mails_thread_under_the_announcement(mail: Any, smtp_server: Any, commit: Any) -> None:
    make_email_subscription("all@example.org")
    maintenance = make_maintenance(mail)
    with commit():
        record_maintenance(maintenance, events.MAINTENANCE_SCHEDULED)
    with commit():
        record_maintenance(maintenance, events.MAINTENANCE_STARTED)
    announcement, started = smtp_server.wait_for(2)
    assert str(started["In-Reply-To"]).strip() == str(announcement["Message-ID"]).strip()


def test_a_private_maintenance_mails_nobody(mail: Any, commit: Any) -> None:
    make_email_subscription("all@example.org")
    maintenance = make_maintenance(mail, visibility=Incident.Visibility.INTERNAL)
    with commit():
        record_maintenance(maintenance, events.MAINTENANCE_SCHEDULED)
    assert not OutgoingMail.objects.exists()


def test_a_reschedule_and_a_cancellation_each_reach_the_followers_as_what_they_are(
    mail: Any, smtp_server: Any, commit: Any
) -> None:
    from django.db import transaction

    from serviceloop.core.events import event_record

    make_email_subscription("all@example.org")
    maintenance = make_maintenance(mail)
    with commit():
        record_maintenance(maintenance, events.MAINTENANCE_SCHEDULED)
    for data in ({"rescheduled": True}, {"cancelled": True}):
        with commit(), transaction.atomic():
            event_record(
                events.MAINTENANCE_SCHEDULED if "rescheduled" in data else events.MAINTENANCE_COMPLETED,
                subject=maintenance,
                incident_id=maintenance.pk,
                status=maintenance.status,
                **data,
            )
    announcement, rescheduled, cancelled = smtp_server.wait_for(3)
    assert str(rescheduled["Subject"]).startswith("Rescheduled maintenance: Mail server upgrade")
    assert str(cancelled["Subject"]).startswith("Maintenance cancelled: Mail server upgrade")
    assert str(cancelled["In-Reply-To"]).strip() == str(announcement["Message-ID"]).strip()
